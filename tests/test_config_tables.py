"""Raw config tables: the one deep merge, dot keys, and the one TOML writer (round trips)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import pytest

import simval
from simval.config.address import resolve_key
from simval.config.load import parse_config
from simval.config.tables import flatten, has_path, merge, set_path
from simval.config.toml import to_toml, toml_value

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))


def test_merge_is_deep_and_copies():
    base = {"chips": {"shock_rate": 0.5, "enabled": True}, "points": [[1, 2]], "seed": 1}
    over = {"chips": {"shock_rate": 0.8}, "points": [[3, 4]]}
    out = merge(base, over, {"seed": None, "new": {"x": 1}})
    assert out == {"chips": {"shock_rate": 0.8, "enabled": True}, "points": [[3, 4]],
                   "new": {"x": 1}}
    assert base == {"chips": {"shock_rate": 0.5, "enabled": True}, "points": [[1, 2]],
                    "seed": 1}
    out["chips"]["enabled"] = False
    out["points"][0][0] = 9
    assert base["chips"]["enabled"] and over["points"] == [[3, 4]]  # nothing shared
    assert merge(base) == base and merge(base) is not base
    # a table replaces a value that is not one, and the other way round
    assert merge({"a": 1, "b": {"c": 2}}, {"a": {"x": 1}, "b": 3}) == {"a": {"x": 1}, "b": 3}


def test_flatten_and_paths():
    raw = {"chips": {"shock_rate": 0.5}, "contracts": {"a": {"term_years": 2}}, "x": []}
    assert flatten(raw) == {"chips.shock_rate": 0.5, "contracts.a.term_years": 2, "x": []}
    assert has_path(raw, ("contracts", "a")) and not has_path(raw, ("contracts", "b"))
    assert not has_path(raw, ("chips", "shock_rate", "deeper"))
    set_path(raw, ("slowdown", "chips", "shock_rate"), 1.0)
    assert raw["slowdown"] == {"chips": {"shock_rate": 1.0}}


def test_toml_value_is_one_line():
    assert toml_value(np.float64(0.1)) == "0.1" and toml_value(np.int64(3)) == "3"
    assert toml_value(dt.date(2026, 6, 30)) == "2026-06-30"
    assert toml_value('say "hi"\n') == r'"say \"hi\"\n"'
    assert toml_value([[2024, 1e9], [2027, 2e9]]) == "[[2024, 1000000000.0], [2027, 2000000000.0]]"
    with pytest.raises(TypeError):
        toml_value(None)


def test_writer_round_trips_values():
    raw = {"a": {"x": np.float64(1.5), "n": np.int64(2), "inf": float("inf"), "t": (1, 2),
                 "b": {"when": dt.date(2026, 6, 30), "s": "ü \"q\" \\"}},
           "empty": {}, "dotted key": {"k": True}}
    back = tomllib.loads(to_toml(raw))
    assert back == {"a": {"x": 1.5, "n": 2, "inf": float("inf"), "t": [1, 2],
                          "b": {"when": dt.date(2026, 6, 30), "s": "ü \"q\" \\"}},
                    "empty": {}, "dotted key": {"k": True}}
    assert type(back["a"]["x"]) is float and type(back["a"]["n"]) is int
    with pytest.raises(TypeError):
        to_toml({"a": {"x": None}})


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_writer_round_trips_shipped_configs(path: Path):
    """The written TOML gives the same tables, the same validated values and, bit for bit,
    the same simulation."""
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    written = to_toml(raw)
    assert tomllib.loads(written) == raw
    before, after = parse_config(text, source=path.name), parse_config(written, source=path.name)
    assert after.scenarios == before.scenarios
    a = simval.simulate(before, n_paths=256, seed=11, keep_paths=8)
    b = simval.simulate(after, n_paths=256, seed=11, keep_paths=8)
    assert list(a.variables) == list(b.variables)
    for name in a.variables:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_config_key_reads_as_percent():
    config = simval.load_config(CONFIGS[0].parent / "zhipu_2026.toml")
    assert resolve_key(config, "commercial.growth_long_run").percent       # a growth rate
    assert resolve_key(config, "costs.risk_free_rate").percent              # an interest rate
    assert not resolve_key(config, "chips.shock_rate").percent              # an intensity
    assert not resolve_key(config, "valuation.exit_multiple_median").percent


def test_old_import_paths_still_work():
    """The names ``simval.research.sweep`` and ``simval.research.implied`` exported before the
    config tools moved to :mod:`simval.config` and implied was split into modules."""
    from simval.config.address import ConfigKey
    from simval.config.override import override
    from simval.research import implied
    from simval.research.sweep import SweepKey
    from simval.research.sweep import override as sweep_override
    from simval.research.sweep import to_toml as sweep_to_toml

    assert SweepKey is ConfigKey and sweep_to_toml is to_toml and sweep_override is override
    for name in implied.__all__:
        assert getattr(simval.implied, name) is getattr(implied, name)
