"""Benchmarks of the simval engine, written to benchmarks/results.md (never edit that by hand).

Every figure is the median of several runs, and every comparison is a ratio measured in the
same run of this script, on ``configs/zhipu_2026.toml`` (scenario ``base``) and
``configs/schwartz_moon_amazon.toml``:

1. engine vs the numpy reference implementation, same paths (2 threads and 1 thread);
2. engine vs an RNG-only kernel that draws the engine's random numbers and does nothing else;
3. 1 -> 2 threads, with identical results;
4. path-steps per second for 1e5, 1e6 and 1e7 paths (whole runs: kernel + statistics);
5. start-up of a 1,000-path run in a fresh process, warm and cold numba cache;
6. peak resident memory for 1e6, 1e7 and 1e8 paths;
7. whole runs against a plain numpy loop (:func:`numpy_schwartz_moon`, the Schwartz-Moon model
   as a user would write it), the kernel alone on the same paths, and where the time goes;
   the headline job (``simval run configs/zhipu_2026.toml``) in a fresh process; a two-level
   run, when :func:`simval.simulate` takes parameter draws.

Run: ``python benchmarks/run.py [--quick]`` (``--quick`` uses smaller sizes, for a smoke test).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simval  # noqa: E402
from simval import layout  # noqa: E402
from simval.engine import kernels, runner  # noqa: E402
from simval.engine.fundamental import fit_value_function  # noqa: E402
from simval.engine.histogram import FAN_GRID  # noqa: E402
from simval.engine.reference import simulate_reference  # noqa: E402
from simval.model.params import build_kernel_params, make_time_grid  # noqa: E402

CONFIGS = {"zhipu_2026": ROOT / "configs" / "zhipu_2026.toml",
           "schwartz_moon_amazon": ROOT / "configs" / "schwartz_moon_amazon.toml"}
GOALS = {"reference_2": 4.0, "reference_1": 2.0, "rng_bound": 2.0, "threads": 1.9,
         "startup_warm": 1.0, "memory_1e8_gb": 1.5, "peer_2": 2.0, "peer_2_aim": 3.0,
         "peer_1": 1.2, "whole_over_kernel": 1.3, "kernel_msteps": 80.0, "headline_s": 3.0,
         "two_level_s": 60.0}


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def interleaved_times(a, b, repeat: int) -> tuple[list[float], list[float]]:
    """Times of ``a`` and ``b`` run alternately ``repeat`` times each, so that both see the
    same state of a shared machine (the ratio of each pair is what a comparison uses)."""
    times_a, times_b = [], []
    for _ in range(repeat):
        for fn, times in ((a, times_a), (b, times_b)):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
    return times_a, times_b


def _setup(name: str):
    values = simval.load_config(CONFIGS[name]).scenarios["base"]
    grid = make_time_grid(values)
    seed = values["simulation"]["seed"]
    params = fit_value_function(build_kernel_params(values, grid), values, seed)[0]
    keys = runner.run_keys(seed)
    return values, grid, params, keys


def _kernel(params, keys, n):
    buffers = runner.ChunkBuffers(params, n)
    return buffers.outputs, lambda: buffers.simulate(params, keys, 0)


def bench_reference(name: str, n: int, repeat: int) -> dict:
    values, grid, params, keys = _setup(name)
    seed = values["simulation"]["seed"]
    buffers, run = _kernel(params, keys, n)
    run()
    out = {}
    for threads in (2, 1):
        numba.set_num_threads(threads)
        out[f"engine_{threads}"] = median_time(run, repeat)
    numba.set_num_threads(2)
    coefficients = params.value.value_coefficients if params.value.value_model else None
    out["reference"] = median_time(
        lambda: simulate_reference(values, grid, seed, 0, n, value_coefficients=coefficients),
        max(1, repeat // 2))
    ref = simulate_reference(values, grid, seed, 0, n, value_coefficients=coefficients)
    run()
    assert np.allclose(buffers[1], ref.scalars, rtol=1e-9, atol=1e-6, equal_nan=True), \
        "engine != reference"
    out["ratio_2"] = out["reference"] / out["engine_2"]
    out["ratio_1"] = out["reference"] / out["engine_1"]
    out["n"] = n
    return out


def bench_rng(name: str, n: int, repeat: int) -> dict:
    _, _, params, keys = _setup(name)
    buffers, run = _kernel(params, keys, n)
    run()
    counts = buffers[2]
    shocks = np.ascontiguousarray(counts[layout.COUNT_CHIP_SHOCKS])
    wins = np.ascontiguousarray(counts[layout.COUNT_CONTRACTS_WON])
    decisions = np.ascontiguousarray(counts[layout.COUNT_RENEWAL_DECISIONS])
    sink = np.empty(n)

    def rng():
        kernels.rng_only_chunk(params.path, *keys, 0, shocks, wins, decisions, sink)

    rng()
    engine, rng_time = interleaved_times(run, rng, repeat)
    return {"engine": statistics.median(engine), "rng": statistics.median(rng_time),
            "ratio": statistics.median(a / b for a, b in zip(engine, rng_time, strict=True)),
            "n": n}


def bench_threads(name: str, n: int, repeat: int) -> dict:
    _, _, params, keys = _setup(name)
    buffers, run = _kernel(params, keys, n)
    numba.set_num_threads(1)
    run()
    first = [b.copy() for b in buffers[:6]]
    numba.set_num_threads(2)
    run()
    identical = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, buffers[:6],
                                                                           strict=True))

    def threads(k: int):
        def go():
            numba.set_num_threads(k)
            run()
        return go

    one, two = interleaved_times(threads(1), threads(2), repeat)
    numba.set_num_threads(2)
    speedups = [a / b for a, b in zip(one, two, strict=True)]
    return {"one": statistics.median(one), "two": statistics.median(two),
            "speedup": statistics.median(speedups), "speedup_low": min(speedups),
            "speedup_high": max(speedups), "identical": identical, "n": n}


def bench_scaling(name: str, sizes: list[int]) -> list[dict]:
    rows = []
    for n in sizes:
        t = time.perf_counter()
        ds = simval.simulate(CONFIGS[name], n_paths=n, scenarios=["base"], keep_paths=0)
        elapsed = time.perf_counter() - t
        steps = n * (ds.sizes["time"] - 1)
        rows.append({"n": n, "seconds": elapsed, "path_steps_per_s": steps / elapsed,
                     "ns_per_path_step": elapsed / steps * 1e9})
    return rows


def bench_dimensions(n: int) -> list[dict]:
    """Seconds of a whole run as the model grows along one dimension at a time."""
    import re

    text = CONFIGS["zhipu_2026"].read_text()
    base = re.sub(r"(?ms)^\[scenarios\.(?!base\]).*?(?=^\[|\Z)", "", text)
    variants = {
        "base case (16 steps, 3 named contracts, pool 29, 1 scenario)": base,
        "steps x3 (monthly)": base.replace("steps_per_year = 4", "steps_per_year = 12", 1),
        "named contracts x10 (30)": base + "".join(
            f"\n[contracts.extra{i}]\nrevenue = 1e8\nterm_years = 1\n"
            f"first_renewal = 2027-01-01\nrenewal_probability = 0.9\n" for i in range(27)),
        "no expansion pool": base.replace("[expansion]\nenabled = true",
                                          "[expansion]\nenabled = false", 1),
        "scenarios x6": text,
    }
    rows = []
    for label, variant in variants.items():
        config = simval.parse_config(variant, source=label)
        simval.simulate(config, n_paths=BLOCK_SMALL, keep_paths=0)  # compile this shape
        t = time.perf_counter()
        ds = simval.simulate(config, n_paths=n, keep_paths=0)
        elapsed = time.perf_counter() - t
        rows.append({"variant": label, "seconds": elapsed, "scenarios": ds.sizes["scenario"],
                     "steps": ds.sizes["time"] - 1})
    return rows


BLOCK_SMALL = 4096

# Peak RSS of the child alone: /proc/self/status VmHWM belongs to the child's own address
# space (ru_maxrss would carry over the benchmark process's peak through fork and exec).
_CHILD = """
import resource, sys, time
t = time.perf_counter()
import simval
ds = simval.simulate(sys.argv[1], n_paths=int(sys.argv[2]), scenarios=["base"], keep_paths=0)
elapsed = time.perf_counter() - t
try:
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, peak_kb)
"""


def _child(config: Path, n: int, env: dict | None = None) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(config), str(n)], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env)
    seconds, rss_kb = out.stdout.split()
    return float(seconds), float(rss_kb) / 2**20


def bench_startup(name: str, repeat: int) -> dict:
    _child(CONFIGS[name], 1000)  # make sure the cache is warm
    warm = statistics.median(_child(CONFIGS[name], 1000)[0] for _ in range(repeat))
    colds = []
    for _ in range(max(1, repeat // 2)):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            colds.append(_child(CONFIGS[name], 1000, env)[0])
    with tempfile.TemporaryDirectory(prefix="simval-floor-") as floor_dir:
        parts = _floor(Path(floor_dir), repeat)
    return {"warm": warm, "cold": statistics.median(colds), **parts,
            "dask_installed": importlib.util.find_spec("dask") is not None}


def _floor(floor_dir: Path, repeat: int) -> dict:
    """Start-up costs in fresh processes: ``import simval``, and what the fixed design costs
    before simval does anything: the three libraries a run needs, xarray's first array (it
    imports dask, if installed, to recognise dask arrays), numba's first cached function (it
    initialises its type registries), and the three in one process."""
    # a one-line numba function with a warm cache, for the cost of numba's first cached call
    (floor_dir / "floor_kernel.py").write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef f(x):\n    return x + 1.0\n")
    subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                    "import floor_kernel; floor_kernel.f(1.0)", str(floor_dir)], check=True)

    def seconds(code: str) -> float:
        """Median seconds of ``code`` (which prints them) in fresh processes."""
        return statistics.median(
            float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                 text=True, cwd=ROOT).stdout.split()[-1])
            for _ in range(repeat))

    clock = "import time; t = time.perf_counter(); "
    done = "; print(time.perf_counter() - t)"
    return {
        "import": seconds(clock + "import simval" + done),
        "libraries": seconds(clock + "import numpy, numba, xarray" + done),
        "first_array": seconds("import numpy, xarray; " + clock
                               + "xarray.DataArray(numpy.zeros(1))" + done),
        "first_kernel": seconds("import numpy, numba, sys; sys.path.insert(0, " + repr(str(
            floor_dir)) + "); import floor_kernel; " + clock + "floor_kernel.f(1.0)" + done),
        "floor": seconds(clock + "import numpy, numba, xarray, sys; xarray.DataArray(numpy."
                         "zeros(1)); sys.path.insert(0, " + repr(str(floor_dir)) + "); "
                         "import floor_kernel; floor_kernel.f(1.0)" + done),
    }


def bench_memory(name: str, sizes: list[int]) -> list[dict]:
    return [{"n": n, "seconds": s, "rss_gb": rss}
            for n in sizes for s, rss in [_child(CONFIGS[name], n)]]


def numpy_schwartz_moon(n_paths: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Schwartz & Moon (2000), Amazon.com, as a user would write it: a vectorised numpy loop
    over the 100 quarters in the paper's units ($ millions, rates per quarter), numpy
    ``Generator`` normals. Returns each path's PV in $ and whether it went bankrupt."""
    rng = np.random.default_rng(seed)
    kappa, mu_bar, sigma_bar, sigma_0, eta_0, lam = 0.07, 0.015, 0.05, 0.10, 0.03, 0.01
    alpha, fixed, tax_rate, rf = 0.94, 75.0, 0.35, 0.05 / 4
    mu_noise = math.sqrt(-math.expm1(-2 * kappa) / (2 * kappa))  # exact OU step of mu
    revenue, mu = np.full(n_paths, 356.0), np.full(n_paths, 0.11)
    cash, losses = np.full(n_paths, 906.0), np.full(n_paths, 559.0)
    bankrupt = np.zeros(n_paths, dtype=bool)
    for quarter in range(100):
        sigma = sigma_bar + (sigma_0 - sigma_bar) * math.exp(-kappa * quarter)
        eta = eta_0 * math.exp(-kappa * quarter)
        ebitda = revenue * (1 - alpha) - fixed  # the quarter's revenue: its start's run-rate
        income = ebitda + rf * cash  # interest on cash is taxable
        taxed = income > losses  # loss carry-forward
        cash += income - np.where(taxed, tax_rate * (income - losses), 0.0)
        losses = np.where(taxed, 0.0, losses - income)
        bankrupt |= cash < 0
        e1, e2 = rng.standard_normal((2, n_paths))
        revenue *= np.exp(mu - lam * sigma - 0.5 * sigma**2 + sigma * e1)
        mu = mu_bar + (mu - mu_bar) * math.exp(-kappa) + eta * mu_noise * e2
    value = (cash + 10 * ebitda) * 1e6 * math.exp(-0.05 * 25)  # 10 x last quarter's EBITDA
    return np.where(bankrupt, 0.0, value), bankrupt


def _kernel_only(name: str, n: int):
    """The kernel alone over the paths of a whole run, chunk by chunk as a run does, with
    nothing accumulated."""
    _, _, params, keys = _setup(name)
    return lambda: runner.run_paths([(params, keys)], 0, n, on_chunk=lambda i, chunk: None)


def _profile(name: str, n: int, threads: int) -> dict:
    """Seconds a whole run spends in the kernel, the fans' binning, the rest of the streamed
    statistics, building the Dataset, and everything else (one run, timers around each)."""
    simulate_module = importlib.import_module("simval.simulate")  # simval.simulate: the function
    spent = {"kernel": 0.0, "fans": 0.0, "accumulate": 0.0, "dataset": 0.0}
    patched = [(kernels, "simulate_chunk", "kernel"), (kernels, "simulate_plain_chunk", "kernel"),
               (kernels, "histogram_series", "fans"),
               (runner.ScenarioAccumulator, "add_chunk", "accumulate"),
               (simulate_module, "build_dataset", "dataset")]
    originals = [getattr(owner, attr) for owner, attr, _ in patched]

    def timed(fn, key):
        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - t
        return call

    for (owner, attr, key), fn in zip(patched, originals, strict=True):
        setattr(owner, attr, timed(fn, key))
    try:
        t = time.perf_counter()
        simval.simulate(CONFIGS[name], n_paths=n, scenarios=["base"], keep_paths=0,
                        threads=threads)
        total = time.perf_counter() - t
    finally:
        for (owner, attr, _), fn in zip(patched, originals, strict=True):
            setattr(owner, attr, fn)
    spent["accumulate"] -= spent["fans"]  # add_chunk calls the binning
    spent["other"] = total - sum(spent.values())
    spent["total"] = total
    return spent


def bench_peer(n: int, repeat: int) -> dict:
    """Whole ``simval.simulate`` runs of Schwartz-Moon against :func:`numpy_schwartz_moon` and
    against the kernel alone, same paths, alternating, on 2 threads and on 1."""
    name = "schwartz_moon_amazon"
    load_before = os.getloadavg()[0]
    whole_ds = {}

    def whole(threads: int):
        def go():
            whole_ds["ds"] = simval.simulate(CONFIGS[name], n_paths=n, scenarios=["base"],
                                             keep_paths=0, threads=threads)
        return go

    def peer():
        whole_ds["peer"] = numpy_schwartz_moon(n, seed=1)

    kernel = _kernel_only(name, n)
    steps = _setup(name)[1].n_steps
    out: dict = {"n": n, "steps": steps}
    for threads in (2, 1):
        numba.set_num_threads(threads)
        whole(threads)()
        kernel()
        times: dict[str, list[float]] = {"peer": [], "whole": [], "kernel": []}
        for _ in range(repeat):
            for key, fn in (("peer", peer), ("whole", whole(threads)), ("kernel", kernel)):
                t = time.perf_counter()
                fn()
                times[key].append(time.perf_counter() - t)
        numba.set_num_threads(2)
        out[f"t{threads}"] = {
            **{key: statistics.median(v) for key, v in times.items()},
            "peer_over_whole": statistics.median(
                a / b for a, b in zip(times["peer"], times["whole"], strict=True)),
            "whole_over_kernel": statistics.median(
                a / b for a, b in zip(times["whole"], times["kernel"], strict=True)),
            "kernel_msteps": n * steps / statistics.median(times["kernel"]) / 1e6}
    ds, (pv, bankrupt) = whole_ds["ds"].isel(scenario=0), whole_ds["peer"]
    out["agreement"] = {
        "simval_pv": float(ds.pv_mean), "simval_pv_se": float(ds.pv_mean_se),
        "numpy_pv": float(pv.mean()), "numpy_pv_se": float(pv.std(ddof=1) / math.sqrt(n)),
        "simval_bankrupt": float(ds.p_bankrupt), "numpy_bankrupt": float(bankrupt.mean())}
    out["profile"] = {threads: _profile(name, n, threads) for threads in (2, 1)}
    out["binning"] = _binning_in_cache(name)
    out["load"] = [load_before, os.getloadavg()[0]]
    return out


def _binning_in_cache(name: str, n: int = 1024, repeat: int = 41) -> dict:
    """The fans' binning with the series in the cache: one ``n``-path chunk (a few MB) binned
    again and again on 2 threads, in seconds per binned value: what binning costs a whole
    run even if it read nothing from memory (its arithmetic and the histograms' updates)."""
    _, grid, params, keys = _setup(name)
    chunk = runner.simulate_chunk(params, keys, 0, n)
    plan, source_plan = chunk.plans
    hist = np.zeros((layout.N_SERIES, grid.n_steps + 1, FAN_GRID.n_bins), dtype=np.int32)
    source_hist = np.zeros((params.n_named + 1, grid.n_steps + 1, FAN_GRID.n_bins),
                           dtype=np.int32)
    values = (len(plan.rows) + len(source_plan.rows)) * (grid.n_steps + 1) * n
    numba.set_num_threads(2)
    bin_chunk = lambda: runner._hist_fans(chunk.series, hist, plan, chunk.sources,  # noqa: E731
                                          source_hist, source_plan)
    return {"n": n, "values": values,
            "seconds_per_value": median_time(bin_chunk, repeat) / values}


_HEADLINE_CHILD = """
import sys, tempfile, time
t = time.perf_counter()
from simval.cli import main
imported = time.perf_counter() - t
with tempfile.TemporaryDirectory() as out:
    t = time.perf_counter()
    code = main(["run", sys.argv[1], "--no-progress", "--out", out + "/run"])
    ran = time.perf_counter() - t
print(imported, ran, code)
"""


_HEADLINE_PROFILE = """
import importlib, json, sys, tempfile, time
t = time.perf_counter()
import simval
from simval.cli import main
from simval.engine import kernels, runner
imported = time.perf_counter() - t
simulate_module = importlib.import_module("simval.simulate")
spent = dict.fromkeys(("pilot_kernel", "pilot_fit", "kernel", "fans", "accumulate",
                       "dataset", "save", "headline"), 0.0)
# where dask is installed, xarray imports dask.array when it first builds a variable and
# dask.distributed when it writes a netCDF file: timed here, up front, as a part of the run
t = time.perf_counter()
try:
    import dask.array, distributed
except ImportError:
    pass
spent["dask_import"] = time.perf_counter() - t
patched = [(kernels, "simulate_chunk", "kernel"), (kernels, "simulate_plain_chunk", "kernel"),
           (kernels, "histogram_series", "fans"),
           (runner.ScenarioAccumulator, "add_chunk", "accumulate"),
           (simulate_module, "build_dataset", "dataset"), (simval, "save", "save"),
           (simval, "headline_table", "headline"),
           (simulate_module, "fit_value_function", "pilot_fit")]
in_pilot = []
def timed(fn, key):
    def call(*args, **kwargs):
        if key == "kernel" and in_pilot:  # the pilot's own simulation
            key_now = "pilot_kernel"
        else:
            key_now = key
        if key == "pilot_fit":
            in_pilot.append(True)
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key_now] += time.perf_counter() - t
            if key == "pilot_fit":
                in_pilot.pop()
    return call
for owner, attr, key in patched:
    setattr(owner, attr, timed(getattr(owner, attr), key))
with tempfile.TemporaryDirectory() as out:
    t = time.perf_counter()
    main(["run", sys.argv[1], "--no-progress", "--out", out + "/run"])
    spent["run"] = time.perf_counter() - t + spent["dask_import"]
spent["accumulate"] -= spent["fans"]
spent["pilot_fit"] -= spent["pilot_kernel"]  # the regression's own time
spent["import"] = imported
print(json.dumps(spent))
"""


def bench_headline(repeat: int) -> dict:
    """``simval run configs/zhipu_2026.toml`` (the README's main job) in a fresh process with
    a warm numba cache: wall-clock seconds, and the import and the run inside them."""
    walls, imports, runs = [], [], []
    for i in range(repeat + 1):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _HEADLINE_CHILD,
                              str(CONFIGS["zhipu_2026"])], check=True, capture_output=True,
                             text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        imported, ran, code = out.stdout.split()[-3:]
        assert code == "0", out.stdout[-2000:]
        if i:  # the first warms the cache
            walls.append(wall)
            imports.append(float(imported))
            runs.append(float(ran))
    out = subprocess.run([sys.executable, "-c", _HEADLINE_PROFILE, str(CONFIGS["zhipu_2026"])],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    profile = json.loads(out.stdout.strip().splitlines()[-1])
    return {"wall": statistics.median(walls), "import": statistics.median(imports),
            "run": statistics.median(runs), "load": os.getloadavg()[0], "profile": profile}


def bench_two_level(draws: int, n: int) -> dict:
    """A two-level run of zhipu_2026 (``draws`` parameter draws x ``n`` paths x its
    scenarios, :func:`simval.simulate_draws`)."""
    run = lambda: simval.simulate_draws(CONFIGS["zhipu_2026"], draws=draws,  # noqa: E731
                                        n_paths=n, keep_paths=0)
    run()
    return {"draws": draws, "n": n, "seconds": median_time(run, 1)}


def _mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def write_report(results: dict, path: Path) -> None:
    lines = ["# simval benchmarks", "",
             "Generated by `python benchmarks/run.py` (do not edit). Medians of repeated runs; "
             "every comparison is a ratio measured in the same run.", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, "
             f"simval {simval.__version__}.", ""]
    lines += ["## Engine against the numpy reference (same paths)", "",
              "| config | paths | engine, 2 threads | engine, 1 thread | reference | "
              f"ratio 2 threads (goal >= {GOALS['reference_2']:g}) | ratio 1 thread (goal >= "
              f"{GOALS['reference_1']:g}) |",
              "|---|---|---|---|---|---|---|"]
    for name, r in results["reference"].items():
        lines.append(f"| {name} | {r['n']:,} | {r['engine_2'] * 1e3:.1f} ms | "
                     f"{r['engine_1'] * 1e3:.1f} ms | {r['reference'] * 1e3:.0f} ms | "
                     f"{r['ratio_2']:.0f}x ({_mark(r['ratio_2'] >= GOALS['reference_2'])}) | "
                     f"{r['ratio_1']:.0f}x ({_mark(r['ratio_1'] >= GOALS['reference_1'])}) |")
    lines += ["", "## Engine against drawing its random numbers only", "",
              "| config | paths | engine | RNG only | engine / RNG (goal <= "
              f"{GOALS['rng_bound']:g}) |",
              "|---|---|---|---|---|"]
    for name, r in results["rng"].items():
        lines.append(f"| {name} | {r['n']:,} | {r['engine'] * 1e3:.1f} ms | "
                     f"{r['rng'] * 1e3:.1f} ms | {r['ratio']:.2f} "
                     f"({_mark(r['ratio'] <= GOALS['rng_bound'])}) |")
    lines += ["", "## 1 -> 2 threads", "",
              "Runs alternate between 1 and 2 threads; the speed-up is the median of the "
              "pairs' ratios, with the lowest and highest pair beside it.", "",
              "| config | paths | 1 thread | 2 threads | speed-up (goal >= "
              f"{GOALS['threads']:g}) | pairs | identical |",
              "|---|---|---|---|---|---|---|"]
    for name, r in results["threads"].items():
        spread = (f"{r['speedup_low']:.2f} - {r['speedup_high']:.2f}" if "speedup_low" in r
                  else "")
        lines.append(f"| {name} | {r['n']:,} | {r['one'] * 1e3:.1f} ms | {r['two'] * 1e3:.1f} ms "
                     f"| {r['speedup']:.2f} ({_mark(r['speedup'] >= GOALS['threads'])}) | "
                     f"{spread} | {'yes' if r['identical'] else '**no**'} |")
    lines += ["", "## Throughput of whole runs (kernel + streamed statistics, 2 threads)", "",
              "| config | paths | seconds | path-steps/s | ns per path-step |",
              "|---|---|---|---|---|"]
    for name, rows in results["scaling"].items():
        for r in rows:
            lines.append(f"| {name} | {r['n']:,} | {r['seconds']:.2f} | "
                         f"{r['path_steps_per_s'] / 1e6:.1f} M | {r['ns_per_path_step']:.1f} |")
    lines += ["", "## Cost along each dimension (zhipu_2026, whole runs, 2 threads)", "",
              "| variant | scenarios | steps | seconds | relative to the base case |",
              "|---|---|---|---|---|"]
    dims = results["dimensions"]
    for r in dims:
        lines.append(f"| {r['variant']} | {r['scenarios']} | {r['steps']} | {r['seconds']:.2f} "
                     f"| {r['seconds'] / dims[0]['seconds']:.2f}x |")
    s = results["startup"]
    lines += ["", "## Start-up: a 1,000-path run in a fresh process", "",
              f"| numba cache | seconds (goal: warm < {GOALS['startup_warm']:g} s) |", "|---|---|",
              f"| warm | {s['warm']:.2f} ({_mark(s['warm'] < GOALS['startup_warm'])}) |",
              f"| cold (empty cache: compiles) | {s['cold']:.2f} |",
              f"| of which `import simval` alone | {s['import']:.2f} |"]
    if "libraries" in s:
        floor = s["floor"]
        lines += ["", "What the fixed design costs before simval does any work (fresh processes, "
                  "same clock; the parts overlap, the floor is the three in one process):", "",
                  "| part | seconds |", "|---|---|",
                  f"| `import numpy, numba, xarray` | {s['libraries']:.2f} |",
                  f"| xarray's first array (imports dask to recognise dask arrays: dask is "
                  f"{'installed' if s['dask_installed'] else 'not installed'}) | "
                  f"{s['first_array']:.2f} |",
                  f"| numba's first cached function (initialises its type registries) | "
                  f"{s['first_kernel']:.2f} |",
                  f"| the floor of any run: all three in one process | {floor:.2f} |",
                  f"| simval's own share of the warm run | {s['warm'] - floor:.2f} |"]
    lines += ["", "## Peak resident memory (fresh process, keep_paths = 0)", "",
              "| config | paths | seconds | peak RSS |", "|---|---|---|---|"]
    for name, rows in results["memory"].items():
        for r in rows:
            goal = ""
            if r["n"] >= 10**8:
                goal = (f" ({_mark(r['rss_gb'] <= GOALS['memory_1e8_gb'])}: goal <= "
                        f"{GOALS['memory_1e8_gb']:g} GB)")
            lines.append(f"| {name} | {r['n']:,} | {r['seconds']:.0f} | "
                         f"{r['rss_gb']:.2f} GB{goal} |")
    if "peer" in results:
        lines += peer_section(results["peer"], results.get("headline"),
                              results.get("two_level"))
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def _missed_by(value: float, goal: float, larger_is_better: bool = True) -> str:
    """``met`` or ``**not met** (by N%)``."""
    if (value >= goal) if larger_is_better else (value <= goal):
        return "met"
    if larger_is_better:
        return f"**not met**, {1 - value / goal:.0%} short"
    return f"**not met**, {value / goal - 1:.0%} over"


def peer_section(peer: dict, headline: dict | None, two_level: dict | None) -> list[str]:
    """Section 7 of the report: whole runs against the numpy loop, where their time goes,
    the headline job and the two-level run."""
    t2, t1, a = peer["t2"], peer["t1"], peer["agreement"]
    diff_se = (a["simval_pv"] - a["numpy_pv"]) / math.hypot(a["simval_pv_se"],
                                                            a["numpy_pv_se"])
    lines = ["", f"## Whole runs against a plain numpy loop (Schwartz–Moon, {peer['n']:,} paths)",
             "",
             "`numpy_schwartz_moon` (in `benchmarks/run.py`) is the model as a user would write "
             "it: a vectorised numpy loop over the 100 quarters, numpy `Generator` normals, taxes "
             "with loss carry-forward, bankruptcy and a 10 x EBITDA exit. Against it, in one "
             "process and alternating: the whole `simval.simulate` run of "
             "`configs/schwartz_moon_amazon.toml` (same number of paths, `keep_paths = 0`, warm "
             "cache) and the kernel alone over the same paths, chunk by chunk, nothing "
             "accumulated. Ratios are medians of each round's ratio. The machine is shared: its "
             f"1-minute load average was {peer['load'][0]:.1f} before and {peer['load'][1]:.1f} "
             "after this section (2 cores), so absolute times are noisy; the ratios, measured "
             "side by side, much less so.", "",
             "| threads | numpy loop | whole run | kernel only | numpy / whole | whole / kernel "
             f"(goal <= {GOALS['whole_over_kernel']:g}) | kernel path-steps/s |",
             "|---|---|---|---|---|---|---|"]
    for threads, r, goal in ((2, t2, GOALS["peer_2"]), (1, t1, GOALS["peer_1"])):
        kernel_goal = (f" ({_missed_by(r['kernel_msteps'], GOALS['kernel_msteps'])}; goal "
                       f">= {GOALS['kernel_msteps']:g} M)" if threads == 2 else "")
        lines.append(
            f"| {threads} | {r['peer']:.3f} s | {r['whole']:.3f} s | {r['kernel']:.3f} s | "
            f"{r['peer_over_whole']:.2f}x ({_missed_by(r['peer_over_whole'], goal)}; goal >= "
            f"{goal:g}x) | {r['whole_over_kernel']:.2f} "
            f"({_missed_by(r['whole_over_kernel'], GOALS['whole_over_kernel'], False)}) | "
            f"{r['kernel_msteps']:.1f} M{kernel_goal} |")
    lines += ["", f"Agreement of the two answers (different random numbers): E[PV] "
              f"${a['simval_pv'] / 1e9:.3f}B ± {a['simval_pv_se'] / 1e9:.3f}B (simval) and "
              f"${a['numpy_pv'] / 1e9:.3f}B ± {a['numpy_pv_se'] / 1e9:.3f}B (numpy), "
              f"{diff_se:+.1f} combined standard errors apart; P(bankrupt) "
              f"{a['simval_bankrupt']:.2%} and {a['numpy_bankrupt']:.2%}.", "",
              "Where a whole run's time goes (one run each, timers around each part):", "",
              "| threads | kernel | fans (binning) | rest of the statistics | Dataset | other | "
              "total |", "|---|---|---|---|---|---|---|"]
    for threads, prof in sorted(peer["profile"].items(), key=lambda kv: -int(kv[0])):
        lines.append(f"| {threads} | " + " | ".join(
            f"{prof[key]:.3f} s ({prof[key] / prof['total']:.0%})"
            for key in ("kernel", "fans", "accumulate", "dataset", "other"))
            + f" | {prof['total']:.3f} s |")
    prof = peer["profile"].get(2, peer["profile"].get("2"))
    stats = prof["fans"] + prof["accumulate"] + prof["dataset"] + prof["other"]
    # the rows the fans read (total revenue, cash, market value), as the binning measured them
    rows = round(peer["binning"]["values"] / (peer["binning"]["n"] * (peer["steps"] + 1)))
    binned = rows * (peer["steps"] + 1) * peer["n"]
    budget = t2["peer"] / GOALS["peer_2"]
    lines += ["", f"Where the goals stand. The kernel runs {t2['kernel_msteps']:.0f} M "
              f"path-steps/s on 2 threads ({t1['kernel_msteps']:.0f} M on 1): paths like these, "
              "with no driver beyond revenue and cash, run in a kernel compiled for them alone "
              "(`simulate_plain_chunk`: the other drivers' code is folded away, so the step "
              "keeps its state in registers), and the running minimum, peak, drawdown and "
              "growth capital are computed without branches (a new peak is as good as random, "
              "and each mispredicted branch cost more than the division now done at every "
              "step). Its time is now mostly the simulation itself: per path-step two "
              "counter-based ziggurat normals (the RNG-only section), one `exp` from the C "
              "library (which the bit-identical results require), the step's arithmetic and "
              "the series stores. "
              f"The kernel alone is {t2['peer'] / t2['kernel']:.1f}x as fast as the numpy loop "
              f"on 2 threads and {t1['peer'] / t1['kernel']:.1f}x on 1; a whole run "
              f"{t2['peer_over_whole']:.1f}x and {t1['peer_over_whole']:.1f}x, because the "
              f"streamed statistics add {t2['whole_over_kernel'] - 1:.0%} to the kernel's time "
              f"in the alternating rounds ({stats / prof['kernel']:.0%} in the profiled run; "
              f"goal {GOALS['whole_over_kernel'] - 1:.0%}). To be {GOALS['peer_2']:g}x as fast "
              "as the numpy loop on 2 threads a whole run must "
              f"take {budget:.3f} s, so the statistics would have to cost "
              f"{max(budget - t2['kernel'], 0.0):.3f} s at most; the fans alone take "
              f"{prof['fans']:.3f} s: they bin {binned / 1e6:.0f} M values (total revenue, cash "
              "and the market value at every time; commercial revenue is counted with total "
              "revenue, and capacity, share and contract revenue are known from the parameters), "
              f"{prof['fans'] / binned * 1e9 * 2:.1f} ns of a thread per value, from the float's "
              "bits (no logarithm), one series and about eight times at a time, so that the "
              f"counts being added to ({FAN_GRID.n_bins:,} bins per time) stay in the core's "
              "cache. Binning "
              "inside the kernel, path by path, was not tried for that reason: a path's "
              "values would go to a different histogram at every time."]
    if "binning" in peer:
        floor = peer["binning"]["seconds_per_value"] * binned  # 2 threads
        lines += ["", f"How far the issue's design (series written only for the kept paths, each "
                  "block of paths binned while it is in the cache) could go: binned from the "
                  f"cache (one {peer['binning']['n']:,}-path chunk binned again and again), a "
                  f"value still costs {peer['binning']['seconds_per_value'] * 2e9:.1f} ns of a "
                  f"thread, so the binning's own work is {floor:.3f} s of this run on 2 "
                  f"threads, and the kernel plus that alone take {t2['kernel'] + floor:.3f} s "
                  f"against the {budget:.3f} s a run {GOALS['peer_2']:g}x as fast as the numpy "
                  "loop may take: "
                  f"{'within it' if t2['kernel'] + floor <= budget else 'over it'}. That design "
                  f"would save at most the memory traffic, {max(prof['fans'] - floor, 0.0):.3f} s "
                  "of the fans' time and some of the kernel's stores, and was not built."]
    if headline is not None:
        config = simval.load_config(CONFIGS["zhipu_2026"])
        n_scenarios, base = len(config.scenarios), config.base
        n_paths, n_steps = base["simulation"]["n_paths"], make_time_grid(base).n_steps
        lines += ["", "## The headline job: `simval run configs/zhipu_2026.toml`", "",
                  f"{n_paths:,} paths x {n_scenarios} scenarios, in a fresh process with a warm "
                  "numba cache "
                  "(medians of runs after one that warms it), the results written to a "
                  f"temporary folder; load average {headline['load']:.1f}.", "",
                  f"| wall clock (goal <= {GOALS['headline_s']:g} s) | of which importing "
                  "simval's CLI | of which the "
                  "run |", "|---|---|---|",
                  f"| {headline['wall']:.2f} s "
                  f"({_missed_by(headline['wall'], GOALS['headline_s'], False)}) "
                  f"| {headline['import']:.2f} s | {headline['run']:.2f} s |"]
        if "profile" in headline:
            prof = headline["profile"]
            parts = ("pilot_kernel", "pilot_fit", "kernel", "fans", "accumulate", "dataset",
                     "save", "headline", "dask_import")
            other = prof["run"] - sum(prof.get(key, 0.0) for key in parts)
            pilot = prof.get("pilot_kernel", 0.0) + prof.get("pilot_fit", 0.0)
            pilot_paths = base["market"]["pilot_paths"]
            lines += ["", "Where the run's time goes (one more run, timers around each part; "
                      "every scenario's):", "",
                      "| pilot: simulation | pilot: regression | kernel | fans (binning) | "
                      "rest of the statistics | Dataset | writing results.nc | headline table | "
                      "xarray importing dask | other (config, run set-up) |",
                      "|---|---|---|---|---|---|---|---|---|---|",
                      "| " + " | ".join(f"{prof.get(key, 0.0):.2f} s" for key in parts)
                      + f" | {other:.2f} s |", "",
                      f"The main runs' kernel alone takes {prof['kernel']:.1f} s of the "
                      f"{GOALS['headline_s']:g} s the goal allows ({n_scenarios} scenarios x "
                      f"{n_paths:,} paths x {n_steps} steps, "
                      f"{n_scenarios * n_paths * n_steps / prof['kernel'] / 1e6:.0f} M "
                      "path-steps/s: the Zhipu "
                      "step has contracts, an expansion pool, chip shocks, a regime, a market "
                      "size, a budget factor and the value model, every one of them on, so the "
                      "plain kernel's gains do not apply), and the value model's pilot "
                      f"({pilot_paths:,} paths per scenario, simulated with the state recorded at "
                      f"every time, then a regression at each time) another {pilot:.1f} s. With "
                      "the results file and the floor of any fresh process (importing numpy, "
                      "numba and xarray), the goal is out of reach of a faster kernel alone: it "
                      "would need fewer pilot paths or scenarios, which changes the numbers. "
                      "Two costs of the file format and its libraries are in the table: "
                      "results.nc is written with the netCDF4 C library, and where "
                      "dask is installed (the test extras; the README's "
                      "`pip install -e .` has no dask) xarray imports it while building the "
                      f"Dataset and writing the file, {prof.get('dask_import', 0.0):.2f} s."]
    if two_level is not None:
        lines += ["", "## Two-level run (zhipu_2026)", ""]
        if "skipped" in two_level:
            lines.append(f"Skipped: {two_level['skipped']}.")
        else:
            lines += [f"| draws | paths per draw | seconds (goal < {GOALS['two_level_s']:g} s) |",
                      "|---|---|---|",
                      f"| {two_level['draws']} | {two_level['n']:,} | "
                      f"{two_level['seconds']:.1f} "
                      f"({_missed_by(two_level['seconds'], GOALS['two_level_s'], False)}) |"]
    return lines


DEFAULT_OUT = ROOT / "benchmarks" / "results.md"
README_START = "<!-- benchmarks: written by benchmarks/run.py -->"
README_END = "<!-- end of benchmarks -->"


def _power_of_ten(n: int) -> str:
    """``10^7`` for 10,000,000; other numbers with thousands separators."""
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"10^{exponent}" if 10**exponent == n else f"{n:,}"


def readme_headline(results: dict) -> str:
    """The README's paragraph of headline figures, from the results of one run."""
    ref, rng, thr = results["reference"], results["rng"], results["threads"]
    scaling, s = results["scaling"], results["startup"]
    z, m = "zhipu_2026", "schwartz_moon_amazon"
    biggest = {name: max(rows, key=lambda r: r["n"]) for name, rows in scaling.items()}
    memory = max(results["memory"]["zhipu_2026"], key=lambda r: r["n"])
    missed = []
    for name, label in ((z, "Zhipu"), (m, "Schwartz–Moon")):
        if ref[name]["ratio_2"] < GOALS["reference_2"]:
            missed.append(f"engine vs reference on 2 threads for {label}")
        if ref[name]["ratio_1"] < GOALS["reference_1"]:
            missed.append(f"engine vs reference on 1 thread for {label}")
        if thr[name]["speedup"] < GOALS["threads"]:
            missed.append(f"1 -> 2 threads for {label} ({thr[name]['speedup']:.2f}x, goal "
                          f"{GOALS['threads']:g}x)")
        if rng[name]["ratio"] > GOALS["rng_bound"]:
            missed.append(f"engine / RNG-only for {label} ({rng[name]['ratio']:.1f}x, goal "
                          f"{GOALS['rng_bound']:g}x)")
    if s["warm"] >= GOALS["startup_warm"]:
        missed.append(f"warm start-up ({s['warm']:.1f} s, goal {GOALS['startup_warm']:g} s)")
    if memory["rss_gb"] > GOALS["memory_1e8_gb"]:
        missed.append(f"memory at 10^8 paths ({memory['rss_gb']:.2f} GB, goal "
                           f"{GOALS['memory_1e8_gb']:g} GB)")
    peer = results.get("peer")
    if peer is not None:
        if peer["t2"]["peer_over_whole"] < GOALS["peer_2"]:
            missed.append(f"whole run vs numpy loop on 2 threads "
                          f"({peer['t2']['peer_over_whole']:.2f}x, goal {GOALS['peer_2']:g}x)")
        if peer["t1"]["peer_over_whole"] < GOALS["peer_1"]:
            missed.append(f"whole run vs numpy loop on 1 thread "
                          f"({peer['t1']['peer_over_whole']:.2f}x, goal {GOALS['peer_1']:g}x)")
        if peer["t2"]["whole_over_kernel"] > GOALS["whole_over_kernel"]:
            missed.append(f"whole run / kernel ({peer['t2']['whole_over_kernel']:.2f}x, "
                          f"goal {GOALS['whole_over_kernel']:g}x)")
        if peer["t2"]["kernel_msteps"] < GOALS["kernel_msteps"]:
            missed.append(f"kernel speed ({peer['t2']['kernel_msteps']:.0f} M path-steps/s, "
                          f"goal {GOALS['kernel_msteps']:g} M)")
    headline = results.get("headline")
    if headline is not None and headline["wall"] > GOALS["headline_s"]:
        missed.append(f"the headline job ({headline['wall']:.1f} s, goal "
                      f"{GOALS['headline_s']:g} s)")
    floor = (f", {s['floor']:.1f} s of which is the floor any run pays for importing numpy, "
             "numba and xarray and their first use" if "floor" in s else "")
    load = (f"; the machine is shared with other work: load average {peer['load'][0]:.1f} "
            "during the comparison with a numpy loop" if peer is not None else "")
    text = (
        "Headline figures from [`benchmarks/results.md`](benchmarks/results.md) (2 cores"
        f"{load}): the numba engine is {ref[z]['ratio_2']:.0f}x (Zhipu) and "
        f"{ref[m]['ratio_2']:.1f}x (Schwartz–Moon) faster than the numpy reference on 2 "
        f"threads, {ref[z]['ratio_1']:.0f}x and {ref[m]['ratio_1']:.1f}x on one; 1 -> 2 threads "
        f"gives {thr[z]['speedup']:.2f}x and {thr[m]['speedup']:.2f}x with identical results; "
        f"{_power_of_ten(biggest[z]['n'])} paths run at "
        f"{biggest[z]['path_steps_per_s'] / 1e6:.1f} M and "
        f"{biggest[m]['path_steps_per_s'] / 1e6:.1f} M path-steps/s; a "
        f"{_power_of_ten(memory['n'])}-path run peaks at {memory['rss_gb']:.2f} GB resident. "
        "The engine takes "
        f"{rng[z]['ratio']:.1f}x and {rng[m]['ratio']:.1f}x the time of drawing its random "
        f"numbers alone, and a warm 1,000-path run in a fresh process takes {s['warm']:.1f} s"
        f"{floor}. "
        + (f"A whole `simval.simulate` run of {peer['n']:,} Schwartz–Moon paths is "
           f"{peer['t2']['peer_over_whole']:.1f}x (2 threads) and "
           f"{peer['t1']['peer_over_whole']:.1f}x (1 thread) as fast as a plain numpy loop "
           f"of the same model, and takes {peer['t2']['whole_over_kernel']:.2f}x the time of "
           f"its kernel alone. " if peer is not None else "")
        + (f"`simval run configs/zhipu_2026.toml` takes {headline['wall']:.1f} s warm. "
           if headline is not None else "")
        + (f"Goals not met: {'; '.join(missed)}." if missed else "Every goal is met."))
    return text


def write_readme(results: dict, readme: Path) -> None:
    """Replace the README's benchmark paragraph (between its two markers)."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START), text.index(README_END)
    body = "\n".join(textwrap.wrap(readme_headline(results), 96, break_on_hyphens=False))
    readme.write_text(text[:start + len(README_START)] + "\n" + body + "\n" + text[end:],
                      encoding="utf-8")


def _speed(quick: bool, repeat: int) -> dict:
    """Sections 1-4 and the cost along each model dimension."""
    results: dict = {"reference": {}, "rng": {}, "threads": {}, "scaling": {}}
    for name in CONFIGS:
        print(f"[{name}] reference, rng, threads", flush=True)
        results["reference"][name] = bench_reference(name, 1024 if quick else 8192, repeat)
        results["rng"][name] = bench_rng(name, 8192 if quick else 65536, repeat)
        results["threads"][name] = bench_threads(name, 8192 if quick else 65536, repeat)
        sizes = [10**4, 10**5] if quick else [10**5, 10**6, 10**7]
        print(f"[{name}] scaling {sizes}", flush=True)
        results["scaling"][name] = bench_scaling(name, sizes)
    print("dimensions", flush=True)
    results["dimensions"] = bench_dimensions(20_000 if quick else 200_000)
    return results


def _peer(quick: bool, repeat: int) -> dict:
    """Section 7: whole runs against the numpy loop, the headline job, the two-level run."""
    print("whole runs against a numpy loop", flush=True)
    peer = bench_peer(20_000 if quick else 200_000, max(3, repeat // 2))
    print("headline job", flush=True)
    headline = bench_headline(1 if quick else 3)
    print("two-level run", flush=True)
    two_level = bench_two_level(8 if quick else 64, 1024 if quick else 4096)
    return {"peer": peer, "headline": headline, "two_level": two_level}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", choices=("speed", "startup", "memory", "peer"),
                        help="measure only this part; the others are read from the last run's "
                             "results.json")
    args = parser.parse_args()
    quick = args.quick
    repeat = 3 if quick else 9
    saved = args.out.with_suffix(".json")
    if args.only is not None:
        results = json.loads(saved.read_text())
        if args.only == "startup":
            results["startup"] = bench_startup("zhipu_2026", repeat)
        elif args.only == "memory":
            results["memory"]["zhipu_2026"] = bench_memory(
                "zhipu_2026", [10**5, 10**6] if quick else [10**6, 10**7, 10**8])
        elif args.only == "peer":
            results.update(_peer(quick, repeat))
        else:
            results.update(_speed(quick, repeat))
        saved.write_text(json.dumps(results, indent=1, default=str))
        write_report(results, args.out)
        if not quick and args.out == DEFAULT_OUT:
            write_readme(results, ROOT / "README.md")
        print(f"written to {args.out}")
        return
    results: dict = {"memory": {}, **_speed(quick, repeat)}
    print("start-up", flush=True)
    results["startup"] = bench_startup("zhipu_2026", repeat)
    mem_sizes = [10**5, 10**6] if quick else [10**6, 10**7, 10**8]
    print(f"memory {mem_sizes}", flush=True)
    results["memory"]["zhipu_2026"] = bench_memory("zhipu_2026", mem_sizes)
    results.update(_peer(quick, repeat))
    (args.out.with_suffix(".json")).write_text(json.dumps(results, indent=1, default=str))
    write_report(results, args.out)
    if not quick and args.out == DEFAULT_OUT:
        write_readme(results, ROOT / "README.md")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
