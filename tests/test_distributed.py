"""Runs on a Dask cluster are identical, bit for bit, to the single-process run."""

from __future__ import annotations

import gc
import importlib
import os
import signal
import threading
import time

import numpy as np
import pytest
import xarray as xr

import simval

pytestmark = pytest.mark.slow  # subprocesses, a Dask cluster or whole experiments

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client():
    from simval.engine.distributed import make_client

    client = make_client("local:2")
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def _kept_keys(client) -> set[str]:
    return {k for k in client.who_has() if str(k).startswith("simval-kept-")}


def _wait_for_workers(client, n: int, without: str | None = None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = client.scheduler_info()["workers"]
        if len(workers) >= n and without not in workers:
            return
        time.sleep(0.1)
    raise TimeoutError("the cluster did not get its workers back")


@pytest.fixture(scope="module")
def runs(client, full_config):
    """One distributed and one single-process run: ranges of one block on 2 x 2 tasks, kept
    paths in two of them."""
    kwargs = {"n_paths": 3 * 4096 + 500, "keep_paths": 5000}
    return simval.simulate(full_config, client=client, **kwargs), \
        simval.simulate(full_config, **kwargs)


def test_dask_run_equals_single_process(runs):
    on_cluster, local = runs
    xr.testing.assert_identical(on_cluster, local)
    xr.testing.assert_identical(on_cluster.compute(), local)  # compute: the fixture stays lazy


def test_kept_paths_stay_on_the_workers(client, runs):
    on_cluster, local = runs
    assert isinstance(local.path_pv.data, np.ndarray)  # no client: numpy, as before
    for name in ("path_pv", "path_total_revenue", "path_collapse_time", "path_chip_shocks"):
        data = on_cluster[name].data
        assert isinstance(data, da.Array), name
        # one chunk per scenario, and along path one per range of one block, cut at 5000
        assert data.chunks[:2] == ((1, 1, 1), (4096, 904)), name
        assert data.dtype == local[name].dtype, name
    for name in ("pv_mean", "p_collapse", "market_value_quantile", "p_justified_running"):
        assert isinstance(on_cluster[name].data, np.ndarray), name  # statistics: numpy
    # 3 scenarios x 2 chunks of rows, held on the cluster for the Dataset
    assert len({k for k in _kept_keys(client) if "-0-4096-" in k or "-4096-5000-" in k}) == 6


class _Bar:
    """Stands in for the progress bar and records its updates."""

    def __init__(self, enabled: bool, total: int, desc: str) -> None:
        self.total, self.updates = total, []

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, n: int) -> None:
        self.updates.append(n)


def test_kept_chunks_are_bounded_within_a_range(client, full_config, monkeypatch):
    from simval.engine import distributed as dist

    # kept rows of one block per chunk at most: ranges of 2 blocks are cut in two
    monkeypatch.setattr(dist, "KEPT_CHUNK_BYTES", 4096 * 1000)  # < 2 blocks of 824 B rows
    bars: list[_Bar] = []
    monkeypatch.setattr(importlib.import_module("simval.simulate"), "progress_bar",
                        lambda *args: bars.append(_Bar(*args)) or bars[-1])
    kwargs = {"n_paths": 8 * 4096, "keep_paths": 3 * 4096 + 100, "scenarios": ["base"]}
    on_cluster = simval.simulate(full_config, client=client, progress=True, **kwargs)
    assert on_cluster.path_cash.chunks[1] == (4096, 4096, 4096, 100)
    assert bars[0].updates == [2 * 4096] * 4  # the progress bar moves once per range
    local = simval.simulate(full_config, **kwargs)
    xr.testing.assert_identical(on_cluster.load(), local)


def test_zarr_from_the_workers_equals_single_process(client, runs, tmp_path):
    from distributed import get_task_stream

    on_cluster, local = runs
    with get_task_stream(client) as stream:
        path = simval.save(on_cluster, tmp_path / "cluster.zarr")
    # the kept paths were written by store tasks on the workers
    assert any("store-map" in str(t["key"]) for t in stream.data)
    assert [p.name for p in tmp_path.iterdir()] == ["cluster.zarr"]  # no temporary left
    simval.save(local, tmp_path / "local.zarr")
    xr.testing.assert_identical(simval.open_results(path),
                                simval.open_results(tmp_path / "local.zarr"))
    lazy = simval.open_results(path, chunks={})
    assert lazy.path_total_revenue.chunks[1] == (4096, 904)  # the store is chunked by range
    with pytest.raises(simval.ResultsExistError):
        simval.save(on_cluster, path)
    simval.save(on_cluster, tmp_path / "cluster.nc")  # netCDF: loaded here, then written
    xr.testing.assert_identical(simval.open_results(tmp_path / "cluster.nc"), local)


def test_cli_writes_zarr_from_the_workers(client, runs, full_config, tmp_path, capsys):
    from simval.cli import main

    config = tmp_path / "full.toml"
    config.write_text(full_config.text)
    out = tmp_path / "out"
    assert main(["run", str(config), "--paths", str(3 * 4096 + 500), "--keep-paths", "5000",
                 "--format", "zarr", "--out", str(out), "--no-progress",
                 "--scheduler", client.scheduler.address]) == 0
    assert f"results written to {out / 'results.zarr'}" in capsys.readouterr().out
    written = simval.open_results(out / "results.zarr", chunks={})
    assert written.path_pv.chunks[1] == (4096, 904)  # written by range, from the workers
    local = runs[1]
    xr.testing.assert_equal(written.load(), local)
    assert {**written.attrs, "config_source": "full.toml"} == local.attrs


def test_kept_rows_of_a_dead_worker_are_recomputed(client, full_config):
    kwargs = {"n_paths": 2 * 4096, "keep_paths": 4096 + 10, "scenarios": ["base"]}
    others = _kept_keys(client)
    on_cluster = simval.simulate(full_config, client=client, **kwargs)
    held = _kept_keys(client) - others
    holders = {w for k, ws in client.who_has().items() if k in held for w in ws}
    assert len(held) == 2 and holders  # rows of paths 0..4095 and 4096..4105, on the cluster
    victim = sorted(holders)[0]
    os.kill(client.run(os.getpid, workers=[victim])[victim], signal.SIGKILL)
    _wait_for_workers(client, 2, without=victim)
    xr.testing.assert_identical(on_cluster.compute(), simval.simulate(full_config, **kwargs))
    # the rows (the lost chunk recomputed) live as long as the Dataset refers to them
    assert held <= _kept_keys(client)
    del on_cluster
    gc.collect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and held & _kept_keys(client):
        time.sleep(0.1)
    assert not held & _kept_keys(client)


def test_dask_precision_run_equals_single_process(client, full_config):
    kwargs = {"n_paths": 4096, "precision": 0.012, "keep_paths": 10, "scenarios": ["base"]}
    on_cluster = simval.simulate(full_config, client=client, **kwargs)
    local = simval.simulate(full_config, **kwargs)
    xr.testing.assert_identical(on_cluster, local)


def test_identical_after_a_worker_dies_mid_run(client, full_config):
    kwargs = {"n_paths": 40 * 4096, "keep_paths": 100, "chunk_size": 4096}
    local = simval.simulate(full_config, **kwargs)
    result: dict[str, xr.Dataset] = {}
    runner = threading.Thread(
        target=lambda: result.setdefault("ds", simval.simulate(full_config, client=client,
                                                                **kwargs)))
    runner.start()
    deadline = time.monotonic() + 60
    killed = False
    while not killed and time.monotonic() < deadline:
        processing = client.processing()
        busy = [w for w, tasks in processing.items() if any("simval-" in t for t in tasks)]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # the worker process dies at once, mid-task
            killed = True
        else:
            time.sleep(0.05)
    runner.join(timeout=300)
    assert killed, "no simval task was seen running"
    assert not runner.is_alive()
    assert isinstance(result["ds"].path_market_value.data, da.Array)
    xr.testing.assert_identical(result["ds"].load(), local)


def test_signals_and_weights_on_the_cluster_equal_single_process(client):
    """The per-signal counts, the per-batch sums of the weighted mixture and everything
    derived from them are the same on a cluster as in one process."""
    from tests.conftest import FULL_CONFIG

    text = FULL_CONFIG.replace("[scenarios.base]\n", "[scenarios.base]\nweight = 2\n") \
        .replace("[scenarios.harsh_chips]\n", "[scenarios.harsh_chips]\nweight = 1\n") \
        .replace("[scenarios.calm_market]\n", "[scenarios.calm_market]\nweight = 1\n") + """
[signals.growth]
kind = "growth"
series = "total_revenue"
from = 2026-06-30
to = 2027-06-30
at_least = 0.3
[signals.city]
kind = "contract"
contract = "city"
by = 2027-03-31
state = "lost"
[signals.shock]
kind = "chip_shock"
by = 2026-12-31
"""
    config = simval.parse_config(text, source="signals.toml")
    kwargs = {"n_paths": 3 * 4096 + 500, "keep_paths": 0}
    on_cluster = simval.simulate(config, client=client, **kwargs)
    local = simval.simulate(config, **kwargs)
    assert "p_collapse_given_signal" in local and "weighted_p_collapse" in local
    xr.testing.assert_identical(on_cluster.compute(), local)


def test_two_level_run_on_the_cluster_equals_single_process(client):
    """Every draw on the cluster, kept paths of the first draw on the workers: identical to
    the two-level run in one process."""
    from tests.conftest import FULL_CONFIG

    config = simval.parse_config(FULL_CONFIG + """
[uncertainty]
draws = 2
[uncertainty.priors]
"chips.shock_rate" = { dist = "uniform", low = 0.2, high = 1.0 }
"commercial.growth" = { dist = "normal", mean = 0.4, sd = 0.05 }
""", source="full.toml")
    kwargs = {"n_paths": 2 * 4096 + 500, "keep_paths": 600}
    on_cluster = simval.simulate_draws(config, client=client, **kwargs)
    local = simval.simulate_draws(config, **kwargs)
    assert isinstance(on_cluster.path_pv.data, da.Array)
    xr.testing.assert_identical(on_cluster.compute(), local)


def test_value_model_on_a_cluster_equals_the_single_process_run(client, full_config):
    """The value model's W fit travels in the parameters: the cluster's run equals the local
    one, W_t and B_t of the kept paths included."""
    from simval.config.override import override

    config = override(full_config, {"market.model": "value", "market.gap_half_life_years": 2.0,
                                    "market.gap_volatility": 0.3, "market.pilot_paths": 2048,
                                    "slowdown.market.gap_long_run": 0.7}).select(["base"])
    kwargs = {"n_paths": 5000, "keep_paths": 30}
    on_cluster = simval.simulate(config, client=client, **kwargs).compute()
    local = simval.simulate(config, **kwargs)
    xr.testing.assert_identical(on_cluster, local)
    assert np.isfinite(local.path_fundamental_value.values).all()
