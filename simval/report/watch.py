"""The report's "What to watch" section (the headline numbers conditional on each signal of
the config) and its "Weighted scenarios" section (the scenario-weighted mixture)."""

from __future__ import annotations

import xarray as xr

from simval.format import format_mean, format_number, format_percent, format_probability
from simval.report.sections import Section, Table

__all__ = ["watch_sections"]


def _watch(ds: xr.Dataset) -> Section | None:
    if "p_signal" not in ds:
        return None
    header = ["scenario: signal", "P(signal)", "P(collapse | signal)",
              "P(collapse | no signal)", "E[PV]/V0 | signal", "E[PV]/V0 | no signal",
              "P(PV ≥ V0 | signal)", "P(PV ≥ V0 | no signal)"]
    rows = []
    for scen in ds.scenario.values:
        for sig in ds.signal.values:
            s = ds.sel(scenario=scen, signal=sig)
            rows.append([f"{scen}: {s.signal_label.values}", format_probability(s, "p_signal"),
                         format_probability(s, "p_collapse_given_signal"),
                         format_probability(s, "p_collapse_given_no_signal"),
                         format_mean(float(s.value_ratio_given_signal),
                                     float(s.value_ratio_given_signal_se)),
                         format_mean(float(s.value_ratio_given_no_signal),
                                     float(s.value_ratio_given_no_signal_se)),
                         format_probability(s, "p_justified_given_signal"),
                         format_probability(s, "p_justified_given_no_signal")])
    text = ("How the answer moves when news arrives: each signal of the config ([signals]) is "
            "an event observable early on a path; the table gives its probability and the "
            "headline numbers over the paths that show it and over those that do not. "
            "Probabilities with 95% Clopper-Pearson intervals (k paths with both events of n "
            "paths in the condition); means ± 1 standard error.")
    return Section("what-to-watch", "What to watch",
                   [text, Table("what-to-watch", header, rows,
                                "Collapse and bankruptcy by the question horizon; PV to the "
                                "valuation horizon.")])


def _weighted(ds: xr.Dataset) -> Section | None:
    if "weighted_p_collapse" not in ds:
        return None
    rows = []
    for name, label in (("weighted_value_ratio", "E[PV] / V0"),
                        ("weighted_p_collapse", "P(collapse)"),
                        ("weighted_p_bankrupt", "P(bankrupt)"),
                        ("weighted_p_justified", "P(PV ≥ V0)")):
        value, se = float(ds[name]), float(ds[f"{name}_se"])
        low, high = float(ds[f"{name}_low"]), float(ds[f"{name}_high"])
        show = format_percent if name != "weighted_value_ratio" else format_number
        rows.append([label, f"{show(value)} [{show(low)}, {show(high)}]", show(se)])
    weights = ", ".join(f"{scen} {float(w):.3g}" for scen, w in
                        zip(ds.scenario.values, ds.scenario_weight.values, strict=True))
    blocks: list = [f"The scenarios mixed with the config's weights ({weights}): each number "
                    "is the weighted sum of the scenarios' numbers. The scenarios share their "
                    "random numbers, so the standard error comes from the weighted sums over "
                    "independent batches of 256 paths."]
    if ds.attrs.get("scenario_weights_note"):
        blocks.append(str(ds.attrs["scenario_weights_note"]))
    blocks.append(Table("weighted", ["", "estimate [95% interval]", "s.e."], rows))
    return Section("weighted-scenarios", "Weighted scenarios", blocks)


def watch_sections(ds: xr.Dataset) -> list[Section]:
    """The "Weighted scenarios" and "What to watch" sections, where the run has weights and
    signals."""
    return [s for s in (_weighted(ds), _watch(ds)) if s is not None]
