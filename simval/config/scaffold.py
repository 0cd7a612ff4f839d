"""A commented starting config for a new company, from a few public numbers.

:func:`scaffold` writes the TOML text of a config from :class:`Answers` (the company's name,
currency, valuation date, market valuation, revenue, growth, cash, margins, large contracts,
chip-supply exposure). Every other key is written at a documented starting value with a
comment saying what it does, and sections that are off are written with their switch and a
commented example, so the file is valid as written and a reader sees what could be turned on.
The text is validated by the loader before it is returned.

``simval init`` (:mod:`simval.cli_init`) asks the questions and writes the file;
``docs/guide.md`` explains each choice. :data:`IMPORTANT_DEFAULTS` names the starting values
the answer depends on most, which a user should replace with their own view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Sequence
from enum import Enum

from simval.config.load import parse_config
from simval.config.rates import CONTINUOUS, annual_percent
from simval.config.schema import CONTRACT_FIELDS, REQUIRED, SCHEMA, Field
from simval.config.toml import toml_value

__all__ = ["IMPORTANT_DEFAULTS", "Answers", "Contract", "parse_contract", "scaffold"]


@dataclasses.dataclass(frozen=True)
class Contract:
    """A large customer contract: its name (letters, digits, _), annual revenue and the date
    of its first renewal decision, with the probability that it is renewed then."""

    name: str
    revenue: float
    first_renewal: dt.date
    renewal_probability: float = 0.85
    term_years: float = 3.0


def parse_contract(text: str) -> Contract:
    """``NAME:REVENUE:RENEWAL_DATE[:RENEWAL_PROBABILITY]`` -> :class:`Contract`.

    Examples
    --------
    >>> parse_contract("northwind:250e6:2027-03-31")
    Contract(name='northwind', revenue=250000000.0, first_renewal=datetime.date(2027, 3, 31), \
renewal_probability=0.85, term_years=3.0)
    """
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (3, 4) or not all(parts):
        raise ValueError(f"a contract is NAME:REVENUE:RENEWAL_DATE[:RENEWAL_PROBABILITY], e.g. "
                         f"northwind:250e6:2027-03-31; got {text!r}")
    try:
        revenue = float(parts[1].replace("_", ""))
        date = dt.date.fromisoformat(parts[2])
        probability = float(parts[3]) if len(parts) == 4 else 0.85
    except ValueError:
        raise ValueError(f"a contract is NAME:REVENUE:RENEWAL_DATE[:RENEWAL_PROBABILITY] with a "
                         f"number, a date (YYYY-MM-DD) and a probability; got {text!r}") from None
    return Contract(parts[0], revenue, date, probability)


@dataclasses.dataclass(frozen=True)
class Answers:
    """What ``simval init`` asks. Money is in ``currency``; ``revenue`` is the total annual
    revenue run-rate today, contracts included; ``growth`` and ``discount_rate`` are rates as
    people write them (``"40%/yr"``) or continuous numbers; margins are fractions of revenue
    (``operating_margin`` today's, ``target_margin`` at maturity)."""

    name: str
    currency: str
    as_of: dt.date
    valuation: float
    revenue: float
    growth: str | float
    cash: float
    contracts: Sequence[Contract] = ()
    chips: bool = False
    gross_margin: float = 0.6
    operating_margin: float = -0.1
    target_margin: float = 0.2
    discount_rate: str | float = "10%/yr"
    tax_rate: float = 0.2
    long_run_multiple: float = 8.0
    horizon_years: float = 5.0


IMPORTANT_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("simulation.discount_rate", "every future cash flow, the terminal value included, is "
                                 "discounted at it"),
    ("commercial.growth_long_run and commercial.mean_reversion", "how fast today's growth "
                                                                 "fades, and to what"),
    ("valuation.terminal_growth and valuation.return_on_capital", "the terminal value at the "
                                                                  "valuation horizon, often "
                                                                  "most of E[PV]"),
    ("costs.target_operating_margin and costs.margin_convergence", "the margin the business "
                                                                   "reaches, and how soon"),
    ("market.long_run_multiple, market.mean_reversion and market.volatility",
     "the market model behind P(collapse) and the threshold (not E[PV])"),
    ("commercial.volatility and commercial.growth_volatility", "the spread of outcomes, and "
                                                               "so P(justified) when E[PV] is "
                                                               "near V0"),
)
"""Starting values of :func:`scaffold` that the answer depends on most, with why; ``simval
init`` prints them."""


def _money(x: float) -> str:
    """An amount as people write it in TOML: ``30e9``, ``1.2e9``, ``250e6``."""
    x = float(x)
    if x == 0 or not math.isfinite(x) or abs(x) < 1e3:
        return toml_value(x)
    exponent = 3 * math.floor(math.log10(abs(x)) / 3)
    mantissa = f"{x / 10.0 ** exponent:.12g}"
    text = f"{mantissa}e{exponent}"
    return text if float(text) == x else toml_value(x)


def _rate_text(value: str | float) -> str:
    """A rate as TOML, with its annual reading in a comment for a continuous number."""
    if isinstance(value, str):
        return toml_value(value.strip())
    percent = annual_percent(float(value), CONTINUOUS)
    return f"{toml_value(float(value))}  # = {percent:.3g}%/yr annual"


def _line(key: str, value: str, comment: str) -> str:
    left = f"{key} = {value}"
    return f"{left:<34}# {comment}" if len(left) < 34 else f"{left}  # {comment}"


_HEADER = re.compile(r"^\[([A-Za-z0-9_.]+)\]")
_KEY = re.compile(r"^(#\s*)?([A-Za-z0-9_]+) = ")


def _fields(section: str) -> dict[str, Field] | None:
    if section.startswith("contracts."):
        return CONTRACT_FIELDS
    return SCHEMA.get(section)


def _complete(lines: list[str]) -> list[str]:
    """``lines`` with every schema key a written section does not set added at its default,
    with the schema's description (a key without a default as a comment); a section whose
    switch is off is left as it is (its keys act only when it is on)."""
    out: list[str] = []
    section: str | None = None
    written: list[str] = []

    def close() -> None:
        fields = _fields(section) if section is not None else None
        if fields is None or "enabled = false" in "\n".join(written):
            return
        given = {m.group(2) for line in written if (m := _KEY.match(line))}
        extra = []
        for key, field in fields.items():
            if key in given:
                continue
            default = field.default
            if default is REQUIRED:  # pragma: no cover - the template sets every required key
                raise AssertionError(f"the scaffold does not set [{section}].{key}")
            if default is None:
                extra.append(_line(f"# {key}", "(not set)", field.doc))
                continue
            value = default.value if isinstance(default, Enum) else default
            extra.append(_line(key, toml_value(value), f"{field.doc} (default)"))
        while out and not out[-1].strip():  # before the blank line that ends the section
            out.pop()
        out.extend([*extra, ""])

    for line in lines:
        match = _HEADER.match(line)
        if match:
            close()
            section, written = match.group(1), []
        elif section is not None:
            written.append(line)
        out.append(line)
    close()
    while out and not out[-1].strip():
        out.pop()
    return out


def scaffold(answers: Answers, source: str = "<init>") -> str:
    """The TOML text of a commented config for ``answers``, validated by the loader.

    Parameters
    ----------
    answers : Answers
    source : str, default: "<init>"
        The file name the loader's messages use if an answer is invalid.

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        If an answer makes the config invalid (the loader's message names the key).
    ValueError
        If the contracts' revenue is not below the total revenue.

    Examples
    --------
    >>> import datetime as dt, simval
    >>> text = scaffold(Answers("Acme", "USD", dt.date(2026, 1, 31), 30e9, 1.2e9, "40%/yr",
    ...                         cash=2e9))
    >>> simval.parse_config(text).base["commercial"]["growth"] == __import__("math").log(1.4)
    True
    """
    a = answers
    contract_revenue = math.fsum(c.revenue for c in a.contracts)
    commercial = a.revenue - contract_revenue
    if not commercial > 0:
        raise ValueError(f"the contracts' revenue ({contract_revenue:g}) must be below the "
                         f"total revenue ({a.revenue:g}): the rest is commercial revenue")
    variable = round(1.0 - a.gross_margin, 10)
    opex = round(a.gross_margin - a.operating_margin, 10)
    lines = [
        f"# {a.name}: a simval config scaffolded by `simval init`.",
        "#",
        "# Every key of the sections in use is below (one without a default as a comment); those",
        "# you did not answer are starting values or simval's defaults, each with a comment.",
        "# Replace them with your own view, starting with the ones `simval init` named as",
        "# mattering most. docs/guide.md explains every table; docs/model.md section 8 lists",
        "# every key. Rates per year may be written as \"40%/yr\" (annual, converted exactly to",
        "# the model's continuous rate ln 1.4) or as the continuous number 0.3365.",
        "# Check it with `simval validate`, run it with `simval run --report`.",
        "",
        "[company]",
        _line("name", toml_value(a.name), "for titles"),
        _line("currency", toml_value(a.currency), "every money amount below is in this currency"),
        _line("as_of", toml_value(a.as_of), "valuation date: time 0 of every path"),
        _line("valuation", _money(float(a.valuation)), "today's market value of the equity, "
                                                   "the number being tested"),
        _line("net_debt", "0.0", "debt net of cash not modelled in [costs]/[debt]"),
        "",
        "[simulation]",
        _line("horizon_years", toml_value(float(a.horizon_years)),
              "question horizon: collapse, bankruptcy and threshold by then"),
        _line("valuation_horizon_years", "10.0", "cash flows are simulated to here, then a "
                                                 "terminal value; growth should have settled"),
        _line("steps_per_year", "4", "quarterly steps (default)"),
        _line("n_paths", "100_000", "Monte Carlo paths per scenario; --paths 4000 for a quick "
                                    "look"),
        _line("seed", "0", "any fixed seed: the same seed gives the same numbers"),
        _line("keep_paths", "200", "paths kept in full for the fan charts"),
        _line("measure", '"real_world"', "drifts as given, risk priced by the discount rate"),
        _line("discount_rate", _rate_text(a.discount_rate),
              "MATTERS: risk-adjusted rate every cash flow is discounted at"),
        _line("revenue_timing", '"end"', "a step's revenue is the run-rate at its end"),
        "",
        "[commercial]                      # revenue that is not in a named contract",
        _line("revenue", _money(commercial), f"total revenue {_money(a.revenue)} less the "
                                         f"contracts' {_money(contract_revenue)}" if a.contracts
              else "today's annual revenue run-rate"),
        _line("growth", _rate_text(a.growth), "expected growth today"),
        _line("growth_long_run", '"4%/yr"', "MATTERS: growth reverts to this (about nominal "
                                            "GDP)"),
        _line("mean_reversion", "0.35", "MATTERS: excess growth halves in ln 2 / 0.35 = 2 "
                                        "years"),
        _line("volatility", "0.4", "revenue volatility today, per sqrt(year)"),
        _line("volatility_long_run", "0.2", "of a mature business"),
        _line("volatility_decay", "0.3", "speed at which volatility settles"),
        _line("growth_volatility", "0.1", "uncertainty of the growth rate itself"),
        _line("growth_volatility_decay", "0.3", "speed at which that uncertainty resolves"),
        _line("correlation", "0.0", "of the revenue and growth shocks (default)"),
        _line("capacity_elasticity", "1.0", "revenue scales with compute capacity ([chips])"),
        "",
    ]
    for c in a.contracts:
        lines += [
            f"[contracts.{c.name}]",
            _line("revenue", _money(float(c.revenue)), "annual revenue of the contract today"),
            _line("escalation", '"3%/yr"', "annual price escalation"),
            _line("term_years", toml_value(float(c.term_years)), "years between renewals"),
            _line("first_renewal", toml_value(c.first_renewal), "first renewal decision"),
            _line("renewal_probability", toml_value(float(c.renewal_probability)),
                  "probability it is renewed at each renewal"),
            _line("price_change_median", "1.0", "renewed at the same price, in the median"),
            _line("price_change_dispersion", "0.1", "renegotiation moves the price ~10%"),
            _line("replacement_probability", "0.0", "a lost contract is not replaced"),
            _line("capacity_elasticity", "0.0", "fixed fee: revenue does not depend on compute"),
            "",
        ]
    if a.contracts:
        lines += ["[renewals]                        # how the contracts' renewals move together",
                  ""]
    if a.chips:
        lines += [
            "[chips]                           # export controls or supply shocks cut compute",
            _line("enabled", "true", "chip-supply exposure"),
            _line("shock_rate", "0.3", "a supply shock every ~3 years on average"),
            _line("haircut_distribution", '"uniform"', "each shock cuts capacity by ..."),
            _line("haircut_low", "0.1", "... 10% ..."),
            _line("haircut_high", "0.25", "... to 25%"),
            _line("recovery_half_life_years", "1.0", "half the shortfall recovered in a year"),
            _line("cost_sensitivity", "0.3", "lost capacity raises the variable cost ratio"),
            _line("multiple_jump_median", "0.85", "the market multiple drops ~15% at a shock"),
            _line("multiple_jump_dispersion", "0.2", "how much that reaction varies"),
            "",
        ]
    else:
        lines += [
            "[chips]",
            _line("enabled", "false", "no chip-supply exposure (docs/guide.md: chips)"),
            "",
        ]
    lines += [
        "[regime]                          # a macro slowdown; see [slowdown.*] in the guide",
        _line("enabled", "false", "e.g. true, hazard_normal_to_slowdown = 0.1"),
        "",
        "[expansion]                       # contracts still to be won",
        _line("enabled", "false", "e.g. true, pool_size = 10, win_rate = 1.5"),
        "",
        "[market_size]                     # cap revenue at a share of the market",
        _line("enabled", "false", "e.g. true, points = [[2026, 50e9], [2030, 120e9]]"),
        "",
        "[costs]",
        _line("variable_cost_ratio", toml_value(variable), f"cost of revenue: gross margin "
                                                   f"{a.gross_margin:.0%}"),
        _line("fixed_costs", "0.0", "fixed costs per year (R&D you do not scale with revenue)"),
        _line("operating_expense_ratio", toml_value(opex),
              f"other operating expenses: operating margin {a.operating_margin:.0%} today"),
        _line("target_operating_margin", toml_value(float(a.target_margin)),
              "MATTERS: operating margin at maturity"),
        _line("margin_convergence", "0.25", "MATTERS: the gap to it halves in ~2.8 years"),
        _line("sbc_ratio", "0.0", "share-based pay per unit revenue (then set sbc_treatment)"),
        _line("maintenance_capex_ratio", "0.0", "capex that keeps capacity, per unit revenue"),
        _line("tax_rate", toml_value(float(a.tax_rate)), "tax on positive income"),
        _line("loss_carryforward", "0.0", "tax losses carried forward today"),
        _line("cash", _money(float(a.cash)), "cash at the as-of date (balance sheet)"),
        _line("risk_free_rate", '"4%/yr"', "interest earned on cash"),
        "",
        "[debt]",
        _line("amount", "0.0", "gross debt, repaid at the valuation horizon"),
        "",
        "[financing]",
        _line("enabled", "false", "e.g. true, cash_floor = 0.2e9, amount = 1e9, "
                                  "probability = 0.8"),
        "",
        "[bankruptcy]",
        _line("recovery", "0.0", "equity gets nothing at bankruptcy"),
        "",
        "[valuation]                       # the terminal value at the valuation horizon",
        _line("terminal_method", '"value_driver"', "a perpetuity of the path's own NOPAT"),
        _line("terminal_growth", '"3%/yr"', "MATTERS: growth for ever after (below the "
                                            "discount rate)"),
        _line("return_on_capital", '"15%/yr"', "MATTERS: return on capital reinvested to grow"),
        _line("limited_liability", "true", "equity value is floored at zero"),
        "",
        "[market]                          # the market value path (P(collapse), threshold)",
        _line("enabled", "true", "the value/sales multiple moves"),
        _line("long_run_multiple", toml_value(float(a.long_run_multiple)),
              "MATTERS: value/sales multiple the market reverts to"),
        _line("mean_reversion", "0.5", "the gap to it halves in ~1.4 years"),
        _line("volatility", "0.4", "volatility of the log multiple"),
        _line("collapse_drawdown", "0.8", "a collapse is a fall of 80% from today's valuation"),
        "",
        "[scenarios.base]                  # the configuration above",
        "",
        "# More scenarios override keys with dotted names, for example:",
        "# [scenarios.slower_growth]",
        "# commercial.growth = \"25%/yr\"",
    ]
    text = "\n".join(_complete(lines)) + "\n"
    parse_config(text, source=source)  # an invalid answer: the loader's message
    return text
