"""Regenerate the figures of the README (docs/figures/*.png) from configs/zhipu_2026.toml.

Simulates the config as ``simval run`` does (its own paths, seed and kept paths unless told
otherwise) and draws, with the public :mod:`simval.plot` API only:

- ``zhipu_value_distribution.png``: PV against today's valuation, every scenario;
- ``zhipu_revenue_fan.png``: the base case's revenue fan with the revenue that would justify
  the valuation and the article's own revenue claims as markers;
- ``zhipu_scenarios.png``: P(justified) and P(collapse) of every scenario (forest plot);
- ``zhipu_survival.png``: collapse, bankruptcy and the $20B line over time;
- ``zhipu_market_value_fan.png``: the base case's market value fan.

Run: ``python experiments/readme_figures.py [--paths N] [--out DIR]`` (about 15 s on two cores
with numba's cache warm).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

import simval

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "zhipu_2026.toml"
DPI = 110

# The article's revenue claims (seeds/000, quoted in the config's comments), in yuan at its
# 7.14 CNY/USD: the 2026 prediction "Zhipu will announce a $10 billion revenue run rate" and
# the test "it must capture 25% of a $250 billion market by 2030" (TAM points sit on 1 July).
FX = 7.14
ARTICLE_MARKERS = [
    ("2026-12-31", 10e9 * FX, "article: $10B run rate (its 2026 prediction)"),
    ("2030-07-01", 0.25 * 250e9 * FX, "article: 25% of a $250B market (2030)"),
]


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=DPI, facecolor="white")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, help="paths per scenario (default: the config's)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ds = simval.simulate(CONFIG, n_paths=args.paths)

    fig = Figure(figsize=(10, 7.6), layout="constrained")
    simval.plot.value_distribution(ds, ax=fig.subplots())
    _save(fig, args.out / "zhipu_value_distribution.png")

    fig = Figure(figsize=(10, 5.2), layout="constrained")
    ax = simval.plot.fan(ds, "total_revenue", scenario="base", ax=fig.subplots(),
                         markers=ARTICLE_MARKERS)
    ax.set_title("Zhipu AI, base case: total revenue against what would justify ¥1T",
                 loc="left")
    _save(fig, args.out / "zhipu_revenue_fan.png")

    fig = Figure(figsize=(10, 5.2), layout="constrained")
    simval.plot.scenario_comparison(ds, ax=fig.subplots())
    _save(fig, args.out / "zhipu_scenarios.png")

    fig = Figure(figsize=(10, 5.2), layout="constrained")
    simval.plot.survival(ds, ax=fig.subplots(), events=("collapse", "bankrupt"))
    _save(fig, args.out / "zhipu_survival.png")

    fig = Figure(figsize=(10, 5.2), layout="constrained")
    simval.plot.fan(ds, "market_value", scenario="base", ax=fig.subplots())
    _save(fig, args.out / "zhipu_market_value_fan.png")


if __name__ == "__main__":
    main()
