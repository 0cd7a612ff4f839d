"""Every stochastic component of simval checked against a closed form.

- :mod:`simval.validation.closed_forms`: the exact discrete-time values (pure numpy/scipy);
- :mod:`simval.validation.rules`: how an estimate is compared with its value (z checks,
  distribution tests, standard errors);
- :mod:`simval.validation.configs`: the small config of each check and its simulation;
- :mod:`simval.validation.checks`: the registered checks and :func:`run_all`.

Use ``run_all(seed)`` or ``CHECKS[name].run(seed)``; ``docs/generate_validation.py`` writes the
table in ``docs/validation.md``.
"""

from simval.validation.checks import CHECKS, Check, CheckResult, run_all

__all__ = ["CHECKS", "Check", "CheckResult", "run_all"]
