"""Calibrated uncertainty: Zhipu's commercial revenue dynamics borrowed from a listed company's
quarterly history, then the two-level valuation.

Step 1 (calibration): fit the Schwartz–Moon revenue process to a shipped quarterly revenue
history (default ``data/palantir.csv``) by Kalman-filter maximum likelihood (``simval
calibrate``), holding what the history does not identify at the Zhipu config's values.
Step 2 (priors): the estimates of the *dynamics* (long-run growth, reversion speed if
estimated, revenue and growth volatility) and their covariance become the ``[uncertainty]``
priors of a copy of ``configs/zhipu_2026.toml``. Today's growth rate and revenue level are not
carried over: they are Zhipu's own (the article's), not the comparable's. The calibrated model
has constant volatilities, so the copy sets ``volatility_decay`` and ``growth_volatility_decay``
to 0 (σ and η stay at their drawn values instead of drifting to the config's long-run ones).
Step 3 (valuation): ``simval.simulate`` on that config, a two-level run (outer draws of the
parameters, inner paths per draw) whose headline numbers are predictive. The two-level run is
isolated in :func:`two_level_valuation`; where the installed simval does not run ``[uncertainty]``
tables it says so and stops after writing the config.

Writes DIR/zhipu_2026_calibrated.toml (and DIR/results.nc when the valuation runs), and prints
the calibration, the priors and the conclusion.

Run: ``python experiments/calibrated_valuation.py [--data CSV] [--draws N] [--paths N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

import simval
from simval.research.calibration import calibrate, calibration_table, priors_toml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "zhipu_2026.toml"
DYNAMICS = ("commercial.growth_long_run", "commercial.mean_reversion", "commercial.volatility",
            "commercial.growth_volatility")
"""The calibrated keys that carry over to another company (today's growth does not)."""


def calibrated_config(data: Path, config: Path, out_dir: Path, draws: int):
    """Calibrate on ``data`` (holding what it does not identify at ``config``'s values) and write
    a copy of ``config`` with the ``[uncertainty]`` tables of the dynamics' priors; returns the
    calibration and the new config's path."""
    cal = calibrate(data, config=config)
    print(calibration_table(cal))
    keys = [k for k in DYNAMICS if k.split(".")[1] in cal.names]
    table = priors_toml(cal, keys=keys, source=str(data.relative_to(ROOT)
                                                    if data.is_relative_to(ROOT) else data),
                        draws=draws)
    print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{config.stem}_calibrated.toml"
    text = _without_uncertainty(config.read_text(encoding="utf-8"))
    for key in ("volatility_decay", "growth_volatility_decay"):  # constant, as calibrated
        text = re.sub(rf"^{key}\s*=.*$", f"{key} = 0.0  # calibrated: constant", text,
                      count=1, flags=re.MULTILINE)
    path.write_text(text + "\n" + table, encoding="utf-8")
    print(f"config with the calibrated priors written to {path}")
    return cal, path


def _without_uncertainty(text: str) -> str:
    """The config text without its own ``[uncertainty]`` tables (the calibrated ones replace
    them): every line from an ``[uncertainty...]`` header to the next other table."""
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            inside = header.group(1).strip().startswith("uncertainty")
        if not inside:
            kept.append(line)
    return "".join(kept)


def two_level_valuation(path: Path, n_paths: int, out_dir: Path):
    """The two-level run of the calibrated config: the Dataset, or None (with the reason
    printed) where this simval does not run ``[uncertainty]`` tables."""
    try:
        config = simval.load_config(path)
    except simval.ConfigError as exc:
        print("The two-level run is unavailable: this simval does not accept the "
              f"[uncertainty] table ({str(exc).splitlines()[0]}).")
        return None
    ds = simval.simulate_draws(config, n_paths=n_paths, scenarios=["base"])
    simval.save(ds, out_dir / "results.nc", overwrite=True)
    print(simval.headline_table(ds))
    for name in ("p_collapse_by_draw", "p_justified_by_draw", "value_ratio_by_draw"):
        if name in ds:
            values = ds[name]
            if "scenario" in values.dims:
                values = values.isel(scenario=0)
            q = np.nanquantile(values.values.ravel(), [0.05, 0.5, 0.95])
            print(f"{name}: 5/50/95% across draws {q[0]:.3f} / {q[1]:.3f} / {q[2]:.3f}")
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "palantir.csv")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--draws", type=int, default=64)
    parser.add_argument("--paths", type=int, default=4096, help="inner paths per draw")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "experiments"
                        / "calibrated_valuation")
    args = parser.parse_args()
    cal, path = calibrated_config(args.data.resolve(), args.config, args.out, args.draws)
    se = cal.se
    parts = [f"{k} {cal.value(k.split('.')[1]):.3g} ± {se[k.split('.')[1]]:.2g}"
             for k in DYNAMICS if k.split(".")[1] in cal.names]
    held = [k for k, why in cal.held.items() if "not identified" in why]
    ds = two_level_valuation(path, args.paths, args.out)
    print(f"Conclusion: {cal.series.name}'s {len(cal.series)} quarters identify "
          + "; ".join(parts)
          + (f" (not identified, held at the config's values: {', '.join(held)})" if held
             else "")
          + ("." if ds is None else "; the headline above is predictive over those priors."))


if __name__ == "__main__":
    main()
