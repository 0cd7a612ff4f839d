"""Read a TOML config, validate it against :mod:`simval.config.schema`, expand its scenarios.

Every problem is reported, not only the first, in one :class:`ConfigError` whose lines have the
shape ``FILE: [section].key must be EXPECTED. Got VALUE instead.`` Nothing is returned unless the
whole config, every scenario included, is valid.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simval.config.inert import inert_parameters
from simval.config.rates import parse_rate, rate_form_hint
from simval.config.schema import (
    CONTRACT_FIELDS,
    CONTRACT_SLOWDOWN_FIELDS,
    REQUIRED,
    SCHEMA,
    SLOWDOWN_FIELDS,
    Field,
    Measure,
    TerminalMethod,
)
from simval.config.signals import validate_signals
from simval.config.tables import merge
from simval.layout import MAX_NAMED_CONTRACTS, MAX_STEPS

__all__ = ["Config", "ConfigError", "config_from_dict", "load_config", "normalised_weights",
           "parse_config", "validate_merged"]

MAX_EVENTS_PER_STEP = 2.0  # Poisson mean per step; beyond it the kernel's cap could bind
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ConfigError(ValueError):
    """A config is invalid. ``problems`` lists one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclasses.dataclass(frozen=True)
class Config:
    """A validated config.

    Attributes
    ----------
    source : str
        File the config was read from (or ``"<string>"``).
    text : str
        The TOML text, stored verbatim in the results for provenance.
    scenarios : dict[str, dict]
        Scenario name -> fully validated values ``{section: {key: value}}`` with defaults
        filled in, ``"contracts"`` ({name: {key: value}}) and ``"slowdown"`` (the value of every
        per-regime key in the slowdown regime).
    """

    source: str
    text: str
    scenarios: dict[str, dict[str, Any]]
    weights: dict[str, float] | None = None
    signals: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    uncertainty: dict[str, Any] | None = None
    """The ``[uncertainty]`` table as read (priors of a two-level run); validated by
    :func:`simval.config.uncertainty.read_uncertainty`, which needs the config's keys."""

    @property
    def base(self) -> dict[str, Any]:
        """Values of the first scenario (by convention ``base``)."""
        return next(iter(self.scenarios.values()))

    @property
    def contract_names(self) -> list[str]:
        """The named contracts of all the scenarios, each once, in the order they first
        appear (the ``contract`` coordinate of the results)."""
        names: list[str] = []
        for values in self.scenarios.values():
            names += [c for c in values["contracts"] if c not in names]
        return names

    @property
    def contract_index(self) -> dict[str, list[int]]:
        """Scenario -> the position in :attr:`contract_names` of each of its contracts."""
        names = self.contract_names
        return {name: [names.index(c) for c in values["contracts"]]
                for name, values in self.scenarios.items()}

    @property
    def sha256(self) -> str:
        """Hash of the config text."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    def warnings(self) -> list[str]:
        """Things to tell the user about a valid config: that it has scenarios but none named
        ``base`` (so the first one is the reference every other is compared with), configured
        drivers that cannot act (:func:`simval.config.inert.inert_parameters`), and, per
        scenario, a valuation horizon at which expected growth is still far from its long-run
        level (the terminal value then capitalises growth that has not converged)."""
        out = []
        if "base" not in self.scenarios:
            first = next(iter(self.scenarios))
            out.append(f"{self.source}: there is no [scenarios.base]; the first scenario, "
                       f"{first!r}, is the reference that the summary, the tables and the other "
                       "scenarios are compared with")
        inert: dict[str, list[str]] = {}  # message -> the scenarios it applies to
        for name, values in self.scenarios.items():
            for message in inert_parameters(values):
                inert.setdefault(message, []).append(name)
        for message, names in inert.items():
            where = ("every scenario" if len(names) == len(self.scenarios) and len(names) > 1
                     else "scenario " + ", ".join(repr(n) for n in names))
            out.append(f"{self.source}: {where}: {message}")
        for name, values in self.scenarios.items():
            gap = growth_gap_at_valuation_horizon(values)
            if abs(gap) > GROWTH_GAP_WARNING:
                t_v = values["simulation"]["valuation_horizon_years"]
                com = values["commercial"]
                out.append(f"{self.source}: scenario {name!r}: expected commercial growth at the "
                           f"valuation horizon ({t_v:g} years) is still {gap:+.3f} a year from "
                           f"its long-run {com['growth_long_run']:g} (growth "
                           f"{com['growth']:g}, mean_reversion {com['mean_reversion']:g}); the "
                           "terminal value capitalises growth that has not converged: lengthen "
                           "simulation.valuation_horizon_years or check the reversion speed")
        return out

    def select(self, names: list[str] | tuple[str, ...]) -> Config:
        """Keep only the scenarios ``names``, in that order."""
        missing = [n for n in names if n not in self.scenarios]
        if missing:
            raise ConfigError([
                f"{self.source}: no scenario named {n!r}; the config has "
                + ", ".join(repr(s) for s in self.scenarios) for n in missing
            ])
        weights = None if self.weights is None else {n: self.weights[n] for n in names}
        return dataclasses.replace(self, scenarios={n: self.scenarios[n] for n in names},
                                   weights=weights)


def normalised_weights(weights: Mapping[str, float]) -> tuple[dict[str, float], str | None]:
    """Scenario weights scaled to sum to 1, and a note saying so when they did not already
    (None when they summed to 1 within 1e-9)."""
    total = math.fsum(weights.values())
    out = {name: w / total for name, w in weights.items()}
    if abs(total - 1.0) <= 1e-9:
        return out, None
    return out, (f"scenario weights sum to {total:g}, not 1: normalised to "
                 + ", ".join(f"{n} {w:.4g}" for n, w in out.items()))


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or Path
        The config file.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        If the file cannot be read or parsed, or any key is unknown, mistyped, out of range or
        inconsistent with another; the message names the file and every offending key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: the config is not UTF-8 text ({exc.reason} at byte "
                           f"{exc.start})"]) from None
    return parse_config(text, source=str(path))


def parse_config(text: str, source: str = "<string>") -> Config:
    """Validate a config given as TOML text. See :func:`load_config`.

    A byte-order mark at the start (some editors write one) is dropped.
    """
    text = text.removeprefix("\ufeff")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    return config_from_dict(raw, source, text)


def config_from_dict(raw: Mapping[str, Any], source: str = "<dict>", text: str = "",
                     overrides: Sequence[Mapping[str, Any]] = ()) -> Config:
    """Validate a config given as nested tables, as :mod:`tomllib` reads a TOML file.

    Parameters
    ----------
    raw : mapping
        ``{section: {key: value}}`` (dates as :class:`datetime.date`), optionally with
        ``scenarios``; not modified.
    source : str, default: "<dict>"
        Name of the config in messages.
    text : str, default: ""
        Stored as the config's text.
    overrides : sequence of mappings, optional
        Tables deep-merged onto ``raw`` in order before it is validated.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        As :func:`load_config`.
    """
    raw = merge(raw, *overrides)
    errors: list[str] = []
    signal_tables = raw.pop("signals", None)
    uncertainty = raw.pop("uncertainty", None)
    if uncertainty is not None and not isinstance(uncertainty, dict):
        errors.append(f"{source}: [uncertainty] must be a table. Got {uncertainty!r} instead.")
        uncertainty = None
    scenario_tables = raw.pop("scenarios", None)
    if scenario_tables is None:
        scenario_tables = {"base": {}}
    elif not isinstance(scenario_tables, dict) or not scenario_tables:
        errors.append(f"{source}: [scenarios] must be a table of at least one scenario table. "
                      f"Got {scenario_tables!r} instead.")
        scenario_tables = {}
    scenarios: dict[str, dict[str, Any]] = {}
    base_errors: list[str] = []
    base_values = _validate(raw, _Context(source, None, None), base_errors)
    errors += base_errors
    weights = _scenario_weights(scenario_tables, source, errors)
    for name, override in scenario_tables.items():
        if not _NAME.match(name):
            errors.append(f"{source}: scenario name {name!r} must be a letter or _ followed by "
                          "letters, digits or _.")
            continue
        if not isinstance(override, dict):
            errors.append(f"{source}: [scenarios.{name}] must be a table. Got {override!r} "
                          "instead.")
            continue
        if not override:
            if base_values is not None:
                scenarios[name] = copy.deepcopy(base_values)
            continue
        merged = merge(raw, override)
        scenario_errors: list[str] = []
        values = _validate(merged, _Context(source, name, override), scenario_errors)
        # a problem of the base config is reported once, for the base; a problem that only
        # the scenario's overrides cause names the scenario even where the key it names is
        # not one the scenario sets (e.g. keep_paths > an overridden n_paths)
        prefix = f"{source}: [scenarios.{name}"
        errors += [m if m.startswith(prefix) else f"{m} (caused by [scenarios.{name}])"
                   for m in scenario_errors if m not in base_errors]
        if values is not None:
            scenarios[name] = values
    signals: dict[str, dict[str, Any]] = {}
    if signal_tables is not None and base_values is not None and not errors:
        signals = validate_signals(signal_tables, scenarios, source, errors)
    if errors:
        raise ConfigError(list(dict.fromkeys(errors)))
    return Config(source=source, text=text, scenarios=scenarios, weights=weights,
                  signals=signals, uncertainty=uncertainty)


def _scenario_weights(tables: dict[str, Any], source: str,
                      errors: list[str]) -> dict[str, float] | None:
    """Take ``weight`` out of each ``[scenarios.NAME]`` table (it is not a config key) and
    check it: a number >= 0, given for every scenario or for none, not all 0."""
    given: dict[str, Any] = {}
    for name, table in tables.items():
        if isinstance(table, dict) and "weight" in table:
            table = dict(table)
            given[name] = table.pop("weight")
            tables[name] = table
    if not given:
        return None
    out: dict[str, float] = {}
    for name in tables:
        if name not in given:
            errors.append(f"{source}: [scenarios.{name}].weight is required: weights are given "
                          "for scenario " + ", ".join(repr(n) for n in given)
                          + ", so every scenario needs one (a weight of 0 leaves it out of the "
                          "mixture).")
            continue
        w = given[name]
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) \
                or w < 0:
            errors.append(f"{source}: [scenarios.{name}].weight must be a number >= 0. Got "
                          f"{_show(w)} instead.")
            continue
        out[name] = float(w)
    if len(out) == len(tables) and math.fsum(out.values()) <= 0:
        errors.append(f"{source}: [scenarios.*].weight must not all be 0: the mixture needs a "
                      "positive total weight.")
    return out if len(out) == len(tables) else None


def validate_merged(raw: dict[str, Any], source: str, overrides: list[dict[str, Any]],
                    errors: list[str]) -> dict[str, Any] | None:
    """Validate ``raw`` (no ``[scenarios]``) with ``overrides`` deep-merged onto it in order.

    Appends every problem to ``errors`` and returns the validated values, or None. Used where
    a config is assembled from several tables, e.g. a panel's company with its scenario and
    the panel's shared overrides.
    """
    return _validate(merge(raw, *overrides), _Context(source, None, None), errors)


# --------------------------------------------------------------------------------------------
# internals


@dataclasses.dataclass(frozen=True)
class _Context:
    source: str
    scenario: str | None
    override: dict[str, Any] | None

    def label(self, path: tuple[str, ...], key: str | None = None) -> str:
        """``[section.sub].key`` as written in the file the value came from."""
        prefix: tuple[str, ...] = ()
        if self.scenario is not None and self.override is not None:
            node: Any = self.override
            for part in (*path, key) if key is not None else path:
                if not isinstance(node, dict) or part not in node:
                    break
                node = node[part]
            else:
                prefix = ("scenarios", self.scenario)
        table = "[" + ".".join((*prefix, *path)) + "]"
        return f"{table}.{key}" if key is not None else table

    def bad(self, path: tuple[str, ...], key: str, expected: str, got: Any) -> str:
        return (f"{self.source}: {self.label(path, key)} must be {expected}. "
                f"Got {_show(got)} instead.")

    def say(self, path: tuple[str, ...], key: str, message: str) -> str:
        return f"{self.source}: {self.label(path, key)} {message}"


def _show(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value)


def _check_value(field: Field, value: Any, ctx: _Context, path: tuple[str, ...], key: str,
                 errors: list[str]) -> Any:
    """Return the typed value, or append an error and return None."""
    kind = field.kind
    expected = field.expectation()
    if kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "str":
        if isinstance(value, str) and value.strip():
            return value
    elif kind == "choice":
        assert field.choices is not None
        try:
            return field.choices(value).value
        except (ValueError, TypeError):
            if isinstance(value, list) and len(value) > 1:  # e.g. SBC as expense and dilution
                expected += " (exactly one of them, never several)"
    elif kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    elif kind == "points":
        points = _check_points(value)
        if points is not None:
            return points
    elif kind in ("float", "int"):
        if field.compounding and isinstance(value, str):  # "40%/yr" (simval.config.rates)
            rate = parse_rate(value, field.compounding)
            if rate is not None and _in_range(field, rate):
                return rate
            note = (f" (\"{value.strip()}\" is {rate:.6g} in the model's units, out of range)"
                    if rate is not None else rate_form_hint(value, field.compounding))
            errors.append(ctx.bad(path, key, expected, value) + note)
            return None
        ok_type = (isinstance(value, int) if kind == "int"
                   else isinstance(value, int | float)) and not isinstance(value, bool)
        if ok_type and math.isfinite(value) and _in_range(field, value):
            return int(value) if kind == "int" else float(value)
    else:  # pragma: no cover - schema error
        raise AssertionError(kind)
    errors.append(ctx.bad(path, key, expected, value))
    return None


def _in_range(field: Field, value: float) -> bool:
    if field.low is not None and (value < field.low or (field.low_open and value == field.low)):
        return False
    return not (field.high is not None
                and (value > field.high or (field.high_open and value == field.high)))


def _check_points(value: Any) -> tuple[tuple[float, float], ...] | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    points = []
    for item in value:
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool)
                           for v in item)):
            return None
        year, size = float(item[0]), float(item[1])
        if not (math.isfinite(year) and math.isfinite(size) and size > 0):
            return None
        points.append((year, size))
    years = [p[0] for p in points]
    if any(b <= a for a, b in zip(years, years[1:], strict=False)):
        return None
    return tuple(points)


def _validate_table(table: Any, fields: Mapping[str, Field], ctx: _Context,
                    path: tuple[str, ...], errors: list[str],
                    defaults: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """Validate one table against ``fields``; fill defaults (from ``defaults`` if given)."""
    if not isinstance(table, dict):
        errors.append(f"{ctx.source}: {ctx.label(path)} must be a table. Got {_show(table)} "
                      "instead.")
        return None
    n_errors = len(errors)
    out: dict[str, Any] = {}
    for key in table:
        if key not in fields:
            known = ", ".join(fields)
            errors.append(ctx.say(path, key, f"is not a known key. Known keys: {known}."))
    for key, field in fields.items():
        if key in table:
            out[key] = _check_value(field, table[key], ctx, path, key, errors)
        elif defaults is not None:
            out[key] = defaults[key]
        elif field.default is REQUIRED:
            errors.append(ctx.say(path, key, f"is required: {field.expectation()}."))
        else:
            default = field.default
            out[key] = default.value if hasattr(default, "value") else default
    return out if len(errors) == n_errors else None


def _validate(raw: dict[str, Any], ctx: _Context, errors: list[str]) -> dict[str, Any] | None:
    n_errors = len(errors)
    values: dict[str, Any] = {}
    # [sweep], [sensitivity] and [implied] are read by simval.config.research
    # (load_research_config); a run ignores them
    known = {*SCHEMA, "contracts", "slowdown", "sweep", "sensitivity", "implied"}
    for section in raw:
        if section not in known:
            errors.append(f"{ctx.source}: {ctx.label((section,))} is not a known section. Known "
                          "sections: " + ", ".join(sorted(known | {"scenarios"})) + ".")
    for section, fields in SCHEMA.items():
        values[section] = _validate_table(raw.get(section, {}), fields, ctx, (section,), errors)
    contracts_raw = raw.get("contracts", {})
    contracts: dict[str, Any] = {}
    if not isinstance(contracts_raw, dict):
        errors.append(f"{ctx.source}: [contracts] must be a table of named contract tables.")
    else:
        for name, table in contracts_raw.items():
            if not _NAME.match(name):
                errors.append(f"{ctx.source}: contract name {name!r} must be a letter or _ "
                              "followed by letters, digits or _.")
                continue
            contracts[name] = _validate_table(table, CONTRACT_FIELDS, ctx, ("contracts", name),
                                              errors)
    values["contracts"] = contracts
    if len(errors) > n_errors:
        return None
    values["slowdown"] = _validate_slowdown(raw.get("slowdown", {}), values, ctx, errors)
    if len(errors) > n_errors:
        return None
    _cross_checks(values, ctx, errors)
    return values if len(errors) == n_errors else None


def _validate_slowdown(raw: Any, values: dict[str, Any], ctx: _Context,
                       errors: list[str]) -> dict[str, Any]:
    """Values of the per-regime keys in the slowdown regime (normal values unless overridden)."""
    if not isinstance(raw, dict):
        errors.append(f"{ctx.source}: [slowdown] must be a table. Got {_show(raw)} instead.")
        return {}
    out: dict[str, Any] = {}
    for section in raw:
        if section not in SLOWDOWN_FIELDS and section != "contracts":
            errors.append(f"{ctx.source}: {ctx.label(('slowdown', section))} cannot differ in "
                          "the slowdown regime. Sections that can: "
                          + ", ".join([*SLOWDOWN_FIELDS, "contracts"]) + ".")
    for section, fields in SLOWDOWN_FIELDS.items():
        normal = {k: values[section][k] for k in fields}
        out[section] = _validate_table(raw.get(section, {}), fields, ctx, ("slowdown", section),
                                       errors, defaults=normal) or normal
    contracts_raw = raw.get("contracts", {})
    out["contracts"] = {}
    if not isinstance(contracts_raw, dict):
        errors.append(f"{ctx.source}: [slowdown.contracts] must be a table of contract tables.")
        return out
    for name in contracts_raw:
        if name not in values["contracts"]:
            errors.append(f"{ctx.source}: {ctx.label(('slowdown', 'contracts', name))} names no "
                          "contract in [contracts].")
    for name, contract in values["contracts"].items():
        normal = {k: contract[k] for k in CONTRACT_SLOWDOWN_FIELDS}
        out["contracts"][name] = _validate_table(
            contracts_raw.get(name, {}), CONTRACT_SLOWDOWN_FIELDS, ctx,
            ("slowdown", "contracts", name), errors, defaults=normal) or normal
    return out


def _whole_steps(years: float, steps_per_year: int) -> bool:
    steps = years * steps_per_year
    return abs(steps - round(steps)) < 1e-9 * max(1.0, steps)


def _check_delay(c: dict[str, Any], path: tuple[str, ...], n: int, step_words: str,
                 ctx: _Context, errors: list[str]) -> None:
    delay = c["replacement_delay_years"]
    if not _whole_steps(delay, n):
        errors.append(ctx.bad(path, "replacement_delay_years", step_words, delay))
    elif c["replacement_probability"] > 0 and round(delay * n) < 1:
        errors.append(ctx.bad(path, "replacement_delay_years",
                              f"at least one step ({1 / n:g} years) when replacement_probability "
                              "> 0", delay))


def _cross_checks(v: dict[str, Any], ctx: _Context, errors: list[str]) -> None:
    sim, com = v["simulation"], v["commercial"]
    n = sim["steps_per_year"]
    dt_years = 1.0 / n
    step_words = f"a whole number of steps (multiples of {dt_years:g} years)"
    if not _whole_steps(sim["horizon_years"], n):
        errors.append(ctx.bad(("simulation",), "horizon_years", step_words, sim["horizon_years"]))
    elif round(sim["horizon_years"] * n) > MAX_STEPS:
        errors.append(ctx.bad(("simulation",), "horizon_years",
                              f"at most {MAX_STEPS} steps long", sim["horizon_years"]))
    _check_valuation_horizon(sim, ctx, errors, step_words)
    if sim["keep_paths"] > sim["n_paths"]:
        errors.append(ctx.bad(("simulation",), "keep_paths",
                              f"at most n_paths ({sim['n_paths']})", sim["keep_paths"]))
    # measure: one way to account for risk, never both
    if sim["measure"] == Measure.REAL_WORLD:
        if sim["discount_rate"] is None:
            errors.append(ctx.say(("simulation",), "discount_rate",
                                  "is required when measure = 'real_world' (the risk-adjusted "
                                  "rate that discounts real-world cash flows)."))
        for key in ("price_of_revenue_risk", "price_of_growth_risk"):
            if com[key] != 0.0:
                errors.append(ctx.bad(("commercial",), key,
                                      "0 when measure = 'real_world' (the discount rate already "
                                      "prices risk; a market price of risk would count it twice)",
                                      com[key]))
    elif sim["discount_rate"] is not None:
        errors.append(ctx.say(("simulation",), "discount_rate",
                              "must not be set when measure = 'risk_neutral': risk-neutral "
                              "paths are discounted at costs.risk_free_rate, and a risk-adjusted "
                              f"rate would count risk twice. Got {sim['discount_rate']!r}."))
    as_of = v["company"]["as_of"]
    for name, c in v["contracts"].items():
        path = ("contracts", name)
        if not _whole_steps(c["term_years"], n):
            errors.append(ctx.bad(path, "term_years", step_words, c["term_years"]))
        _check_delay(c, path, n, step_words, ctx, errors)
        if c["first_renewal"] <= as_of:
            errors.append(ctx.bad(path, "first_renewal",
                                  f"a date after company.as_of ({as_of.isoformat()})",
                                  c["first_renewal"]))
    ren = v["renewals"]
    if ren["correlation"] + ren["budget_weight"] >= 1.0:
        errors.append(ctx.bad(("renewals",), "budget_weight",
                              f"< 1 - correlation ({1.0 - ren['correlation']:g}): the renewal "
                              "latent keeps an idiosyncratic part", ren["budget_weight"]))
    exp = v["expansion"]
    if exp["enabled"]:
        if not _whole_steps(exp["term_years"], n):
            errors.append(ctx.bad(("expansion",), "term_years", step_words, exp["term_years"]))
        _check_delay(exp, ("expansion",), n, step_words, ctx, errors)
        if exp["pool_size"] < 1:
            errors.append(ctx.bad(("expansion",), "pool_size", "at least 1 when enabled",
                                  exp["pool_size"]))
        if exp["revenue_median"] <= 0:
            errors.append(ctx.bad(("expansion",), "revenue_median", "> 0 when enabled",
                                  exp["revenue_median"]))
    if len(v["contracts"]) > MAX_NAMED_CONTRACTS:
        errors.append(f"{ctx.source}: [contracts] must hold at most {MAX_NAMED_CONTRACTS} "
                      f"contracts. Got {len(v['contracts'])} instead.")
    chips = v["chips"]
    if chips["enabled"] and chips["haircut_distribution"] == "uniform" \
            and chips["haircut_high"] < chips["haircut_low"]:
        errors.append(ctx.bad(("chips",), "haircut_high",
                              f">= haircut_low ({chips['haircut_low']:g})", chips["haircut_high"]))
    for section, key in (("chips", "shock_rate"), ("expansion", "win_rate")):
        if not v[section]["enabled"]:
            continue
        normal_rate = v[section][key]
        for regime_values, path in ((v[section], (section,)),
                                    (v["slowdown"][section], ("slowdown", section))):
            rate = regime_values[key]
            if path[0] == "slowdown" and rate == normal_rate:
                continue  # inherited from the normal regime: reported there
            if rate * dt_years > MAX_EVENTS_PER_STEP:
                errors.append(ctx.bad(path, key,
                                      f"at most {MAX_EVENTS_PER_STEP * n:g} per year "
                                      f"({MAX_EVENTS_PER_STEP:g} expected events per step)",
                                      rate))
    size = v["market_size"]
    if size["enabled"]:
        if size["points"] is None:
            errors.append(ctx.say(("market_size",), "points",
                                  "is required when market_size.enabled = true."))
        cur = size["currency"]
        foreign = cur is not None and cur != v["company"]["currency"]
        if foreign and size["fx_rate"] is None:
            errors.append(ctx.say(("market_size",), "fx_rate",
                                  f"is required: the points are in {cur}, the config in "
                                  f"{v['company']['currency']}."))
        elif not foreign and size["fx_rate"] not in (None, 1.0):
            errors.append(ctx.bad(("market_size",), "fx_rate",
                                  "absent or 1 when the points are in the config's currency "
                                  "(set market_size.currency to say which currency they are in)",
                                  size["fx_rate"]))
    _check_operating_model(v, ctx, errors)
    _check_valuation(v, ctx, errors)
    company = v["company"]
    if (company["reporting_currency"] is None) != (company["reporting_fx_rate"] is None):
        given, missing = (("reporting_currency", "reporting_fx_rate")
                          if company["reporting_fx_rate"] is None
                          else ("reporting_fx_rate", "reporting_currency"))
        errors.append(ctx.say(("company",), missing,
                              f"is required with {given}: money is reported in another "
                              "currency only at an explicit rate."))
    mkt = v["market"]
    if mkt["model"] == "multiple" and mkt["enabled"] and mkt["long_run_multiple"] is None:
        errors.append(ctx.say(("market",), "long_run_multiple",
                              "is required when market.enabled = true (model = multiple)."))
    if mkt["model"] == "value" and mkt["enabled"] and mkt["gap_half_life_years"] is None:
        errors.append(ctx.say(("market",), "gap_half_life_years",
                              "is required when market.enabled = true (model = value)."))
    fin = v["financing"]
    if fin["enabled"] and fin["amount"] <= 0:
        errors.append(ctx.bad(("financing",), "amount", "> 0 when financing.enabled = true",
                              fin["amount"]))


GROWTH_GAP_WARNING = 0.01
"""Expected growth at the valuation horizon further than this (a year) from its long-run
level is warned about: the horizon is too short for growth to have converged."""


def growth_gap_at_valuation_horizon(values: dict[str, Any]) -> float:
    """E[mu(T_v)] - mu_bar in the normal regime, ``(mu_0 - mu_bar) exp(-kappa T_v)`` (the price
    of growth risk and regime switches left out)."""
    com = values["commercial"]
    t_v = values["simulation"]["valuation_horizon_years"]
    return (com["growth"] - com["growth_long_run"]) * math.exp(-com["mean_reversion"] * t_v)


DEFAULT_VALUATION_HORIZON_YEARS = 10.0
"""The valuation horizon when a config gives none: at least ten years (or the question
horizon, if longer), by which a young company's growth should have converged."""


def _check_valuation_horizon(sim: dict[str, Any], ctx: _Context, errors: list[str],
                             step_words: str) -> None:
    """Fill in the valuation horizon T_v (default max(T_q, 10 years)) and check it: a whole
    number of steps, at least the question horizon T_q, at most the counter's steps."""
    n = sim["steps_per_year"]
    given = sim["valuation_horizon_years"]
    if given is None:
        sim["valuation_horizon_years"] = max(float(sim["horizon_years"]),
                                             DEFAULT_VALUATION_HORIZON_YEARS)
        return
    if not _whole_steps(given, n):
        errors.append(ctx.bad(("simulation",), "valuation_horizon_years", step_words, given))
    elif given < sim["horizon_years"]:
        errors.append(ctx.bad(("simulation",), "valuation_horizon_years",
                              f"at least horizon_years ({sim['horizon_years']:g}): the "
                              "valuation runs at least as long as the question", given))
    elif round(given * n) > MAX_STEPS:
        errors.append(ctx.bad(("simulation",), "valuation_horizon_years",
                              f"at most {MAX_STEPS} steps long", given))


def long_run_operating_expense_ratio(costs: dict[str, Any]) -> float | None:
    """The operating-expense ratio o_inf that gives ``target_operating_margin`` at maturity
    (full capacity, negligible fixed costs, commercial revenue):
    ``1 - alpha - s_e - m_c - m_bar``; None without a target."""
    target = costs["target_operating_margin"]
    if target is None:
        return None
    sbc_expense = costs["sbc_ratio"] if costs["sbc_treatment"] == "expense" else 0.0
    return (1.0 - costs["variable_cost_ratio"] - sbc_expense - costs["maintenance_capex_ratio"]
            - target)


def _check_operating_model(v: dict[str, Any], ctx: _Context, errors: list[str]) -> None:
    """SBC treated one way, a reachable target margin with its convergence speed."""
    cost = v["costs"]
    if cost["sbc_ratio"] > 0 and cost["sbc_treatment"] is None:
        errors.append(ctx.say(("costs",), "sbc_treatment",
                              f"is required when sbc_ratio > 0 (it is {cost['sbc_ratio']:g}): "
                              "'expense' (a cash-like cost) or 'dilution' (new shares at the "
                              "market value), one of the two, never both, never neither."))
    target = cost["target_operating_margin"]
    if target is not None:
        if cost["margin_convergence"] is None:
            errors.append(ctx.say(("costs",), "margin_convergence",
                                  "is required with target_operating_margin: the speed (per "
                                  "year) at which operating expenses reach the ratio that "
                                  "gives the target margin."))
        o_inf = long_run_operating_expense_ratio(cost)
        if o_inf is not None and o_inf < 0:
            errors.append(ctx.bad(("costs",), "target_operating_margin",
                                  "at most 1 - variable_cost_ratio - maintenance_capex_ratio "
                                  "- the SBC expense ratio "
                                  f"(= {target + o_inf:.4g}): a higher margin needs negative "
                                  "operating expenses", target))
    elif cost["margin_convergence"] is not None:
        errors.append(ctx.say(("costs",), "margin_convergence",
                              "has no effect without target_operating_margin: give the "
                              "target, or remove it."))


def _discount_rate_of(v: dict[str, Any]) -> float | None:
    sim = v["simulation"]
    return (sim["discount_rate"] if sim["measure"] == Measure.REAL_WORLD
            else v["costs"]["risk_free_rate"])


def _check_valuation(v: dict[str, Any], ctx: _Context, errors: list[str]) -> None:
    """The keys each terminal method needs, growth below the discount rate, one exit-multiple
    level (median or mean)."""
    val = v["valuation"]
    method = val["terminal_method"]
    path = ("valuation",)
    exits = (TerminalMethod.EV_SALES, TerminalMethod.EV_EBITDA)
    if val["exit_multiple_median"] is not None and val["exit_multiple_mean"] is not None:
        errors.append(ctx.say(path, "exit_multiple_mean",
                              "and exit_multiple_median both set the exit multiple's level: "
                              "give one of them."))
    elif method in exits and val["exit_multiple_median"] is None \
            and val["exit_multiple_mean"] is None:
        errors.append(ctx.say(path, "exit_multiple_median",
                              f"(or exit_multiple_mean) is required with terminal_method = "
                              f"'{method}'."))
    if val["contract_exit_multiple"] is not None and method != TerminalMethod.EV_SALES:
        errors.append(ctx.say(path, "contract_exit_multiple",
                              f"applies to terminal_method = 'ev_sales' only (here '{method}')."))
    if method in (TerminalMethod.GORDON, TerminalMethod.VALUE_DRIVER):
        if val["terminal_earnings"] != "annualised":
            errors.append(ctx.bad(path, "terminal_earnings",
                                  f"'annualised' with terminal_method = '{method}' (the "
                                  "perpetuity capitalises an annual cash flow at an annual rate)",
                                  val["terminal_earnings"]))
        if val["terminal_growth"] is None:
            errors.append(ctx.say(path, "terminal_growth",
                                  f"is required with terminal_method = '{method}'"
                                  + (" (the default)" if method == TerminalMethod.VALUE_DRIVER
                                     else "") + "."))
        else:
            rate = _discount_rate_of(v)
            if rate is not None and math.expm1(rate) <= val["terminal_growth"]:
                errors.append(ctx.bad(path, "terminal_growth",
                                      "below the discount rate (e^r - 1 = "
                                      f"{math.expm1(rate):.4g} in annual terms): a perpetuity "
                                      "growing as fast as its discount rate has no finite value",
                                      val["terminal_growth"]))
    if method == TerminalMethod.VALUE_DRIVER:
        roic, g = val["return_on_capital"], val["terminal_growth"]
        if roic is None:
            errors.append(ctx.say(path, "return_on_capital",
                                  "is required with terminal_method = 'value_driver' (the "
                                  "default): the return on the capital reinvested to grow at "
                                  "terminal_growth (reinvestment = g / ROIC of NOPAT)."))
        elif g is not None and g > 0 and roic <= g:
            errors.append(ctx.bad(path, "return_on_capital",
                                  f"above terminal_growth ({g:g}): growing at g needs "
                                  "reinvesting g / ROIC of NOPAT, all of it or more otherwise",
                                  roic))
