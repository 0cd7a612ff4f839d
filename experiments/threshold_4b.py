"""Article 003, "The 4 Billion Yuan Threshold": Zhipu, MiniMax and 01.AI as one panel.

Question 1: the probability that each company stays above the 4 billion yuan line through
2027, and that all three do. They share the macro environment: a slowdown or an export-control
round hits all of them at once (configs/panels/china_ai_2025.toml).
Question 2: how much the article's net-dollar-retention gap (120% above the line, 85% below)
changes that. Each company is rerun with its long-run commercial growth set to ln(1.20) and
then to ln(0.85), on the same random numbers, so the difference is the effect of retention
alone. The standard errors of the differences come from the paired paths.

Writes results/experiments/threshold_4b.nc and a figure beside it, and prints the conclusion.

Run: ``python experiments/threshold_4b.py [--paths N]``
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np

import simval
from simval.panel import simulate_panel
from simval.results.dataset import question_index
from simval.results.summary import panel_table

ROOT = Path(__file__).resolve().parents[1]
PANEL = ROOT / "configs" / "panels" / "china_ai_2025.toml"
RETENTION = {"NDR 120% (above the line)": math.log(1.20),
             "NDR 85% (below the line)": math.log(0.85)}


def _panel_with_growth(growth: float, folder: Path) -> Path:
    """The shipped panel with every company's long-run commercial growth set to ``growth``."""
    text = PANEL.read_text(encoding="utf-8").replace('"../', f'"{ROOT / "configs"}/')
    text += (f"\ncommercial.growth_long_run = {growth!r}\n"
             f"slowdown.commercial.growth_long_run = {growth!r}\n")
    path = folder / f"panel_growth_{growth:+.4f}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _stays_above(ds, threshold: float) -> np.ndarray:
    """Per kept path and company: never below the line (V0 is above it for all three)."""
    return (ds.path_min_value >= threshold).values  # (company, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=40_000)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "experiments")
    args = parser.parse_args()
    n = args.paths

    ds = simulate_panel(PANEL, n_paths=n, keep_paths=0)
    print(panel_table(ds))
    threshold = ds.attrs["panel_threshold"]

    print("Net dollar retention: every company's long-run growth set to the article's two "
          "retention figures (same paths):\n")
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, growth in RETENTION.items():
            runs[label] = simulate_panel(_panel_with_growth(growth, Path(folder)), n_paths=n,
                                         keep_paths=n)
    high, low = (_stays_above(r, threshold) for r in runs.values())
    for c, company in enumerate(ds.company.values):
        diff = high[c].astype(float) - low[c].astype(float)
        se = diff.std(ddof=1) / math.sqrt(n)
        print(f"  {company:<14} P(stays above through 2027): NDR 120% {high[c].mean():6.1%}, "
              f"NDR 85% {low[c].mean():6.1%}; difference {diff.mean():+6.1%} "
              f"(95% CI {diff.mean() - 1.96 * se:+.1%} to {diff.mean() + 1.96 * se:+.1%})")
    both = high.all(axis=0).astype(float) - low.all(axis=0).astype(float)
    se = both.std(ddof=1) / math.sqrt(n)
    print(f"  {'all three':<14} P(all stay above): NDR 120% {high.all(axis=0).mean():6.1%}, "
          f"NDR 85% {low.all(axis=0).mean():6.1%}; difference {both.mean():+6.1%} "
          f"(95% CI {both.mean() - 1.96 * se:+.1%} to {both.mean() + 1.96 * se:+.1%})")

    last = ds.isel(time=question_index(ds))  # the question: through 2027 (T_q), not T_v
    independent = float(np.prod(last.p_stays_above.values))
    order = [str(c) for c in last.p_stays_above.sortby(last.p_stays_above,
                                                       ascending=False).company.values]
    print(f"\nConclusion: through 2027 the model ranks the risk of falling below the 4 billion "
          f"yuan line as {' < '.join(order)} (the article: Zhipu low, MiniMax medium, 01.AI "
          f"high). All three stay above it on {float(last.p_all_stay_above):.1%} of paths "
          f"[{float(last.p_all_stay_above_low):.1%}, {float(last.p_all_stay_above_high):.1%}], "
          f"against {independent:.1%} if their fates were independent"
          f"{together(float(last.p_all_stay_above), independent)}. Retention matters "
          "most where the valuation rests on growth still to come; the revenue of MiniMax and "
          "01.AI is an assumption (the article gives none), so their levels are indicative.")

    args.out.mkdir(parents=True, exist_ok=True)
    simval.save(ds, args.out / "threshold_4b.nc", overwrite=True)
    _figure(ds, args.out / "threshold_4b.png")
    print(f"\nwritten: {args.out / 'threshold_4b.nc'}, {args.out / 'threshold_4b.png'}")


def together(joint: float, independent: float) -> str:
    """What the joint probability says about the shared macro draws."""
    if joint > independent:
        return (": the shared slowdowns and chip rounds make their falls coincide (all three "
                "survive together more often than independent fates would)")
    return ""


def _figure(ds, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for company in ds.company.values:
        s = ds.sel(company=company)
        line, = ax.plot(ds.time.values, s.p_stays_above, label=str(company))
        ax.fill_between(ds.time.values, s.p_stays_above_low, s.p_stays_above_high,
                        color=line.get_color(), alpha=0.2)
    ax.plot(ds.time.values, ds.p_all_stay_above, color="black", linestyle="--",
            label="all three")
    ax.set_ylabel("P(stays above 4 billion yuan so far)")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.set_title("The 4 billion yuan line (seeds/003), shared macro environment")
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
