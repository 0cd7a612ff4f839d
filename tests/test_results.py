"""The Dataset: dims, units, attrs, headline statistics, save/open."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import simval


@pytest.fixture(scope="module")
def ds(full_config):
    return simval.simulate(full_config, n_paths=5000, keep_paths=20)


def test_dims_and_coords(ds, full_config):
    assert list(ds.scenario.values) == list(full_config.scenarios)
    assert ds.sizes["time"] == 13 and ds.sizes["path"] == 20 and ds.sizes["contract"] == 2
    assert np.issubdtype(ds.time.dtype, np.datetime64)
    assert str(ds.time.values[0])[:10] == "2026-06-30"
    assert str(ds.time.values[-1])[:10] == "2029-06-30"
    np.testing.assert_allclose(ds.years.values, np.arange(13) * 0.25)


def test_every_variable_has_units_and_description(ds):
    for name, var in ds.variables.items():
        if name in ("scenario", "time", "path", "contract", "source"):
            continue
        assert "units" in var.attrs, name
        assert var.attrs.get("description"), name
    assert ds.pv_mean.attrs["units"] == "CNY"
    assert ds.path_total_revenue.attrs["units"] == "CNY/year"


def test_attrs(ds, full_config):
    for key in ("currency", "as_of", "seed", "n_paths", "config", "config_sha256",
                "simval_version", "numpy_version", "numba_version", "time_unit"):
        assert key in ds.attrs, key
    assert ds.attrs["currency"] == "CNY"
    assert ds.attrs["config"] == full_config.text
    assert ds.attrs["n_paths"] == 5000


def test_headline_consistency(ds):
    for name in ("p_justified", "p_collapse", "p_bankrupt"):
        p, lo, hi = ds[name], ds[f"{name}_low"], ds[f"{name}_high"]
        assert ((lo <= p) & (p <= hi)).all()
        np.testing.assert_allclose(ds[f"{name}_se"], np.sqrt(p * (1 - p) / 5000))
    # the last point of P(collapsed by t) is P(collapse)
    np.testing.assert_array_equal(ds.p_collapsed_by.isel(time=-1), ds.p_collapse)
    np.testing.assert_array_equal(ds.p_bankrupt_by.isel(time=-1), ds.p_bankrupt)
    assert (ds.p_collapsed_by.diff("time") >= 0).all()
    # kept paths agree with the streamed statistics where both see the same paths
    assert (ds.pv_quantile.diff("quantile") >= 0).all()
    np.testing.assert_allclose(ds.value_ratio, ds.pv_mean / ds.valuation)


def test_p_justified_matches_pv_distribution(full_config):
    ds = simval.simulate(full_config, n_paths=4096, keep_paths=4096, scenarios=["base"])
    s = ds.sel(scenario="base")
    assert float(s.p_justified) == float((s.path_pv >= s.valuation).mean())
    np.testing.assert_allclose(float(s.pv_mean), float(s.path_pv.mean()), rtol=1e-12)
    median = float(s.pv_quantile.sel(quantile=0.5))
    np.testing.assert_allclose(median, float(np.quantile(s.path_pv, 0.5)), rtol=2e-3)
    collapsed = np.isfinite(s.path_collapse_time)
    assert float(s.p_collapse) == float(collapsed.mean())


def test_save_open_round_trip(ds, tmp_path):
    path = simval.save(ds, tmp_path / "r.nc")
    back = simval.open_results(path)
    xr.testing.assert_identical(ds, back)


def test_save_refuses_to_overwrite(ds, tmp_path):
    path = tmp_path / "r.nc"
    path.write_bytes(b"precious")
    with pytest.raises(simval.ResultsExistError):
        simval.save(ds, path)
    assert path.read_bytes() == b"precious"
    simval.save(ds, path, overwrite=True)
    assert path.read_bytes() != b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["r.nc"]  # no temporary left behind


def test_failed_write_leaves_nothing(ds, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(RuntimeError):
        simval.save(ds, tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_import_does_not_load_matplotlib():
    import subprocess
    import sys

    code = "import sys, simval; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_conventions_after_review(full_config):
    ds = simval.simulate(full_config, n_paths=4096, keep_paths=4096, scenarios=["base"])
    s = ds.sel(scenario="base")
    # every path starts at V_0, also where the TAM multiplier changes S_0
    np.testing.assert_allclose(s.path_market_value.isel(time=0), float(s.valuation),
                               rtol=1e-12)
    bankrupt = np.isfinite(s.path_bankruptcy_time.values)
    assert bankrupt.any()
    # a bankrupt firm has no terminal revenue, and the macro regime goes on without it
    assert (s.path_terminal_revenue.values[bankrupt] == 0).all()
    # the series record the bankruptcy step itself; after it there is no revenue
    before_t = bankrupt & (s.path_bankruptcy_time.values < float(s.years[-1]))
    assert before_t.any()
    assert (s.path_total_revenue.isel(time=-1).values[before_t] == 0).all()
    n = s.sizes["path"]
    p_slow_at_t = float(s.p_slowdown.isel(time=-1))
    assert 0 < p_slow_at_t < 1
    # P(slowdown at T) among bankrupt paths is not frozen at their bankruptcy-time regime:
    # it equals the unconditional value within sampling error
    a, b = -np.expm1(-0.3 * 0.25), -np.expm1(-0.8 * 0.25)
    truth = a / (a + b) * (1 - (1 - a - b) ** 12)
    assert abs(p_slow_at_t - truth) <= 5 * np.sqrt(truth * (1 - truth) / n)


def test_threshold_per_scenario(full_config):
    text = full_config.text + "\n[scenarios.no_line]\nmarket.collapse_drawdown = 0.5\n"
    text = text.replace("threshold = 20e9", "threshold = 20e9")
    config = simval.parse_config(text)
    ds = simval.simulate(config, n_paths=4096, keep_paths=0, scenarios=["base", "no_line"])
    np.testing.assert_allclose(ds.collapse_level, [0.2 * 50e9, 0.5 * 50e9])
    assert (ds.p_collapse.sel(scenario="no_line") >= ds.p_collapse.sel(scenario="base"))


def test_zarr_round_trip_and_no_overwrite(ds, tmp_path):
    pytest.importorskip("zarr")
    path = simval.save(ds, tmp_path / "r.zarr")
    back = simval.open_results(path)
    xr.testing.assert_identical(ds, back)
    with pytest.raises(simval.ResultsExistError):
        simval.save(ds, path)
    lazy = simval.open_results(path, chunks={})
    assert lazy.path_pv.chunks is not None
    xr.testing.assert_identical(lazy.load(), ds)
