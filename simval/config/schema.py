"""Declarative schema of a simval TOML config.

Every key a config may contain is declared here once, with its type, range, default, unit,
the model symbol it sets (see ``docs/model.md``) and whether it may take a different value in
the ``slowdown`` regime. The loader (:mod:`simval.config.load`) validates against this table and
the documentation and assumptions tables are generated from it, so the three never disagree.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum
from typing import Any

from simval.format import format_value
from simval.layout import MAX_PATHS, MAX_POOL

__all__ = [
    "CONTRACT_FIELDS",
    "REQUIRED",
    "SCHEMA",
    "Field",
    "Measure",
    "RevenueTiming",
    "SbcTreatment",
    "TerminalEarnings",
    "TerminalMethod",
]


class _Required:
    def __repr__(self) -> str:  # pragma: no cover - repr only
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Sentinel default: the key must be given."""


class Measure(StrEnum):
    """Probability measure of the fundamental valuation (MODEL.md section 7)."""

    REAL_WORLD = "real_world"
    RISK_NEUTRAL = "risk_neutral"


class TerminalMethod(StrEnum):
    """How the terminal value TV_T is computed."""

    EV_SALES = "ev_sales"
    EV_EBITDA = "ev_ebitda"
    GORDON = "gordon"
    VALUE_DRIVER = "value_driver"


class SbcTreatment(StrEnum):
    """How share-based compensation reaches the holders of today's shares: as a cash-like
    expense, or as dilution at the path's market value (one of the two, never both)."""

    EXPENSE = "expense"
    DILUTION = "dilution"


class RevenueTiming(StrEnum):
    """Whether a step's revenue flow is measured at the start or the end of the step."""

    START = "start"
    END = "end"


class TerminalEarnings(StrEnum):
    """Terminal value base: the last step's flow as it is, or annualised."""

    PER_STEP = "per_step"
    ANNUALISED = "annualised"


class MarketModel(StrEnum):
    """What the market value V_t follows (docs/model.md, "Market value")."""

    VALUE = "value"
    MULTIPLE = "multiple"


class HaircutDistribution(StrEnum):
    """Distribution of the capacity haircut H of one chip shock."""

    FIXED = "fixed"
    UNIFORM = "uniform"


@dataclasses.dataclass(frozen=True)
class Field:
    """One config key.

    Parameters
    ----------
    kind : {"float", "int", "bool", "choice", "date", "str", "points"}
        Expected TOML type. ``"points"`` is a list of ``[year, value]`` pairs.
    default : object
        Value used when the key is absent; :data:`REQUIRED` if it must be given, ``None`` if
        it is optional without a default.
    low, high : float, optional
        Bounds of a numeric value; ``low_open`` / ``high_open`` make them strict.
    choices : type[StrEnum], optional
        Allowed values of a ``"choice"`` key.
    unit : str
        Unit, with ``{currency}`` standing for the config's currency.
    symbol : str
        Model symbol the key sets (as written in ``docs/model.md``).
    doc : str
        One-line description.
    per_regime : bool
        Whether ``[slowdown...]`` may override it.
    compounding : {"", "continuous", "annual"}
        For a rate per year that may also be written as an annual percentage with its unit
        (``"40%/yr"``, :mod:`simval.config.rates`): ``"continuous"`` if the model's value is
        continuously compounded (``"40%/yr"`` is ``ln 1.4``), ``"annual"`` if it is an annual
        rate already (``"3%/yr"`` is ``0.03``); ``""`` for every other key.
    required_when : str
        The condition under which a key without a default must be given, in words
        (``"measure = real_world"``); ``""`` if it is never or always required. The loader
        checks the condition (:mod:`simval.config.load`); this text documents it.
    """

    kind: str
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: type[StrEnum] | None = None
    unit: str = ""
    symbol: str = ""
    doc: str = ""
    per_regime: bool = False
    compounding: str = ""
    required_when: str = ""

    def expectation(self) -> str:
        """Describe what a valid value looks like, in the words of an error message."""
        if self.kind == "choice":
            assert self.choices is not None
            return "one of " + ", ".join(repr(c.value) for c in self.choices)
        if self.kind == "date":
            return "a date (YYYY-MM-DD)"
        if self.kind == "bool":
            return "a boolean (true or false)"
        if self.kind == "str":
            return "a string"
        if self.kind == "points":
            return "a list of at least two [year, value] pairs with increasing years and values > 0"
        noun = "an integer" if self.kind == "int" else "a number"
        if self.low is None and self.high is None:
            return noun
        fmt = (lambda x: str(int(x))) if self.kind == "int" else format_value
        lo = "-inf" if self.low is None else fmt(self.low)
        hi = "inf" if self.high is None else fmt(self.high)
        left = "(" if (self.low_open or self.low is None) else "["
        right = ")" if (self.high_open or self.high is None) else "]"
        text = f"{noun} in the range {left}{lo}, {hi}{right}"
        if self.compounding == "continuous":
            text += (" (a continuously compounded rate per year) or an annual percentage "
                     "with its unit, e.g. \"40%/yr\" (= ln 1.4)")
        elif self.compounding == "annual":
            text += " (an annual rate) or an annual percentage with its unit, e.g. \"3%/yr\""
        return text


def _f(default: Any = REQUIRED, low: float | None = None, high: float | None = None, **kw: Any):
    return Field("float", default, low, high, **kw)


def _prob(default: Any = REQUIRED, **kw: Any) -> Field:
    return Field("float", default, 0.0, 1.0, unit="1", **kw)


def _rate(default: Any = REQUIRED, **kw: Any) -> Field:
    return Field("float", default, 0.0, None, unit="1/year", **kw)


def _money(default: Any = REQUIRED, low: float | None = 0.0, **kw: Any) -> Field:
    kw.setdefault("unit", "{currency}")
    return Field("float", default, low, None, **kw)


def _switch(default: bool, doc: str) -> Field:
    return Field("bool", default, doc=doc)


CONTRACT_FIELDS: dict[str, Field] = {
    "revenue": _money(low=0.0, low_open=True, unit="{currency}/year", symbol="A_j",
                      doc="annual contract revenue at the as-of date"),
    "escalation": _f(0.0, -1.0, 1.0, unit="1/year", symbol="g_j", compounding="continuous",
                     doc="continuous annual escalation of the contract price"),
    "term_years": _f(low=0.0, low_open=True, high=50.0, unit="years", symbol="L_j",
                     doc="years between renewals (a whole number of steps)"),
    "first_renewal": Field("date", symbol="first renewal date",
                           doc="date of the first renewal decision (after as_of)"),
    "renewal_probability": _prob(symbol="p_j", per_regime=True,
                                 doc="probability the contract is renewed at a renewal date"),
    "price_change_median": _f(1.0, 0.0, 100.0, low_open=True, unit="1", per_regime=True,
                              symbol="m_j", doc="median price multiplier at renewal"),
    "price_change_dispersion": _f(0.0, 0.0, 5.0, unit="1", symbol="s_j",
                                  doc="log-standard deviation of the price multiplier"),
    "replacement_probability": _prob(0.0, symbol="q_j",
                                     doc="probability a lost contract is replaced"),
    "replacement_delay_years": _f(1.0, 0.0, 50.0, unit="years", symbol="d_j",
                                  doc="delay before a replacement starts (whole steps)"),
    "capacity_elasticity": _f(0.0, 0.0, 10.0, unit="1", symbol="beta_j",
                              doc="elasticity of delivered contract revenue to capacity"),
}

# Multiples and multipliers are bounded far beyond any plausible value, so that an absurd one
# (1e300) is refused here instead of overflowing float64 in the simulation; an overflow that
# other values still cause is detected after the run (simval.results.dataset.non_finite).

_EXPANSION_CONTRACT_KEYS = (
    "escalation", "term_years", "renewal_probability", "price_change_median",
    "price_change_dispersion", "replacement_probability", "replacement_delay_years",
    "capacity_elasticity",
)

SCHEMA: dict[str, dict[str, Field]] = {
    "company": {
        "name": Field("str", doc="company name, for titles"),
        "currency": Field("str", doc="ISO 4217 code of every money amount in the config"),
        "as_of": Field("date", symbol="t_0", doc="valuation date: time 0 of every path"),
        "valuation": _money(low=0.0, low_open=True, symbol="V_0",
                            doc="today's market valuation being tested"),
        "net_debt": _money(0.0, low=None, symbol="N_D",
                           doc="debt net of cash not modelled in X, deducted from PV"),
        "shares_outstanding": _f(None, 0.0, None, low_open=True, unit="1",
                                 doc="shares outstanding, for per-share values (optional)"),
        "option_overhang": _f(0.0, 0.0, 1.0, high_open=True, unit="1", symbol="w",
                              doc="share of equity value owed to options and RSUs; today's "
                                  "shares get 1 - w"),
        "reporting_currency": Field("str", None, required_when="reporting_fx_rate is given",
                                    doc="ISO code money is also reported in "
                                                     "(optional)"),
        "reporting_fx_rate": _f(None, 0.0, None, low_open=True,
                                required_when="reporting_currency is given",
                                unit="reporting currency per {currency}",
                                doc="units of reporting_currency per unit of currency"),
    },
    "simulation": {
        "horizon_years": _f(low=0.0, low_open=True, high=100.0, unit="years", symbol="T_q",
                            doc="question horizon T_q of collapse, bankruptcy, threshold and "
                                "fan statistics (a whole number of steps)"),
        "valuation_horizon_years": _f(None, 0.0, 100.0, low_open=True, unit="years",
                                      symbol="T_v",
                                      doc="valuation horizon T_v >= T_q where growth has "
                                          "converged; paths run to it (default max(T_q, 10))"),
        "steps_per_year": Field("int", 4, 1, 365, unit="1/year", symbol="1/Δt",
                                doc="time steps per year"),
        "n_paths": Field("int", 100_000, 1, MAX_PATHS, doc="Monte Carlo paths per scenario"),
        "seed": Field("int", 0, 0, 2**63 - 1, doc="root seed of every random stream"),
        "keep_paths": Field("int", 200, 0, MAX_PATHS,
                            doc="paths whose full trajectories are kept in the results"),
        "measure": Field("choice", Measure.REAL_WORLD, choices=Measure,
                         doc="real_world (risk-adjusted discount rate, zero prices of risk) "
                             "or risk_neutral (prices of risk, discount at the risk-free rate)"),
        "discount_rate": _f(None, 0.0, 1.0, unit="1/year", symbol="r",
                            compounding="continuous",
                            required_when="measure = real_world",
                            doc="risk-adjusted discount rate (real_world only)"),
        "revenue_timing": Field("choice", RevenueTiming.END, choices=RevenueTiming,
                                doc="a step's revenue flow measured at its start or its end"),
    },
    "regime": {
        "enabled": _switch(False, "simulate the normal/slowdown macro regime"),
        "initial": Field("choice", "normal", choices=StrEnum("Regime", ["normal", "slowdown"]),
                         doc="regime at the as-of date"),
        "hazard_normal_to_slowdown": _rate(0.0, symbol="h_ns",
                                           doc="annual hazard of entering a slowdown"),
        "hazard_slowdown_to_normal": _rate(0.0, symbol="h_sn",
                                           doc="annual hazard of leaving a slowdown"),
    },
    "commercial": {
        "revenue": _money(low=0.0, low_open=True, unit="{currency}/year", symbol="R_0",
                          doc="commercial (non-contract) revenue run-rate at the as-of date"),
        "growth": _f(low=-5.0, high=5.0, unit="1/year", symbol="mu_0", compounding="continuous",
                     doc="initial expected growth rate of commercial revenue"),
        "growth_long_run": _f(low=-5.0, high=5.0, unit="1/year", symbol="mu_bar",
                              compounding="continuous",
                              per_regime=True, doc="long-run growth rate mu reverts to"),
        "mean_reversion": _f(0.0, 0.0, 50.0, unit="1/year", symbol="kappa",
                             doc="speed of mean reversion of the growth rate"),
        "volatility": _f(0.0, 0.0, 5.0, unit="1/sqrt(year)", symbol="sigma_0",
                         doc="initial revenue volatility"),
        "volatility_long_run": _f(0.0, 0.0, 5.0, unit="1/sqrt(year)", symbol="sigma_bar",
                                  doc="long-run revenue volatility"),
        "volatility_decay": _f(0.0, 0.0, 50.0, unit="1/year", symbol="kappa_1",
                               doc="speed at which sigma decays to sigma_bar"),
        "growth_volatility": _f(0.0, 0.0, 5.0, unit="1/year^1.5", symbol="eta_0",
                                doc="initial volatility of expected growth"),
        "growth_volatility_decay": _f(0.0, 0.0, 50.0, unit="1/year", symbol="kappa_2",
                                      doc="speed at which eta decays to zero"),
        "correlation": _f(0.0, -1.0, 1.0, unit="1", symbol="rho",
                          doc="correlation of the revenue and growth shocks"),
        "price_of_revenue_risk": _f(0.0, -10.0, 10.0, unit="1/sqrt(year)", symbol="lambda_R",
                                    doc="market price of revenue risk (risk_neutral only)"),
        "price_of_growth_risk": _f(0.0, -10.0, 10.0, unit="1/sqrt(year)", symbol="lambda_mu",
                                   doc="market price of growth risk (risk_neutral only)"),
        "capacity_elasticity": _f(1.0, 0.0, 10.0, unit="1", symbol="beta",
                                  doc="elasticity of delivered commercial revenue to capacity"),
    },
    "renewals": {
        "correlation": _f(0.0, 0.0, 1.0, high_open=True, unit="1", symbol="rho_c",
                          doc="one-factor Gaussian copula correlation of renewals in a step"),
        "budget_weight": _f(0.0, 0.0, 1.0, high_open=True, unit="1", symbol="rho_b",
                            doc="share of a renewal latent's variance from the persistent "
                                "budget factor b (correlation + budget_weight < 1)"),
        "budget_mean_reversion": _f(0.0, 0.0, 50.0, unit="1/year", symbol="kappa_b",
                                    doc="speed at which b reverts to its regime's mean "
                                        "(0: one b per path)"),
        "budget_mean": _f(0.0, -5.0, 5.0, unit="1", symbol="m_b", per_regime=True,
                          doc="mean of b in the regime (higher: more renewals)"),
    },
    "expansion": {
        "enabled": _switch(False, "simulate the expansion programme"),
        "pool_size": Field("int", 0, 0, MAX_POOL, symbol="N_max",
                           required_when="expansion.enabled = true (at least 1)",
                           doc="number of potential contracts that can still be won"),
        "win_rate": _rate(0.0, symbol="lambda_win", per_regime=True,
                          doc="Poisson intensity of wins while the pool is not empty"),
        "revenue_median": _money(0.0, unit="{currency}/year",
                                 required_when="expansion.enabled = true (> 0)",
                                 doc="median annual revenue of a won contract"),
        "revenue_dispersion": _f(0.0, 0.0, 5.0, unit="1",
                                 doc="log-standard deviation of a won contract's revenue"),
        **{k: CONTRACT_FIELDS[k] for k in _EXPANSION_CONTRACT_KEYS},
        # A won contract needs a term and a renewal probability only when the programme runs.
        "term_years": dataclasses.replace(CONTRACT_FIELDS["term_years"], default=1.0),
        "renewal_probability": dataclasses.replace(CONTRACT_FIELDS["renewal_probability"],
                                                   default=1.0),
    },
    "chips": {
        "enabled": _switch(False, "simulate export-control shocks to compute capacity"),
        "shock_rate": _rate(0.0, symbol="lambda_chip", per_regime=True,
                            doc="Poisson intensity of chip-supply shocks"),
        "haircut_distribution": Field("choice", HaircutDistribution.UNIFORM,
                                      choices=HaircutDistribution,
                                      doc="distribution of the capacity haircut H"),
        "haircut_low": _f(0.0, 0.0, 1.0, high_open=True, unit="1", symbol="H",
                          doc="smallest haircut (or the fixed haircut)"),
        "haircut_high": _f(0.0, 0.0, 1.0, high_open=True, unit="1",
                           doc="largest haircut (uniform only)"),
        "recovery_half_life_years": _f(None, 0.0, None, low_open=True, unit="years",
                                       symbol="tau_c",
                                       doc="half-life of the capacity shortfall; absent = none"),
        "cost_sensitivity": _f(0.0, 0.0, 10.0, unit="1", symbol="gamma",
                               doc="rise of the variable cost ratio per unit of lost capacity"),
        "multiple_jump_median": _f(1.0, 0.0, 1.0, low_open=True, unit="1", symbol="J",
                                   doc="median multiplier of the market multiple at a shock"),
        "multiple_jump_dispersion": _f(0.0, 0.0, 5.0, unit="1",
                                       doc="log-standard deviation of that multiplier"),
    },
    "market_size": {
        "enabled": _switch(False, "cap total revenue at a share of the addressable market"),
        "currency": Field("str", None, doc="currency of the points (default: the config's)"),
        "fx_rate": _f(None, 0.0, None, low_open=True, unit="{currency} per unit",
                      required_when="market_size.currency differs from company.currency",
                      doc="config currency per unit of the points' currency"),
        "points": Field("points", None, unit="points' currency/year", symbol="TAM(t)",
                        required_when="market_size.enabled = true",
                        doc="[year, size] pairs, each at 1 July of the year"),
        "max_share": Field("float", 1.0, 0.0, 1.0, low_open=True, unit="1", symbol="max_share",
                           doc="largest share of TAM revenue may take"),
        "multiplier_dispersion": _f(0.0, 0.0, 5.0, unit="1",
                                    doc="log-sd of a per-path TAM multiplier (median 1)"),
        "cap_contracts": Field("bool", False,
                               doc="the cap scales total revenue, contracts included, "
                                   "proportionally (false: it cuts commercial revenue only)"),
    },
    "costs": {
        "variable_cost_ratio": _f(low=0.0, high=10.0, unit="1", symbol="alpha",
                                  doc="variable costs as a fraction of revenue"),
        "fixed_costs": _money(unit="{currency}/year", symbol="F_0",
                              doc="fixed costs per year at the as-of date"),
        "fixed_cost_growth": _f(0.0, -1.0, 2.0, unit="1/year", symbol="g_F",
                                compounding="continuous",
                                doc="continuous growth rate of fixed costs"),
        "capex_ratio": _f(0.0, 0.0, 10.0, unit="1",
                          doc="non-deductible capital expenditure per unit revenue (v1)"),
        "contract_cost_ratio": _f(None, 0.0, 10.0, unit="1", symbol="alpha_K",
                                  doc="cost of revenue of contract and pool revenue (default: "
                                      "variable_cost_ratio)"),
        "operating_expense_ratio": _f(0.0, 0.0, 10.0, unit="1", symbol="o_0",
                                      doc="operating expenses other than cost of revenue and "
                                          "SBC, as a fraction of revenue, today"),
        "target_operating_margin": _f(None, None, 1.0, high_open=True, unit="1",
                                      symbol="m_bar",
                                      doc="operating (EBIT) margin at maturity; operating "
                                          "expenses converge to the ratio that gives it"),
        "margin_convergence": _f(None, 0.0, 50.0, low_open=True, unit="1/year",
                                 required_when="target_operating_margin is given",
                                 symbol="kappa_o",
                                 doc="speed at which operating expenses converge (required "
                                     "with target_operating_margin)"),
        "sbc_ratio": _f(0.0, 0.0, 10.0, unit="1", symbol="s",
                        doc="share-based compensation as a fraction of revenue"),
        "sbc_treatment": Field("choice", None, choices=SbcTreatment,
                               required_when="sbc_ratio > 0",
                               doc="SBC as a cash-like expense or as dilution at the market "
                                   "value (required when sbc_ratio > 0)"),
        "maintenance_capex_ratio": _f(0.0, 0.0, 10.0, unit="1", symbol="m_c",
                                      doc="capex that keeps capacity, per unit revenue; equal "
                                          "to D&A, so tax-deductible"),
        "sales_to_capital": _f(None, 0.0, None, low_open=True, unit="1", symbol="SC",
                               doc="revenue per unit of invested capital: growth "
                                   "reinvestment = revenue increase / SC"),
        "tax_rate": _prob(0.0, symbol="tau", doc="tax rate on positive income"),
        "loss_carryforward": _money(0.0, symbol="L_0", doc="tax losses carried forward today"),
        "cash": _money(symbol="X_0", doc="cash at the as-of date"),
        "risk_free_rate": _f(0.0, -0.1, 1.0, unit="1/year", symbol="r_f", compounding="continuous",
                             doc="interest on cash; the discount rate under risk_neutral"),
    },
    "debt": {
        "amount": _money(0.0, symbol="D",
                         doc="gross debt, constant, repaid at the valuation horizon"),
        "interest_rate": _f(0.0, 0.0, 1.0, unit="1/year", symbol="r_d", compounding="annual",
                            doc="interest on the debt: a cash cost, tax-deductible"),
    },
    "financing": {
        "enabled": _switch(False, "allow equity raises when cash runs low"),
        "cash_floor": _money(0.0, doc="a raise is attempted when cash falls below this"),
        "amount": _money(0.0, required_when="financing.enabled = true (> 0)",
                         doc="amount raised"),
        "probability": _prob(0.0, per_regime=True, doc="probability a raise succeeds"),
    },
    "bankruptcy": {
        "recovery": _prob(0.0, doc="fraction of the terminal value at bankruptcy left to equity"),
    },
    "valuation": {
        "terminal_method": Field("choice", TerminalMethod.VALUE_DRIVER, choices=TerminalMethod,
                                 doc="terminal value method"),
        "terminal_earnings": Field("choice", TerminalEarnings.ANNUALISED,
                                   choices=TerminalEarnings,
                                   doc="terminal base: last step's flow, or annualised"),
        "exit_multiple_median": _f(None, 0.0, 1000.0, low_open=True, unit="1",
                                   required_when="terminal_method = ev_sales or ev_ebitda (or "
                                                 "exit_multiple_mean)",
                                   doc="median exit multiple (ev_sales, ev_ebitda)"),
        "exit_multiple_mean": _f(None, 0.0, 1000.0, low_open=True, unit="1",
                                 doc="mean exit multiple (instead of the median; median = "
                                     "mean exp(-s^2/2))"),
        "exit_multiple_dispersion": _f(0.0, 0.0, 5.0, unit="1", symbol="s",
                                       doc="log-sd of the exit multiple around the median"),
        "exit_multiple_growth_slope": _f(0.0, -100.0, 100.0, unit="year", symbol="b_g",
                                         doc="change of ln M_exit per unit of growth mu_T "
                                             "above exit_reference_growth"),
        "exit_multiple_margin_slope": _f(0.0, -100.0, 100.0, unit="1", symbol="b_m",
                                         doc="change of ln M_exit per unit of operating margin "
                                             "above exit_reference_margin"),
        "exit_reference_growth": _f(None, -5.0, 5.0, unit="1/year", symbol="mu_ref",
                                    compounding="continuous",
                                    doc="growth at which the exit multiple is the median "
                                        "(default: commercial.growth_long_run)"),
        "exit_reference_margin": _f(None, -10.0, 1.0, unit="1", symbol="m_ref",
                                    doc="operating margin at which the exit multiple is the "
                                        "median (default: target_operating_margin, else 0)"),
        "contract_exit_multiple": _f(None, 0.0, 1000.0, low_open=True, unit="1", symbol="M_K",
                                     doc="exit multiple of contract revenue (ev_sales only; "
                                         "default: the path's exit multiple)"),
        "return_on_capital": _f(None, 0.0, 10.0, low_open=True, unit="1/year", symbol="ROIC",
                                compounding="annual",
                                required_when="terminal_method = value_driver (the default)",
                                doc="return on new capital in perpetuity (value_driver)"),
        "terminal_growth": _f(None, -0.5, 0.5, unit="1/year", symbol="g", compounding="annual",
                              required_when="terminal_method = gordon or value_driver (the "
                                            "default)",
                              doc="perpetual growth after the valuation horizon, effective "
                                  "annual (gordon, value_driver)"),
        "limited_liability": _switch(True, "floor the present value of equity at zero"),
    },
    "market": {
        "enabled": _switch(False, "simulate the market's multiple or price-to-value gap (else "
                                  "it stays at its value at t_0)"),
        "model": Field("choice", MarketModel.MULTIPLE, choices=MarketModel,
                       doc="value: V = B W, the gap B to the model's own value W by least "
                           "squares; multiple: V = M S, an exogenous multiple of sales (v1)"),
        "gap_long_run": _f(1.0, 0.0, 1000.0, low_open=True, unit="1", symbol="b_bar",
                           per_regime=True,
                           doc="long-run price-to-value ratio B (model = value)"),
        "gap_half_life_years": _f(None, 0.0, None, low_open=True, unit="years",
                                  symbol="tau_B",
                                  required_when="market.enabled = true and model = value",
                                  doc="half-life of the log price-to-value gap (model = value)"),
        "gap_volatility": _f(0.0, 0.0, 5.0, unit="1/sqrt(year)", symbol="sigma_B",
                             per_regime=True, doc="volatility of log B (model = value)"),
        "pilot_paths": Field("int", 32768, 256, 1 << 22, unit="paths",
                             doc="paths of the least-squares pilot that fits W (model = value)"),
        "long_run_multiple": _f(None, 0.0, 1000.0, low_open=True, unit="1", symbol="M_bar",
                                required_when="market.enabled = true and model = multiple",
                                per_regime=True, doc="long-run market value / sales multiple"),
        "mean_reversion": _f(0.0, 0.0, 50.0, unit="1/year", symbol="kappa_M",
                             doc="speed of mean reversion of log M"),
        "volatility": _f(0.0, 0.0, 5.0, unit="1/sqrt(year)", symbol="sigma_M", per_regime=True,
                         doc="volatility of log M"),
        "slowdown_jump_median": _f(1.0, 0.0, 100.0, low_open=True, unit="1",
                                   doc="median multiplier of M on entering a slowdown"),
        "slowdown_jump_dispersion": _f(0.0, 0.0, 5.0, unit="1",
                                       doc="log-sd of that multiplier"),
        "collapse_drawdown": _f(0.8, 0.0, 1.0, low_open=True, high_open=True, unit="1",
                                symbol="d", doc="collapse when V_k <= (1 - d) V_0"),
        "threshold": _money(None, symbol="B", doc="valuation line tracked as P(V_t >= B)"),
    },
}

SLOWDOWN_FIELDS: dict[str, dict[str, Field]] = {
    section: {k: f for k, f in fields.items() if f.per_regime}
    for section, fields in SCHEMA.items()
    if any(f.per_regime for f in fields.values())
}
"""Keys that ``[slowdown.<section>]`` may override."""

CONTRACT_SLOWDOWN_FIELDS = {k: f for k, f in CONTRACT_FIELDS.items() if f.per_regime}

DATE_TYPES = (dt.date,)
