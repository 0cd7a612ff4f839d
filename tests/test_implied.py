"""Market-implied expectations: roots against closed forms, the Monte Carlo interval,
brackets, targets, the sentence, the ``simval implied`` command."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math

import pytest
from scipy import optimize, special

import simval
from simval.config.load import ConfigError
from simval.config.override import override
from simval.config.research import parse_research_config
from simval.research import cli as research_cli
from simval.research.implied import (
    GROWTH_KEY,
    MARGIN_KEY,
    ImpliedResult,
    ReverseDCF,
    describe,
    describe_reverse_dcf,
    format_quantity,
    load_result,
    parse_target,
    reverse_dcf,
    save_result,
    solve,
)
from simval.results.dataset import question_index
from simval.validation import closed_forms as cf
from tests.conftest import CLOSED_FORM as _BASE  # noqa: E402

# the closed-form model (tests/conftest.py) with a market size, for the share in the sentence
CLOSED_FORM = _BASE + """
[market_size]
enabled = true
points = [[2026, 1e10], [2030, 2e10]]
"""

EXIT = "valuation.exit_multiple_median"
V0, R, T, X, S = 6e8, 0.08, 3.0, 2e8, 0.5


@pytest.fixture(scope="module")
def config() -> simval.Config:
    return simval.parse_config(CLOSED_FORM, source="closed_form.toml")


def log_revenue() -> tuple[float, float]:
    return cf.log_revenue_moments(1e8, 0.3, 0.1, 0.5, 0.3, 0.1, 0.4, 0.25, 12)


def multiple_for_probability(p: float) -> float:
    """Exit multiple at which P(justified) = p: ln M = ln(V0 e^{rT} - X) - m + sd Φ⁻¹(p)."""
    m, v = log_revenue()
    sd = math.sqrt(S**2 + v)
    return math.exp(math.log(V0 * math.exp(R * T) - X) - m - sd * special.ndtri(1 - p))


def multiple_for_value_ratio(ratio: float) -> float:
    """Exit multiple at which E[PV] = ratio V0: e^{-rT}(M e^{s²/2} E[S_T] + X) = ratio V0."""
    m, v = log_revenue()
    return (ratio * V0 * math.exp(R * T) - X) / (math.exp(S**2 / 2 + m + v / 2))


@pytest.fixture(scope="module")
def half(config):
    return solve(config, EXIT, ("p_justified", 0.5), n_paths=4000, seed=2)


def test_probability_one_half_against_the_closed_form(half):
    truth = multiple_for_probability(0.5)
    assert truth == pytest.approx(
        math.exp(math.log(V0 * math.exp(R * T) - X) - log_revenue()[0]))  # Φ⁻¹(1/2) = 0
    assert half.low < truth < half.high, (half.low, truth, half.high)
    assert half.low < half.value < half.high
    assert (half.high - half.low) / truth < 0.15
    # the closed form at the ends of the interval is the target -/+ about 1.96 s.e.
    m, v = log_revenue()
    for end, sign in ((half.low, -1), (half.high, 1)):
        p = cf.justified_probability(m, v, end, S, V0, R, T, X)
        assert abs(p - (0.5 + sign * 1.96 * half.achieved_se)) < 2.5 * half.achieved_se
    # wrong target that the interval must exclude: the median of S_T taken as its mean
    wrong = truth * math.exp(-v / 2)
    assert not half.low < wrong < half.high
    # the solution holds the target: the simulated probability there is within one step
    assert abs(half.achieved - 0.5) <= 2 / 4000
    assert half.achieved_se == pytest.approx(math.sqrt(0.25 / 4000), rel=0.01)
    assert half.base_value == 8.0 and half.unit == "1" and not half.percent
    assert half.n_paths == 4000 and half.seed == 2 and half.scenario == "base"


def test_value_ratio_in_an_explicit_bracket(config):
    result = solve(config, EXIT, "value_ratio=1.5", bracket=(1.0, 10.0), n_paths=4000, seed=2)
    truth = multiple_for_value_ratio(1.5)
    assert result.bracket == (1.0, 10.0)
    assert result.low < truth < result.high, (result.low, truth, result.high)
    assert result.achieved == pytest.approx(1.5, abs=1e-6)  # E[PV] is continuous in M
    assert result.at_solution["value_ratio"] == pytest.approx(result.achieved)
    # wrong target: the lognormal mean factor of the exit multiple left out
    wrong = truth * math.exp(S**2 / 2)
    assert not result.low < wrong < result.high


def test_probability_other_than_one_half(config):
    result = solve(config, EXIT, ("p_justified", 0.8), n_paths=4000, seed=4)
    truth = multiple_for_probability(0.8)
    assert result.low < truth < result.high
    m, v = log_revenue()  # ignoring the exit-multiple dispersion moves the root far out
    wrong = math.exp(math.log(V0 * math.exp(R * T) - X) - m - math.sqrt(v)
                     * special.ndtri(0.2))
    assert not result.low < wrong < result.high


def test_target_not_reached_and_bad_arguments(config):
    with pytest.raises(ValueError, match=r"does not cross 0.5 between .*6.*7"):
        solve(config, EXIT, ("p_justified", 0.5), bracket=(6.0, 7.0), n_paths=500)
    with pytest.raises(ValueError, match="does not reach"):
        solve(config, "commercial.correlation", ("p_justified", 0.999), n_paths=300)
    with pytest.raises(ConfigError, match="'valuation.exit_multiple'"):
        solve(config, "valuation.exit_multiple", ("p_justified", 0.5), n_paths=100)
    with pytest.raises(ConfigError, match="solve needs a numeric key"):
        solve(config, "chips.enabled", ("p_justified", 0.5), n_paths=100)
    with pytest.raises(ConfigError, match=r"\[valuation\].exit_multiple_median must be"):
        solve(config, EXIT, ("p_justified", 0.5), bracket=(-1.0, 10.0), n_paths=100)
    for bad in ("p_justified", "p_justified=1.2", "value_ratio=-1", "pv=1",
                ("p_justified", "x")):
        with pytest.raises(ValueError):
            parse_target(bad)
    assert parse_target(("p_justified", 0.25)) == ("p_justified", 0.25)


def test_describe_in_words(config, half):
    text = describe(half, config, reference="The article assumed 25%.")
    assert text.startswith("Closed form (base): for the valuation of $600M to be justified "
                           "with probability 50%, valuation.exit_multiple_median must be ")
    assert f"{half.value:.4g}" in text and f"{half.low:.4g}" in text
    assert "the config assumes 8." in text
    assert "share of that year's market" in text and "needs $" in text
    assert text.endswith("The article assumed 25%.")
    a = half.at_solution
    assert a["end_date"] == "2029-01-01" and a["horizon_years"] == 3.0
    assert 0 < a["share_median_end"] < 1 and 0 < a["required_share"] < 1
    growth = (a["revenue_median_end"] / a["revenue_start"]) ** (1 / 3) - 1
    assert a["revenue_growth_median"] == pytest.approx(growth)
    assert format_quantity(0.154, "1/year", "CNY", percent=True) == "15.4% a year"
    assert format_quantity(0.5, "1/year", "CNY") == "0.5 per year"
    assert format_quantity(0.85, "1", "CNY", percent=True) == "85%"
    assert format_quantity(2.5e9, "CNY/year", "CNY") == "¥2.50B/year"
    assert format_quantity(17.5, "1", "CNY") == "17.5"


def test_share_cap_is_solved_and_described_as_a_share():
    # a market small enough for the share cap to bind
    small = simval.parse_config(CLOSED_FORM.replace("[[2026, 1e10], [2030, 2e10]]",
                                                    "[[2026, 5e8], [2030, 1e9]]"))
    result = solve(small, "market_size.max_share", ("p_justified", 0.5), n_paths=2000,
                   seed=1)
    assert result.percent and 0 < result.low < result.value < result.high <= 1
    assert result.at_solution["share_median_end"] <= result.value * 1.02  # fan bins: 1.2%
    text = describe(result)
    assert f"market_size.max_share must be {100 * result.value:.3g}% (95% interval" in text
    assert "the config assumes 100%." in text


def _run_cli(argv: list[str]) -> int:
    import simval.cli

    parser = simval.cli._build_parser()
    wired = any("implied" in a.choices for a in parser._actions
                if isinstance(a, argparse._SubParsersAction))
    return simval.cli.main(argv) if wired else research_cli.main(argv)


@pytest.mark.slow
def test_cli_implied(tmp_path, capsys):
    path = tmp_path / "cf.toml"
    path.write_text(CLOSED_FORM)
    out_dir = tmp_path / "out"
    argv = ["implied", str(path), "--solve", EXIT, "--target", "p_justified=0.5",
            "--out", str(out_dir), "--paths", "1000", "--seed", "2"]
    assert _run_cli(argv) == 0
    out = capsys.readouterr().out
    assert "valuation.exit_multiple_median must be" in out and "achieved p_justified" in out
    # the result is written as JSON, named by its key and target, and says where
    written = out_dir / "implied_valuation_exit_multiple_median_p_justified_0_5.json"
    assert out.splitlines()[-1] == f"result written to {written}"
    result = load_result(written)
    assert result.key == EXIT and result.n_paths == 1000 and result.seed == 2
    assert f"{result.value:.6g}" in out and describe(result) in out
    assert result.config_source == str(path) and result.config_text == CLOSED_FORM
    # a second run refuses to overwrite it, before solving; --force replaces it
    before = written.read_bytes()
    assert _run_cli(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert written.read_bytes() == before
    assert _run_cli([*argv[:-4], "--target", "p_justified=2"]) == 2
    assert "must be in (0, 1)" in capsys.readouterr().err
    assert _run_cli([*argv, "--bracket", "6,7", "--force"]) == 2
    assert "widen the bracket" in capsys.readouterr().err
    assert written.read_bytes() == before  # a failed solve writes nothing
    assert _run_cli([*argv, "--bracket", "6"]) == 2  # argparse: LO,HI
    capsys.readouterr()
    assert _run_cli([*argv[:-4], "--paths", "500", "--force"]) == 0
    assert load_result(written).n_paths == 500
    capsys.readouterr()


def test_result_round_trip_and_no_overwrite(half, tmp_path):
    assert math.isfinite(half.low) and half.notes == ()
    # a result with what JSON cannot hold as is: NaN, infinities, tuples, notes
    odd = dataclasses.replace(half, high=math.nan, notes=("that end is open",),
                              at_solution={**half.at_solution, "required_share": math.nan,
                                           "p_collapse": math.inf})
    for result in (half, odd):
        data = result.to_dict()
        text = json.dumps(data, allow_nan=False)  # strict JSON
        back = ImpliedResult.from_dict(json.loads(text))
        assert back.to_dict() == data
        assert back.bracket == result.bracket and isinstance(back.bracket, tuple)
        assert back.notes == result.notes and isinstance(back.notes, tuple)
        assert isinstance(back.n_paths, int) and back.percent is result.percent
    back = ImpliedResult.from_dict(odd.to_dict())
    assert math.isnan(back.high) and back.at_solution["p_collapse"] == math.inf
    assert math.isnan(back.at_solution["required_share"])
    assert back.at_solution["end_date"] == half.at_solution["end_date"]
    # the identity of the config travels with it
    assert half.config_text == CLOSED_FORM and half.config_source == "closed_form.toml"
    assert half.config_sha256 == hashlib.sha256(CLOSED_FORM.encode()).hexdigest()
    assert half.as_of == "2026-01-01" and half.company == "Closed form"
    # saved atomically, read back equal, never overwritten silently
    path = save_result(half, tmp_path / "sub" / "r.json")
    assert load_result(path) == half
    assert not [p for p in path.parent.iterdir() if p.name != "r.json"]  # no temporary left
    with pytest.raises(simval.ResultsExistError, match="overwrite=True"):
        save_result(odd, path)
    assert load_result(path) == half
    save_result(odd, path, overwrite=True)
    assert load_result(path).to_dict() == odd.to_dict()
    # what is not a result says so
    (tmp_path / "junk.json").write_text('{"key": "x"}')
    with pytest.raises(ValueError, match="junk.json: not a simval implied result"):
        load_result(tmp_path / "junk.json")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ValueError, match="not a simval implied result"):
        load_result(tmp_path / "junk.json")
    data = half.to_dict()
    del data["value"]
    with pytest.raises(ValueError, match="without value"):
        ImpliedResult.from_dict(data)
    with pytest.raises(FileNotFoundError):
        load_result(tmp_path / "missing.json")


def test_reference_from_the_config(tmp_path):
    """What a source assumed, declared in [implied.reference], ends the sentence."""
    text = CLOSED_FORM + """
[implied.reference]
by = "the memo"
market_share = 0.25
"valuation.exit_multiple_median" = 12
"""
    research = parse_research_config(text, source="ref.toml")
    assert research.reference == {"by": "the memo", "market_share": 0.25, EXIT: 12.0}
    assert simval.parse_config(text).scenarios  # a run ignores the table
    result = solve(research, EXIT, ("p_justified", 0.5), n_paths=500, seed=2)
    assert result.reference == research.reference
    text_out = describe(result)
    assert text_out.endswith("The memo assumed 12 and a 25% share of the 2029 market.")
    # an explicit reference replaces it; a result for another key shows only the share
    assert describe(result, reference="Else.").endswith("share. Else.")
    other = dataclasses.replace(result, key="commercial.growth_long_run")
    assert describe(other).endswith("The memo assumed a 25% share of the 2029 market.")
    assert describe(dataclasses.replace(result, reference={})).endswith("share.")
    for bad, match in (("market_share = 1.5", r"market_share must be a share"),
                       ("by = 3", r"\.by must be a name"),
                       ('"nope.key" = 1', r"\[implied.reference\] key 'nope.key'"),
                       ("x = 1\n[implied.other]", r"\[implied\].other is not a known key")):
        with pytest.raises(ConfigError, match=match):
            parse_research_config(CLOSED_FORM + f"\n[implied.reference]\n{bad}\n")


def test_automatic_bracket_stays_within_what_the_loader_accepts(config):
    # chips on: the search for a shock rate widens up to the loader's limit (2 expected
    # shocks per quarterly step = 8 a year), never past it, then says the target is not met
    chips = override(config, {"chips.enabled": True, "chips.haircut_distribution": "fixed",
                              "chips.haircut_low": 0.5})
    with pytest.raises(ValueError, match=r"does not reach 0.999 .* and 8 "):
        solve(chips, "chips.shock_rate", ("p_justified", 0.999), n_paths=300)


# --------------------------------------------------------------------------------------------
# reverse DCF: the growth and the terminal margin that make E[PV] = V0

# the closed-form model asked at T_q = 3 and valued at T_v = 5, at a valuation that needs less
# than the configured initial growth (0.3)
REVERSE = _BASE.replace("valuation_horizon_years = 3.0", "valuation_horizon_years = 5.0") \
    .replace("valuation = 6e8", "valuation = 1.5e9")
V0_REVERSE, T_V = 1.5e9, 5.0

# the same with an operating model whose margin at maturity matters: value-driver terminal value
MARGIN = REVERSE.replace("""variable_cost_ratio = 1.0
fixed_costs = 0.0
""", """variable_cost_ratio = 0.5
operating_expense_ratio = 0.4
target_operating_margin = 0.2
margin_convergence = 1.0
fixed_costs = 0.0
tax_rate = 0.0
""").replace("""terminal_method = "ev_sales"
exit_multiple_median = 8.0
exit_multiple_dispersion = 0.5""", """terminal_method = "value_driver"
return_on_capital = 0.2
terminal_growth = 0.03""")


def log_revenue_at(mu0: float, n_steps: int) -> tuple[float, float]:
    return cf.log_revenue_moments(1e8, mu0, 0.1, 0.5, 0.3, 0.1, 0.4, 0.25, n_steps)


def growth_for_value_ratio(ratio: float) -> float:
    """μ0 at which e^{-rT_v}(M e^{s²/2} E[S_{T_v}] + X) = ratio V0 (E[S] lognormal)."""
    def gap(mu0: float) -> float:
        m, v = log_revenue_at(mu0, 20)
        pv = math.exp(-R * T_V) * (8.0 * math.exp(S**2 / 2 + m + v / 2) + X)
        return pv / V0_REVERSE - ratio
    return optimize.brentq(gap, -3.0, 3.0)


@pytest.fixture(scope="module")
def reverse() -> ReverseDCF:
    return reverse_dcf(simval.parse_config(REVERSE, source="reverse.toml"), n_paths=4000,
                       seed=5)


def test_reverse_dcf_growth_against_the_closed_form(reverse):
    g = reverse.growth
    assert g.key == GROWTH_KEY and g.target == "value_ratio" and g.level == 1.0
    truth = growth_for_value_ratio(1.0)
    assert 0.1 < truth < 0.3  # below the configured 0.3
    assert g.low < truth < g.high, (g.low, truth, g.high)
    assert g.achieved == pytest.approx(1.0, abs=1e-6)  # E[PV] is continuous in the growth
    wrong = optimize.brentq(  # wrong target: valued at the question horizon T_q = 3
        lambda mu: math.exp(-R * T) * (8.0 * math.exp(S**2 / 2 + sum(
            (1, 0.5)[i] * x for i, x in enumerate(log_revenue_at(mu, 12)))) + X)
        / V0_REVERSE - 1, -3.0, 3.0)
    assert not g.low < wrong < g.high
    # a fresh seed at the solution: E[PV]/V0 = 1 within its Monte Carlo error
    cfg = override(simval.parse_config(REVERSE), {GROWTH_KEY: g.value})
    other = simval.simulate(cfg, n_paths=4000, seed=99).isel(scenario=0)
    assert abs(float(other.value_ratio) - 1.0) < 3 * math.hypot(float(other.value_ratio_se),
                                                                g.achieved_se)


def test_reverse_dcf_cagr_is_the_median_revenue_growth_to_the_question_horizon(reverse):
    g, a = reverse.growth, reverse.growth.at_solution
    # by hand from the Dataset at the solution (same paths: same seed and path count)
    cfg = override(simval.parse_config(REVERSE), {GROWTH_KEY: g.value})
    s = simval.simulate(cfg, n_paths=g.n_paths, seed=g.seed).isel(scenario=0)
    q = question_index(s)
    assert q == 12 and s.attrs["valuation_horizon_years"] == T_V
    median = s.total_revenue_quantile.sel(quantile=0.5)
    s_0, s_q = float(median.isel(time=0)), float(median.isel(time=q))
    by_hand = (s_q / s_0) ** (1 / s.attrs["question_horizon_years"]) - 1
    assert reverse.cagr == pytest.approx(by_hand, rel=1e-12)
    assert a["revenue_median_question"] == pytest.approx(s_q)
    assert a["revenue_median_end"] == pytest.approx(
        float(s.terminal_revenue_quantile.sel(quantile=0.5)))
    assert a["question_date"] == "2029-01-01" == s.attrs["question_horizon_date"]
    assert a["end_date"] == "2031-01-01" and a["question_horizon_years"] == 3.0
    # against the lognormal median of S_{T_q}: e^{E[ln S]} (quantile error ~1%)
    m_q, _ = log_revenue_at(g.value, 12)
    assert reverse.cagr == pytest.approx(math.exp((m_q - math.log(1e8)) / 3) - 1, abs=0.01)
    # the CAGR interval follows the growth interval
    assert reverse.cagr_low < reverse.cagr < reverse.cagr_high
    # words a reader can check
    text = describe_reverse_dcf(reverse)
    assert text.startswith("Closed form (base): to justify $1.50B (E[PV] = V0), median "
                           f"revenue must compound at {100 * reverse.cagr:.3g}% a year to "
                           "2029-01-01 (95% interval ")
    assert "at the valuation horizon 2031-01-01" in text
    assert f"commercial.growth of {100 * g.value:.3g}% a year" in text
    assert "the config assumes 30% a year" in text


def test_reverse_dcf_without_a_target_margin_skips_it(reverse, tmp_path):
    assert reverse.margin is None
    (note,) = reverse.notes
    assert note.startswith(f"{MARGIN_KEY}: the config sets no operating margin at maturity")
    text = describe_reverse_dcf(reverse)
    assert "must earn a" not in text and "(margin)" not in text
    assert "Not solved: costs.target_operating_margin: the config sets no" in text
    # JSON: saved, read back, never overwritten silently
    path = save_result(reverse, tmp_path / "r.json")
    back = load_result(path)
    assert isinstance(back, ReverseDCF) and back.to_dict() == reverse.to_dict()
    with pytest.raises(simval.ResultsExistError):
        save_result(reverse, path)
    with pytest.raises(ValueError, match="needs the growth or the margin"):
        ReverseDCF(1.0, None, None)


def test_reverse_dcf_margin():
    cfg = simval.parse_config(MARGIN, source="margin.toml")
    result = reverse_dcf(cfg, n_paths=2000, seed=3)
    m = result.margin
    assert m is not None and m.key == MARGIN_KEY and result.notes == ()
    assert m.low < m.value < m.high < 1 and m.base_value == 0.2
    assert m.achieved == pytest.approx(1.0, abs=1e-6)
    # the configured margin is worth less than V0 here, so more is needed
    at_base = simval.simulate(cfg, n_paths=2000, seed=3).isel(scenario=0)
    assert float(at_base.value_ratio) < 1 and m.value > 0.2
    # a fresh seed at the solution: E[PV]/V0 = 1 within its Monte Carlo error
    other = simval.simulate(override(cfg, {MARGIN_KEY: m.value}), n_paths=2000,
                            seed=77).isel(scenario=0)
    assert abs(float(other.value_ratio) - 1.0) < 3 * math.hypot(float(other.value_ratio_se),
                                                                m.achieved_se)
    assert result.growth is not None and result.growth.achieved == pytest.approx(1.0,
                                                                                 abs=1e-6)
    text = describe_reverse_dcf(result)
    assert (f"Or, with growth as configured, the business must earn a {100 * m.value:.3g}% "
            "operating margin at maturity (95% interval ") in text
    assert "the config assumes 20%)" in text and "(margin)" in text


@pytest.mark.slow
def test_cli_reverse_dcf(tmp_path, capsys):
    path = tmp_path / "reverse.toml"
    path.write_text(REVERSE)
    out_dir = tmp_path / "out"
    argv = ["implied", str(path), "--reverse-dcf", "--out", str(out_dir), "--paths", "1000",
            "--seed", "2"]
    assert _run_cli(argv) == 0
    out = capsys.readouterr().out
    written = out_dir / "implied_reverse_dcf_value_ratio_1.json"
    assert out.splitlines()[-1] == f"result written to {written}"
    result = load_result(written)
    assert isinstance(result, ReverseDCF) and result.growth.n_paths == 1000
    assert describe_reverse_dcf(result) in out and "achieved value_ratio = 1" in out
    before = written.read_bytes()
    assert _run_cli(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert written.read_bytes() == before
    assert _run_cli([*argv, "--solve", EXIT, "--force"]) == 2
    assert "drop --solve" in capsys.readouterr().err
    assert _run_cli([*argv, "--target", "p_justified=0.5", "--force"]) == 2
    assert "value_ratio target" in capsys.readouterr().err
    assert _run_cli(["implied", str(path), "--out", str(out_dir)]) == 2
    assert "--reverse-dcf" in capsys.readouterr().err
    assert _run_cli([*argv, "--force"]) == 0
    capsys.readouterr()
