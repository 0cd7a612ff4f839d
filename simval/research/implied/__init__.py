"""Market-implied expectations (reverse Monte Carlo): what would have to be true?

:func:`solve` finds the value of one input (long-run commercial growth, the market-share cap, a
renewal probability, the exit multiple, ...) at which a target holds, e.g. P(justified) = 50%
or E[PV]/V_0 = 1, by root finding (:func:`scipy.optimize.brentq`) on common random numbers: for
a fixed seed the simulated target is a deterministic function of the input, so the root finder
sees no noise. Its Monte Carlo error becomes an interval on the input: the equation is solved
again for the target moved by ± z standard errors (the target's standard error at the
solution), which brackets the input values consistent with the simulation. :func:`describe`
says it in words::

    result = solve("configs/zhipu_2026.toml", "commercial.growth_long_run",
                   ("p_justified", 0.5), n_paths=4000)
    print(describe(result))   # ... the article assumed a 25% share of the 2030 market.

The comparison at the end comes from the config's ``[implied.reference]`` table (see
:mod:`simval.config.research`), carried by the result. A result is saved as JSON with
:func:`save_result` (``simval implied`` writes ``results/<config>/implied_*.json``) and read back
with :func:`load_result`; it carries the identity of its config (source, text and hash,
company, as-of date, scenario), so a report can tell whether it belongs to a run.

:func:`reverse_dcf` asks the reverse DCF of expectations investing with it: the initial revenue
growth (reported as the annual growth of median revenue to the question horizon) and the
operating margin at maturity that make E[PV] = V_0; :func:`describe_reverse_dcf` says it in
words (``simval implied CONFIG --reverse-dcf``).

One job a module: :mod:`~simval.research.implied.solver` (:func:`solve`),
:mod:`~simval.research.implied.reverse` (:func:`reverse_dcf`, :class:`ReverseDCF`),
:mod:`~simval.research.implied.result` (:class:`ImpliedResult`, the targets, the JSON form),
:mod:`~simval.research.implied.io` (the files) and :mod:`~simval.research.implied.text` (the
sentences); every public name is importable from here.
"""

from simval.research.implied.io import (
    load_result,
    result_filename,
    reverse_dcf_filename,
    save_result,
)
from simval.research.implied.result import TARGETS, ImpliedResult, parse_target
from simval.research.implied.reverse import GROWTH_KEY, MARGIN_KEY, ReverseDCF, reverse_dcf
from simval.research.implied.solver import median_cagr, solve
from simval.research.implied.text import (
    describe,
    describe_reverse_dcf,
    format_quantity,
    reference_assumptions,
    reference_sentence,
)

__all__ = ["GROWTH_KEY", "MARGIN_KEY", "TARGETS", "ImpliedResult", "ReverseDCF", "describe",
           "describe_reverse_dcf", "format_quantity", "load_result", "median_cagr",
           "parse_target", "reference_assumptions", "reference_sentence", "result_filename",
           "reverse_dcf", "reverse_dcf_filename", "save_result", "solve"]
