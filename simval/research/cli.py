"""Command-line sub-commands of the research tools: ``simval sweep | implied | sensitivity |
calibrate``.

``simval.cli`` adds them with :func:`add_subcommands` and dispatches to :data:`handlers`; a
handler returns the exit code and raises :class:`simval.ConfigError` or :class:`ValueError` for
a user's mistake (exit code 2 in ``simval.cli.main``). No numerics of its own::

    simval sweep CONFIG --set KEY=V1,V2,... [--set ...] [--paths N] [--seed S]
                 [--scenario NAME ...] [--keep-paths N] [--out DIR] [--force]
                 [--report [DIR]]
    simval implied CONFIG --solve KEY --target p_justified=0.5|value_ratio=1
                   [--bracket LO,HI] [--paths N] [--seed S] [--scenario NAME]
                   [--out DIR] [--force]
    simval implied CONFIG --reverse-dcf [--target value_ratio=1] [--paths N] [--seed S]
                   [--scenario NAME] [--out DIR] [--force]
    simval sensitivity CONFIG [--range KEY=LO,HI ...] [--group KEY=GROUP ...]
                       [--method tornado|sobol|both] [--by-group] [--paths N] [--n-base N]
                       [--seed S] [--scenario NAME] [--out DIR] [--force]
    simval calibrate REVENUE.csv [--config CONFIG] [--fix KEY=VALUE ...] [--free KEY ...]
                     [--out FILE] [--force]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simval.cli_args import non_negative, output_folder, positive, root_seed
from simval.results.io import save, write_file_atomic

__all__ = ["add_subcommands", "handlers", "main"]


def _key_values(text: str) -> tuple[str, list[str]]:
    """``KEY=V1,V2,...`` -> (KEY, [V1, V2, ...])."""
    key, sep, values = text.partition("=")
    parts = [v.strip() for v in values.split(",")]
    if not sep or not key.strip() or not values.strip() or any(not v for v in parts):
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,...; got {text!r}")
    return key.strip(), parts


def _number_or_rate(text: str) -> float | str:
    """A number, or a rate written with its unit (``40%/yr``), converted later by the key's
    compounding (:func:`simval.config.address.coerce_value`)."""
    try:
        return float(text)
    except ValueError:
        if "%" not in text:
            raise
        return text


def _key_range(text: str) -> tuple[str, tuple[float | str, float | str]]:
    """``KEY=LO,HI`` -> (KEY, (LO, HI)); a rate's ends may be written ``30%/yr``."""
    key, values = _key_values(text)
    try:
        low, high = (_number_or_rate(v) for v in values)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KEY=LO,HI with two numbers; got "
                                         f"{text!r}") from None
    return key, (low, high)


def _key_group(text: str) -> tuple[str, str]:
    key, sep, group = text.partition("=")
    if not sep or not key.strip() or not group.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=GROUP; got {text!r}")
    return key.strip(), group.strip()


def _key_value(text: str) -> tuple[str, float]:
    """``KEY=VALUE`` -> (KEY, VALUE)."""
    key, values = _key_values(text)
    try:
        (value,) = (float(v) for v in values)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with one number; got "
                                         f"{text!r}") from None
    return key, value


def _bracket(text: str) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LO,HI (two numbers); got {text!r}") from None
    return low, high


def add_subcommands(subparsers: Any) -> None:
    """Add ``sweep``, ``implied``, ``sensitivity`` and ``calibrate`` to the sub-parsers of
    ``simval``.

    Parameters
    ----------
    subparsers
        The object returned by :meth:`argparse.ArgumentParser.add_subparsers`.
    """
    sweep = subparsers.add_parser(
        "sweep", help="simulate a config over a grid of key values on common random numbers; "
                      "write DIR/sweep.nc")
    sweep.add_argument("config", type=Path)
    sweep.add_argument("--set", dest="sets", action="append", type=_key_values, default=[],
                       metavar="KEY=V1,V2,...",
                       help="sweep KEY (e.g. contracts.beijing.renewal_probability) over these "
                            "values (repeatable: the full grid is run; default: the config's "
                            "[sweep] table)")
    sweep.add_argument("--paths", type=positive, help="paths per scenario and grid point")
    sweep.add_argument("--seed", type=root_seed, help="root seed, shared by every point")
    sweep.add_argument("--scenario", action="append", help="run only this scenario "
                                                           "(repeatable)")
    sweep.add_argument("--keep-paths", type=non_negative, default=0,
                       help="paths kept in full at every grid point (default: 0)")
    sweep.add_argument("--threads", type=positive, help="numba threads (default: all cores)")
    sweep.add_argument("--out", type=output_folder,
                       help="output folder (default: results/<config name>)")
    sweep.add_argument("--force", action="store_true",
                       help="overwrite an existing sweep.nc (and results.nc and the report, with "
                            "--report)")
    sweep.add_argument("--report", nargs="?", const=True, default=None, type=output_folder,
                       metavar="DIR",
                       help="also run the config as it is (DIR/results.nc, same paths and seed) "
                            "and write its report with the sweep in it (DIR/report.html; "
                            "default DIR: the output folder)")

    implied = subparsers.add_parser(
        "implied", help="the value of one input at which a target holds (reverse Monte "
                        "Carlo); write DIR/implied_<key>_<target>_<level>.json")
    implied.add_argument("config", type=Path)
    implied.add_argument("--solve", metavar="KEY",
                         help="the input to solve for, e.g. commercial.growth_long_run")
    implied.add_argument("--target", metavar="NAME=LEVEL",
                         help="p_justified=0.5 or value_ratio=1 (with --reverse-dcf: "
                              "value_ratio=R, default 1)")
    implied.add_argument("--reverse-dcf", action="store_true",
                         help="instead of --solve: the revenue growth (as the median revenue "
                              "CAGR to the question horizon) and the terminal operating margin "
                              "that make E[PV] = V0; write DIR/implied_reverse_dcf_*.json")
    implied.add_argument("--bracket", type=_bracket, metavar="LO,HI",
                         help="where to look (default: widening ranges around the config's "
                              "value)")
    implied.add_argument("--paths", type=positive, default=4000,
                         help="paths per run (default: 4000)")
    implied.add_argument("--seed", type=root_seed, help="root seed, shared by every run")
    implied.add_argument("--scenario", default="base", help="scenario (default: base)")
    implied.add_argument("--threads", type=positive, help="numba threads (default: all cores)")
    implied.add_argument("--out", type=output_folder,
                         help="output folder (default: results/<config name>)")
    implied.add_argument("--force", action="store_true", help="overwrite an existing result")

    sens = subparsers.add_parser(
        "sensitivity", help="tornado and/or Sobol' indices over input ranges; write "
                            "DIR/tornado.nc, DIR/sobol.nc")
    sens.add_argument("config", type=Path)
    sens.add_argument("--range", dest="ranges", action="append", type=_key_range, default=[],
                      metavar="KEY=LO,HI",
                      help="range of an input (repeatable; default: the config's "
                           "[sensitivity.ranges] table)")
    sens.add_argument("--group", dest="groups", action="append", type=_key_group, default=[],
                      metavar="KEY=GROUP", help="driver group of an input (repeatable)")
    sens.add_argument("--method", choices=("tornado", "sobol", "both"), default="tornado",
                      help="default: tornado")
    sens.add_argument("--by-group", action="store_true",
                      help="Sobol' indices per driver group instead of per input")
    sens.add_argument("--paths", type=positive,
                      help="paths per run (default: 4000 for the tornado, 2000 for Sobol')")
    sens.add_argument("--n-base", type=positive, default=64,
                      help="Sobol' base sample size, a power of 2 (default: 64): "
                           "N x (inputs + 2) runs")
    sens.add_argument("--seed", type=root_seed, help="root seed, shared by every run")
    sens.add_argument("--scenario", default="base", help="scenario (default: base)")
    sens.add_argument("--threads", type=positive, help="numba threads (default: all cores)")
    sens.add_argument("--out", type=output_folder,
                      help="output folder (default: results/<config name>)")
    sens.add_argument("--force", action="store_true", help="overwrite existing results")

    cal = subparsers.add_parser(
        "calibrate", help="fit the commercial revenue process to a quarterly revenue history "
                          "(Kalman-filter maximum likelihood); print the estimates and the "
                          "[uncertainty.priors] table")
    cal.add_argument("revenue", type=Path, metavar="REVENUE.csv",
                     help="date,revenue per period (see data/*.csv)")
    cal.add_argument("--config", type=Path,
                     help="config whose commercial values are held where the history does not "
                          "identify them, and whose currency the run-rate is checked against")
    cal.add_argument("--fix", action="append", type=_key_value, default=[],
                     metavar="KEY=VALUE",
                     help="hold a parameter (e.g. commercial.mean_reversion=0.35; repeatable)")
    cal.add_argument("--free", action="append", default=[], metavar="KEY",
                     help="also estimate commercial.correlation or measurement_noise (held by "
                          "default; repeatable)")
    cal.add_argument("--out", type=Path, metavar="FILE",
                     help="write the [uncertainty] tables to FILE (default: print them)")
    cal.add_argument("--force", action="store_true", help="overwrite an existing FILE")


def _targets(out_dir: Path, names: list[str]) -> list[Path]:
    return [out_dir / n for n in names]


def _ignore_uncertainty(config: Any, command: str) -> None:
    """Say that the research commands run the config's own values, not its priors."""
    if config.uncertainty is not None:
        print(f"simval: note: {config.source}: [uncertainty] is ignored: {command} moves the "
              "config's own values (its priors are for simval run --draws)", file=sys.stderr)


def _duplicates(pairs: list[tuple[str, Any]], option: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"{option} {key} is given twice")
        out[key] = value
    return out


def _sweep(args: argparse.Namespace) -> int:
    from simval.config.research import load_research_config
    from simval.research.sweep import sweep
    from simval.research.sweep_text import sweep_table
    from simval.results.io import claim_output

    research = load_research_config(args.config)
    _ignore_uncertainty(research.config, args.command)
    grid = _duplicates(args.sets, "--set") or research.sweep
    if not grid:
        raise ValueError(f"{args.config}: nothing to sweep: give --set KEY=V1,V2,... or a "
                         "[sweep] table in the config")
    n_paths = args.paths or research.config.base["simulation"]["n_paths"]
    if args.keep_paths > n_paths:
        raise ValueError(f"--keep-paths ({args.keep_paths}) must be at most the paths per "
                         f"grid point ({n_paths})")
    out_dir = args.out if args.out is not None else Path("results") / args.config.stem
    report_dir = None if args.report is None else (out_dir if args.report is True
                                                   else args.report)
    names = ["sweep.nc"] + (["results.nc"] if report_dir is not None else [])
    names += ["report.html"] if report_dir == out_dir else []
    (target,) = _targets(out_dir, ["sweep.nc"])
    with claim_output(out_dir, names, overwrite=args.force):
        if report_dir is not None and report_dir != out_dir:
            from simval.report.build import check_writable

            check_writable(report_dir, "html", args.force)  # refuse before simulating
        ds = sweep(research, grid, n_paths=args.paths, seed=args.seed, scenarios=args.scenario,
                   keep_paths=args.keep_paths, threads=args.threads)
        save(ds, target, overwrite=args.force)
        print(sweep_table(ds), end="")
        print(f"results written to {target}")
        if report_dir is not None:
            _sweep_report(args, research.config, target, out_dir, report_dir, n_paths)
    return 0


def _sweep_report(args: argparse.Namespace, config: Any, sweep_file: Path, out_dir: Path,
                  report_dir: Path, n_paths: int) -> None:
    """Run the unswept config on the sweep's paths and seed, and write its report with the
    sweep in it."""
    from simval.report.build import write_report
    from simval.simulate import simulate

    if args.scenario:
        config = config.select(args.scenario)
    keep = min(config.base["simulation"]["keep_paths"], n_paths)
    run = simulate(config, n_paths=args.paths, seed=args.seed, keep_paths=keep,
                   threads=args.threads)
    results = out_dir / "results.nc"
    save(run, results, overwrite=args.force)
    print(f"the config as it is: results written to {results}")
    path = write_report(run, report_dir, overwrite=args.force, source=results,
                        sweep=sweep_file)
    print(f"report written to {path}")


def _implied(args: argparse.Namespace) -> int:
    from simval.config.research import load_research_config
    from simval.research.implied import (
        describe,
        parse_target,
        result_filename,
        save_result,
        solve,
    )
    from simval.results.io import claim_output

    if args.reverse_dcf:
        return _reverse_dcf(args)
    if args.solve is None or args.target is None:
        raise ValueError("implied needs --solve KEY and --target NAME=LEVEL, or --reverse-dcf")
    name, level = parse_target(args.target)  # a malformed target fails before any simulation
    research = load_research_config(args.config)
    _ignore_uncertainty(research.config, args.command)
    out_dir = args.out if args.out is not None else Path("results") / args.config.stem
    (target,) = _targets(out_dir, [result_filename(args.solve, name, level)])
    with claim_output(out_dir, [target.name], overwrite=args.force):  # refuse before solving
        result = solve(research, args.solve, (name, level), bracket=args.bracket,
                       n_paths=args.paths, seed=args.seed, scenario=args.scenario,
                       threads=args.threads)
        save_result(result, target, overwrite=args.force)
    print(describe(result))
    print(f"{result.key} = {result.value:.6g} [{result.low:.6g}, {result.high:.6g}] "
          f"({result.confidence:.0%}); achieved {result.target} = {result.achieved:.4g} "
          f"± {result.achieved_se:.2g}; {result.n_runs} runs of {result.n_paths:,} paths, "
          f"seed {result.seed}")
    print(f"result written to {target}")
    return 0


def _reverse_dcf(args: argparse.Namespace) -> int:
    from simval.config.research import load_research_config
    from simval.research.implied import (
        describe_reverse_dcf,
        parse_target,
        reverse_dcf,
        reverse_dcf_filename,
        save_result,
    )
    from simval.results.io import claim_output

    if args.solve is not None or args.bracket is not None:
        raise ValueError("--reverse-dcf solves for its own keys (commercial.growth, "
                         "costs.target_operating_margin): drop --solve and --bracket")
    name, level = parse_target(args.target or "value_ratio=1")
    if name != "value_ratio":
        raise ValueError(f"--reverse-dcf meets a value_ratio target; got {args.target!r}")
    research = load_research_config(args.config)
    _ignore_uncertainty(research.config, args.command)
    out_dir = args.out if args.out is not None else Path("results") / args.config.stem
    (target,) = _targets(out_dir, [reverse_dcf_filename(level)])
    with claim_output(out_dir, [target.name], overwrite=args.force):  # refuse before solving
        result = reverse_dcf(research, n_paths=args.paths, seed=args.seed,
                             scenario=args.scenario, level=level, threads=args.threads)
        save_result(result, target, overwrite=args.force)
    print(describe_reverse_dcf(result))
    for r in (result.growth, result.margin):
        if r is not None:
            print(f"{r.key} = {r.value:.6g} [{r.low:.6g}, {r.high:.6g}] "
                  f"({r.confidence:.0%}); achieved {r.target} = {r.achieved:.4g} "
                  f"± {r.achieved_se:.2g}; {r.n_runs} runs of {r.n_paths:,} paths, "
                  f"seed {r.seed}")
    print(f"result written to {target}")
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    from simval.config.research import load_research_config
    from simval.research.sensitivity import sobol, sobol_table, tornado, tornado_table
    from simval.results.io import claim_output

    research = load_research_config(args.config)
    _ignore_uncertainty(research.config, args.command)
    ranges = _duplicates(args.ranges, "--range") or research.ranges
    groups = {**research.groups, **_duplicates(args.groups, "--group")}
    if not ranges:
        raise ValueError(f"{args.config}: no input ranges: give --range KEY=LO,HI or a "
                         "[sensitivity.ranges] table in the config")
    methods = ["tornado", "sobol"] if args.method == "both" else [args.method]
    if "sobol" in methods and args.n_base & (args.n_base - 1):
        raise ValueError(f"--n-base must be a power of 2; got {args.n_base}")
    out_dir = args.out if args.out is not None else Path("results") / args.config.stem
    targets = _targets(out_dir, [f"{m}.nc" for m in methods])
    with claim_output(out_dir, [t.name for t in targets], overwrite=args.force):
        for method, target in zip(methods, targets, strict=True):
            if method == "tornado":
                ds = tornado(research, ranges, n_paths=args.paths or 4000, seed=args.seed,
                             scenario=args.scenario, groups=groups, threads=args.threads)
                table = tornado_table(ds)
            else:
                ds = sobol(research, ranges, n_base=args.n_base, n_paths=args.paths or 2000,
                           seed=args.seed, scenario=args.scenario,
                           groups=(groups or True) if args.by_group else None,
                           threads=args.threads)
                table = sobol_table(ds)
            save(ds, target, overwrite=args.force)
            print(table)
            print(f"results written to {target}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from simval.research.calibration import calibrate, calibration_table, priors_toml

    if args.out is not None and args.out.exists() and not args.force:
        raise ValueError(f"{args.out} exists; give --force to overwrite it")
    cal = calibrate(args.revenue, config=args.config, fixed=_duplicates(args.fix, "--fix"),
                    free=args.free)
    print(calibration_table(cal), end="")
    text = priors_toml(cal, source=str(args.revenue))
    if args.out is None:
        print()
        print(text, end="")
    else:
        if args.out.parent != Path():
            args.out.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomic(args.out, text.encode("utf-8"))
        print(f"priors written to {args.out}")
    return 0


handlers: dict[str, Callable[[argparse.Namespace], int]] = {
    "sweep": _sweep,
    "implied": _implied,
    "sensitivity": _sensitivity,
    "calibrate": _calibrate,
}
"""Sub-command name -> handler(args) -> exit code."""


def main(argv: list[str] | None = None) -> int:
    """The research sub-commands on their own, with the exit codes of ``simval.cli.main``
    (0 success, 2 bad input); for tests, and until they are wired into ``simval.cli``."""
    import sys

    from simval.config.load import ConfigError
    from simval.results.io import ResultsExistError

    parser = argparse.ArgumentParser(prog="simval")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse's own errors and --help
        return int(exc.code or 0)
    try:
        return handlers[args.command](args)
    except (ConfigError, ResultsExistError, FileNotFoundError, ValueError) as exc:
        print(f"simval: error: {exc}", file=sys.stderr)
        return 2
