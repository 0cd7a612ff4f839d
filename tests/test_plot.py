"""simval.plot: every figure on a small real result and on edge cases, checked on the Axes.

Each plotting call runs with every warning turned into an error. The checks read the artists
(lines, collections, texts, tick labels), never pixels.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402

import simval  # noqa: E402
from simval.format import format_percent, short_money  # noqa: E402
from simval.plot import style as _style  # noqa: E402

EDGE_CONFIG = """
[company]
name = "Edgeco"
currency = "USD"
as_of = 2026-03-31
valuation = 10e9

[simulation]
horizon_years = 2
valuation_horizon_years = 2
steps_per_year = 4
n_paths = 4096
seed = 11
keep_paths = 0
discount_rate = 0.1

[commercial]
revenue = 1e9
growth = 0.3
growth_long_run = 0.1
mean_reversion = 0.5
volatility = 0.4

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.2e9
cash = 1e9

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 8

[market]
enabled = true
long_run_multiple = 8
mean_reversion = 0.5
volatility = 0.3

[scenarios.base]
[scenarios.hopeless]          # P(justified) = 0: an exit at almost nothing
valuation.exit_multiple_median = 0.001
[scenarios.doomed]            # every path bankrupt in the first quarter
costs.fixed_costs = 50e9
costs.cash = 0.1e9
[scenarios.pricier]           # another V0, so V0 and the collapse level differ by scenario
company.valuation = 20e9
"""
# market size off (market share NaN), no threshold, no kept paths, a scenario with
# P(justified) = 0, one with every path bankrupt, valuations that differ between scenarios

SINGLE_CONFIG = EDGE_CONFIG.split("[scenarios.base]")[0].replace(
    "keep_paths = 0", "keep_paths = 12") + """
[market_size]
enabled = true
points = [[2025, 20e9], [2030, 60e9]]
"""


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def full(full_config):
    return simval.simulate(full_config, n_paths=8192, keep_paths=40)


@pytest.fixture(scope="session")
def edge():
    return simval.simulate(simval.parse_config(EDGE_CONFIG, source="edge.toml"), n_paths=4096)


@pytest.fixture(scope="session")
def single():
    return simval.simulate(simval.parse_config(SINGLE_CONFIG, source="single.toml"),
                           n_paths=4096)


def _quiet(f, *args, **kwargs):
    """Call f with every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = f(*args, **kwargs)
        ax.figure.canvas.draw()  # tick labels, layout: warnings would surface here
    return ax


def _labels(ax, axis="x"):
    """The tick labels shown inside the axis' view."""
    which = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = sorted(which.get_view_interval())
    span = (hi - lo) * 1e-9
    return [t.get_text() for t, loc in zip(which.get_ticklabels(), which.get_majorticklocs(),
                                           strict=True)
            if t.get_text() and lo - span <= loc <= hi + span]


MONEY = re.compile(r"^-?[¥$€£]\d+(\.\d+)?[kMBT]?$")


# ---------------------------------------------------------------------------- import cost

@pytest.mark.slow
def test_import_simval_plot_and_accessor_do_not_import_matplotlib():
    code = ("import sys, simval, simval.plot, simval.report, xarray as xr; "
            "ds = xr.Dataset(); ds.simval; ds.simval.plot; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------- every function runs

CALLS = [
    ("value_distribution", {}),
    ("value_distribution", {"kind": "ecdf"}),
    ("value_distribution", {"log": False}),
    ("fan", {}),
    ("fan", {"variable": "total_revenue"}),
    ("fan", {"variable": "market_share"}),
    ("fan", {"variable": "cash"}),
    ("fan", {"variable": "capacity"}),
    ("survival", {}),
    ("scenario_comparison", {}),
    ("scenario_comparison", {"metrics": ("p_justified", "p_collapse", "p_bankrupt")}),
    ("revenue_mix", {}),
    ("sample_paths", {}),
    ("sample_paths", {"variable": "total_revenue"}),
    ("convergence", {}),
    ("convergence", {"quantity": "p_collapse"}),
]


@pytest.mark.parametrize("which", ["full", "edge", "single"])
@pytest.mark.parametrize(("name", "kwargs"), CALLS, ids=[f"{n}-{i}" for i, (n, _) in
                                                          enumerate(CALLS)])
@pytest.mark.slow
def test_every_figure_runs_without_warnings(request, which, name, kwargs):
    ds = request.getfixturevalue(which)
    ax = _quiet(getattr(simval.plot, name), ds, **kwargs)
    assert ax.get_title(loc="left")
    assert ax.get_xlabel() or name in ("fan", "survival", "revenue_mix", "sample_paths")


@pytest.mark.parametrize("scenario", ["hopeless", "doomed", "pricier"])
@pytest.mark.parametrize("name", ["value_distribution", "fan", "survival", "revenue_mix",
                                  "sample_paths", "convergence", "scenario_comparison"])
@pytest.mark.slow
def test_every_figure_runs_for_each_edge_scenario_alone(edge, name, scenario):
    _quiet(getattr(simval.plot, name), edge, scenario=scenario)


def test_the_edge_results_are_the_edge_cases(edge):
    s = edge.sel
    assert float(s(scenario="hopeless").p_justified) == 0.0
    assert float(s(scenario="doomed").p_bankrupt) == 1.0
    assert float(s(scenario="doomed").pv_quantile.max()) == 0.0
    assert edge.sizes["path"] == 0
    assert "threshold" not in edge
    assert np.isnan(edge.market_share_quantile).all()


# ------------------------------------------------------------------------ value distribution

@pytest.mark.parametrize("kind", ["density", "ecdf"])
def test_value_distribution_marks_today_valuation_not_the_collapse_level(full, kind):
    ax = _quiet(simval.plot.value_distribution, full, kind=kind, log=True)
    v0 = float(full.valuation[0])
    level = float(full.collapse_level[0])
    vertical = [tuple(line.get_xdata()) for line in ax.get_lines()
                if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]]
    assert (v0, v0) in vertical
    # the collapse level is a level of the market value, not of PV: not on this axis
    assert (level, level) not in vertical
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert not any("collapse" in t for t in legend)
    if kind == "density" and full.sizes["path"]:  # the histogram says it is the kept paths
        assert f"histogram: the {full.sizes['path']:,} kept paths only" in legend
    assert ax.get_xscale() == "log"
    labels = _labels(ax, "x")
    assert labels and all(MONEY.match(t) and t.startswith("¥") for t in labels), labels
    assert "present value" in ax.get_xlabel() and "CNY" in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.startswith("V0 = ¥50B") for text in legend)


def test_value_distribution_log_axis_when_the_spread_calls_for_it(full):
    q = full.pv_quantile.values
    assert q.max() / q[q > 0].min() < 30
    ax = _quiet(simval.plot.value_distribution, full)
    assert ax.get_xscale() == "linear"
    assert ax.get_xlim()[0] == 0.0
    assert all(MONEY.match(t) for t in _labels(ax, "x"))
    wide = full.copy(deep=True)
    wide["pv_quantile"][0] *= 0.01  # one scenario a hundred times lower: a wide spread
    assert _quiet(simval.plot.value_distribution, wide).get_xscale() == "log"
    assert _quiet(simval.plot.value_distribution, wide, log=False).get_xscale() == "linear"


def test_value_distribution_labels_p_justified_with_its_interval(full):
    ax = _quiet(simval.plot.value_distribution, full)
    assert _labels(ax, "y") == list(full.scenario.values)
    texts = [t.get_text() for t in ax.texts]
    for name in full.scenario.values:
        s = full.sel(scenario=name)
        want = (f"P(justified) {format_percent(float(s.p_justified))} "
                f"[{format_percent(float(s.p_justified_low))}, "
                f"{format_percent(float(s.p_justified_high))}]")
        assert want in texts
        assert want.split(" ", 1)[1] in simval.headline_table(full)


@pytest.mark.parametrize("log", [True, False])
def test_value_distribution_shades_exactly_the_kept_paths_at_or_above_v0(full, log):
    ax = _quiet(simval.plot.value_distribution, full, scenario="base", log=log)
    light, dark = [p for p in ax.patches if isinstance(p, StepPatch)]
    s = full.sel(scenario="base")
    share_justified = float(np.mean(s.path_pv.values >= float(s.valuation)))
    light_h = light.get_data().values - 0.0
    dark_h = dark.get_data().values - 0.0
    edges = dark.get_data().edges
    # heights are shares of kept paths times one common scale (zeros are apart on a log
    # axis); the dark part is exactly the bins at or right of V0
    zeros = float(np.mean(s.path_pv.values <= 0)) if log else 0.0
    scale = light_h.sum() / (1 - zeros)
    assert dark_h.sum() / scale == pytest.approx(share_justified)
    assert np.all(dark_h[edges[:-1] < float(s.valuation)] == 0)


def test_value_distribution_ecdf_diamond_is_one_minus_p_justified(full):
    ax = _quiet(simval.plot.value_distribution, full, kind="ecdf", scenario="calm_market")
    s = full.sel(scenario="calm_market")
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert len(diamonds) == 1
    assert diamonds[0].get_xdata()[0] == float(s.valuation)
    assert diamonds[0].get_ydata()[0] == pytest.approx(1 - float(s.p_justified))
    steps = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    assert steps and steps[0].get_ydata()[-1] == 1.0


def test_value_distribution_without_kept_paths_and_all_bankrupt(edge):
    ax = _quiet(simval.plot.value_distribution, edge, log=True)
    assert not [p for p in ax.patches if isinstance(p, StepPatch)]  # no histogram
    # the bankrupt scenario's quantiles are all 0: triangles on the left edge
    left = ax.get_xlim()[0]
    assert any(line.get_marker() == "<" and line.get_xdata()[0] == left
               for line in ax.get_lines())
    # V0 differs between scenarios: one V0 segment per row, at each scenario's V0
    v0_segments = [seg[0][0] for c in ax.collections
                   if isinstance(c, LineCollection) and c.get_zorder() == 7
                   for seg in c.get_segments()]
    assert sorted(v0_segments) == sorted(edge.valuation.values.tolist())
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "P(justified) 0.0% [0.0%" in texts


# ------------------------------------------------------------------------------------ fan

def test_fan_has_both_bands_and_the_median(full):
    ax = _quiet(simval.plot.fan, full, "market_value", scenario="harsh_chips")
    s = full.sel(scenario="harsh_chips").market_value_quantile
    bands = {c.get_label(): c for c in ax.collections if isinstance(c, PolyCollection)}
    assert set(bands) == {"5-95% of paths", "25-75% of paths"}
    for label, (lo, hi) in {"5-95% of paths": (0.05, 0.95),
                            "25-75% of paths": (0.25, 0.75)}.items():
        y = bands[label].get_paths()[0].vertices[:, 1]
        assert y.min() == pytest.approx(float(s.sel(quantile=lo).min()))
        assert y.max() == pytest.approx(float(s.sel(quantile=hi).max()))
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    np.testing.assert_allclose(median.get_ydata(), s.sel(quantile=0.5).values)
    assert len(median.get_xdata()) == full.sizes["time"]
    assert np.issubdtype(np.asarray(median.get_xdata()).dtype, np.datetime64)  # real dates
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["median", "25-75% of paths", "5-95% of paths"]
    assert "V0 = ¥50B (today's valuation)" in legend
    assert "threshold B = ¥20B" in legend
    v0_line = next(line for line in ax.get_lines() if line.get_label().startswith("V0"))
    assert set(v0_line.get_ydata()) == {50e9}
    labels = _labels(ax, "y")
    assert labels and all(MONEY.match(t) for t in labels), labels
    assert "CNY" in ax.get_ylabel() and "log scale" in ax.get_ylabel()


def test_fan_revenue_marks_required_revenue_and_extra_markers(full):
    markers = [("2027-06-30", 3e9, "a forecast")]
    ax = _quiet(simval.plot.fan, full, "total_revenue", markers=markers)
    star = next(line for line in ax.get_lines() if line.get_marker() == "*")
    assert star.get_ydata()[0] == float(full.required_revenue.sel(scenario="base"))
    forecast = next(line for line in ax.get_lines() if line.get_label() == "a forecast")
    assert forecast.get_ydata()[0] == 3e9
    assert "CNY/year" in ax.get_ylabel()


def test_fan_market_share_is_a_percentage_or_says_market_size_is_off(full, edge):
    ax = _quiet(simval.plot.fan, full, "market_share")
    labels = _labels(ax, "y")
    assert labels and all(t.endswith("%") for t in labels)
    ax = _quiet(simval.plot.fan, edge, "market_share")
    assert not ax.get_lines()
    assert any("market size is off" in t.get_text() for t in ax.texts)


def test_fan_of_an_all_bankrupt_scenario(edge):
    ax = _quiet(simval.plot.fan, edge, scenario="doomed")
    assert ax.get_yscale() == "log"
    low = ax.get_ylim()[0]
    median = next(line for line in ax.get_lines() if line.get_label() == "median")
    assert (median.get_ydata()[1:] < low).all()  # zero after bankruptcy: below the axis


# ------------------------------------------------------------------------------- survival

def test_survival_curves_end_at_the_headline_probabilities(full):
    ax = _quiet(simval.plot.survival, full)
    for name in full.scenario.values:
        s = full.sel(scenario=name)
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert lines[f"{name}: collapse"].get_ydata()[-1] == float(s.p_collapse)
        assert lines[f"{name}: bankrupt"].get_ydata()[-1] == float(s.p_bankrupt)
        assert lines[f"{name}: collapse"].get_ydata()[0] == 0.0
        np.testing.assert_array_equal(lines[f"{name}: above_threshold"].get_ydata(),
                                      s.p_above_threshold.values)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == list(full.scenario.values)
    assert "collapsed (V ≤ ¥10B)" in legend
    labels = _labels(ax, "y")
    assert labels == ["0%", "25%", "50%", "75%", "100%"]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 3 * full.sizes["scenario"]  # an interval band per curve


def test_survival_without_threshold(edge):
    ax = _quiet(simval.plot.survival, edge)
    assert not [line for line in ax.get_lines() if "above_threshold" in line.get_label()]
    with pytest.raises(ValueError, match="threshold"):
        simval.plot.survival(edge, events=["above_threshold"])


# ----------------------------------------------------------------------- scenario comparison

def test_scenario_comparison_is_a_forest_of_every_scenario(full):
    ax = _quiet(simval.plot.scenario_comparison, full)
    names = list(full.scenario.values)
    assert _labels(ax, "y") == names
    colors = _style.scenario_colors(full)
    assert [t.get_color() for t in ax.get_yticklabels()] == [colors[n] for n in names]
    headline = simval.headline_table(full)
    texts = [t.get_text() for t in ax.texts]
    for name in names:
        s = full.sel(scenario=name)
        for var in ("p_justified", "p_collapse"):
            text = (f"{format_percent(float(s[var]))} "
                    f"[{format_percent(float(s[var + '_low']))}, "
                    f"{format_percent(float(s[var + '_high']))}]")
            assert text in texts and text in headline
    circles = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert sorted(float(c.get_xdata()[0]) for c in circles) == sorted(
        full.p_justified.values.tolist())
    # a symmetric-log axis: small probabilities apart from 0 and from each other
    assert ax.get_xscale() == "symlog"
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "0%" and ticks[-3:] == ["1%", "10%", "100%"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["P(justified: PV ≥ V0)", "P(collapse: V ≤ ¥10B by T)"]


def test_scenario_comparison_threshold_metric(full, edge):
    ax = _quiet(simval.plot.scenario_comparison, full,
                metrics=("p_justified", "p_above_threshold"))
    assert any(t.get_text().startswith("P(V_T ≥ B)") for t in ax.texts)
    with pytest.raises(ValueError, match="threshold"):
        simval.plot.scenario_comparison(edge, metrics=("p_above_threshold",))


# -------------------------------------------------------------------- revenue, paths, runs

def test_revenue_mix_lines_are_the_medians(full):
    ax = _quiet(simval.plot.revenue_mix, full, scenario="calm_market")
    s = full.sel(scenario="calm_market")
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    for label, var in (("total (median)", "total_revenue"),
                       ("commercial (median)", "commercial_revenue"),
                       ("all contracts (median)", "contract_revenue")):
        np.testing.assert_allclose(lines[label], s[f"{var}_quantile"].sel(quantile=0.5))
    # one line per named contract and one for the expansion programme
    for source in s.source.values:
        label = ("expansion programme (median)" if source == "expansion"
                 else f"contract {source} (median)")
        np.testing.assert_allclose(lines[label],
                                   s.source_revenue_quantile.sel(source=source, quantile=0.5))
    assert "CNY/year" in ax.get_ylabel()
    assert all(MONEY.match(t) for t in _labels(ax, "y"))


def test_sample_paths_marks_collapses_and_bankruptcies(full):
    ax = _quiet(simval.plot.sample_paths, full, scenario="harsh_chips", n=40)
    s = full.sel(scenario="harsh_chips")
    assert sum(line.get_gid() == "path" for line in ax.get_lines()) == 40
    collapse = s.path_collapse_time.values
    bankrupt = s.path_bankruptcy_time.values
    expected = int(np.sum(np.isfinite(collapse) & ~(collapse >= np.nan_to_num(bankrupt,
                                                                              nan=np.inf))))
    by_label = {line.get_label().split(" (")[0]: line for line in ax.get_lines()}
    if expected:
        assert len(by_label["collapse"].get_xdata()) == expected
    if np.isfinite(bankrupt).any():
        assert len(by_label["bankruptcy"].get_xdata()) == int(np.isfinite(bankrupt).sum())


def test_sample_paths_without_kept_paths_says_so(edge):
    ax = _quiet(simval.plot.sample_paths, edge)
    assert not ax.get_lines()
    assert any("keep_paths = 0" in t.get_text() for t in ax.texts)


def test_convergence_follows_the_blocks(full, single):
    ax = _quiet(simval.plot.convergence, full)
    x = [line.get_xdata() for line in ax.get_lines()]
    for xs in x:
        np.testing.assert_array_equal(xs, full.block_end.values)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(full.scenario.values)
    ax = _quiet(simval.plot.convergence, single)  # a single block: a point with its interval
    assert len(ax.get_lines()[0].get_xdata()) == 1


# ---------------------------------------------------------------------- colours, accessor

def test_a_scenario_keeps_its_colour_in_a_run_of_some_scenarios(full, full_config):
    alone = simval.simulate(full_config, n_paths=4096, keep_paths=0,
                            scenarios=["harsh_chips"])
    assert _style.scenario_colors(alone) == {"harsh_chips": _style.scenario_colors(full)[
        "harsh_chips"]}
    a = _quiet(simval.plot.survival, full).get_lines()
    b = _quiet(simval.plot.survival, alone).get_lines()
    colour = {line.get_label(): line.get_color() for line in a}
    assert b[0].get_color() == colour["harsh_chips: collapse"]
    assert len(set(_style.scenario_colors(full).values())) == full.sizes["scenario"]


def test_accessor_forwards_to_the_plot_functions(full):
    ax = _quiet(full.simval.plot.fan, "cash", scenario="calm_market")
    direct = _quiet(simval.plot.fan, full, "cash", scenario="calm_market")
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(),
                                  direct.get_lines()[0].get_ydata())
    for name in simval.plot.__all__:
        assert callable(getattr(full.simval.plot, name))
    assert full.simval.headline_table() == simval.headline_table(full)


def test_figures_draw_on_the_given_axes(full):
    fig, axes = plt.subplots(1, 2)
    assert simval.plot.survival(full, ax=axes[1]) is axes[1]
    assert simval.plot.fan(full, ax=axes[0]) is axes[0]


@pytest.mark.parametrize(("call", "match"), [
    (lambda ds: simval.plot.fan(ds, "nope"), "no series"),
    (lambda ds: simval.plot.fan(ds, scenario="nope"), "no scenario"),
    (lambda ds: simval.plot.fan(ds, scenario=["base", "calm_market"]), "one scenario"),
    (lambda ds: simval.plot.survival(ds, events=["nope"]), "unknown event"),
    (lambda ds: simval.plot.value_distribution(ds, kind="nope"), "kind"),
    (lambda ds: simval.plot.scenario_comparison(ds, metrics=["nope"]), "unknown metric"),
    (lambda ds: simval.plot.convergence(ds, "nope"), "unknown quantity"),
])
def test_bad_arguments_say_what_is_wrong(full, call, match):
    with pytest.raises(ValueError, match=match):
        call(full)


def test_short_money_ticks():
    assert short_money(1e12, "CNY") == "¥1T"
    assert short_money(62.5e9, "USD") == "$62.5B"
    assert short_money(143e9, "CNY") == "¥143B"
    assert short_money(0.0, "EUR") == "€0"


def test_percent_ticks_show_the_digits_their_step_needs():
    fig, ax = plt.subplots()
    _style.percent_axis(ax.xaxis)
    for (lo, hi), step in (((-0.1, 0.06), 0.025), ((0.0, 1.0), 0.25), ((0.0, 0.004), 0.0005),
                           ((-0.1, 0.1), 0.05)):
        ax.set_xlim(lo, hi)
        ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(step))
        fig.canvas.draw()
        shown = [(t.get_text(), loc) for t, loc in zip(ax.xaxis.get_ticklabels(),
                                                       ax.xaxis.get_majorticklocs(), strict=True)
                 if lo - 1e-12 <= loc <= hi + 1e-12]
        assert len(shown) >= 3
        # every label reads back as its tick: no "-8%" for -7.5%, no "2%" for 2.5%
        for text, loc in shown:
            assert float(text.rstrip("%")) / 100 == pytest.approx(loc, abs=1e-12), (text, loc)
    ax.set_xlim(-0.1, 0.06)
    ax.xaxis.set_major_locator(matplotlib.ticker.MultipleLocator(0.025))
    fig.canvas.draw()
    assert "-7.5%" in _labels(ax) and "2.5%" in _labels(ax) and "-10.0%" in _labels(ax)


# ----------------------------------------------------------------------------- panel figure

PANEL_COMPANY = """
[company]
name = "{name}"
currency = "CNY"
as_of = 2026-01-01
valuation = {v0}

[simulation]
horizon_years = 2
valuation_horizon_years = 2
steps_per_year = 4
n_paths = 4096
seed = 5
keep_paths = 0
discount_rate = 0.1

[commercial]
revenue = 1e9
growth = 0.2
growth_long_run = 0.1
volatility = 0.5

[costs]
variable_cost_ratio = 0.5
fixed_costs = 0.0
cash = 1e9

[valuation]
terminal_method = "ev_sales"
exit_multiple_median = 10

[market]
enabled = true
long_run_multiple = 10

[regime]
enabled = true
hazard_normal_to_slowdown = 0.5
hazard_slowdown_to_normal = 0.5

[slowdown.market]
long_run_multiple = 4
"""


@pytest.fixture(scope="session")
def panel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("panel")
    for name, v0 in (("a", 10e9), ("b", 12e9), ("c", 9e9)):
        (folder / f"{name}.toml").write_text(PANEL_COMPANY.format(name=name.upper(), v0=v0))
    (folder / "panel.toml").write_text('[panel]\nname = "Plot panel"\n'
                                       'companies = ["a.toml", "b.toml", "c.toml"]\n'
                                       "threshold = 8e9\n")
    return simval.simulate_panel(folder / "panel.toml")


def test_stays_above_draws_each_company_all_and_independence(panel):
    ax = _quiet(simval.plot.stays_above, panel)
    lines = ax.get_lines()
    companies = [str(c) for c in panel.company.values]
    assert [line.get_label() for line in lines] == [*companies, "all stay above",
                                                   "product of the companies' (if independent)"]
    for line, name in zip(lines, companies, strict=False):
        np.testing.assert_array_equal(line.get_ydata(),
                                      panel.p_stays_above.sel(company=name).values)
    np.testing.assert_array_equal(lines[-2].get_ydata(), panel.p_all_stay_above.values)
    product = np.prod(panel.p_stays_above.values, axis=0)
    np.testing.assert_allclose(lines[-1].get_ydata(), product)
    assert lines[-1].get_linestyle() == "--"
    # Okabe-Ito colours in panel order; an interval band per company and for the joint line
    assert [line.get_color() for line in lines[:3]] == list(_style.OKABE_ITO[:3])
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 4
    assert "¥8B" in ax.get_title(loc="left") and "%" in _labels(ax, "y")[-1]
    # the shared regime makes the joint probability exceed the product at the end
    assert lines[-2].get_ydata()[-1] > product[-1]
    # on given axes, without bands; the accessor forwards
    fig, given = plt.subplots()
    assert simval.plot.stays_above(panel, ax=given, intervals=False) is given
    assert not given.collections
    assert len(panel.simval.plot.stays_above().get_lines()) == 5


def test_stays_above_needs_a_panel_with_a_line(full, panel):
    with pytest.raises(ValueError, match="panel with a threshold"):
        simval.plot.stays_above(full)
    with pytest.raises(ValueError, match="panel with a threshold"):
        simval.plot.stays_above(panel.drop_vars([v for v in panel.data_vars
                                                 if v.startswith("p_stays_above")]))
