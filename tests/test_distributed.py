"""Runs on a Dask cluster are identical, bit for bit, to the single-process run."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import xarray as xr

import simval

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from simval.engine.distributed import make_client

    client = make_client("local:2")
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def test_dask_run_equals_single_process(client, full_config):
    kwargs = dict(n_paths=3 * 4096 + 500, keep_paths=5000)
    on_cluster = simval.simulate(full_config, client=client, **kwargs)
    local = simval.simulate(full_config, **kwargs)
    xr.testing.assert_identical(on_cluster, local)


def test_dask_precision_run_equals_single_process(client, full_config):
    kwargs = dict(n_paths=4096, precision=0.012, keep_paths=10, scenarios=["base"])
    on_cluster = simval.simulate(full_config, client=client, **kwargs)
    local = simval.simulate(full_config, **kwargs)
    xr.testing.assert_identical(on_cluster, local)


def test_identical_after_a_worker_dies_mid_run(client, full_config):
    kwargs = dict(n_paths=40 * 4096, keep_paths=100, chunk_size=4096)
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
    xr.testing.assert_identical(result["ds"], local)
