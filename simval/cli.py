"""Command line: ``simval init | run | validate | show | report | panel | sweep | sensitivity |
implied | calibrate``. No numerics of its own.

``simval report`` (and ``run --report``) includes the research results found beside the
results (``tornado.nc``, ``sobol.nc``, ``sweep.nc``, ``implied_*.json``); ``simval report
PANEL.nc`` and ``simval panel PANEL --report`` write the side-by-side report of a company
panel.

Exit codes: 0 success, 2 bad input (config, arguments, existing output), 1 internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simval.cli_args import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    Parser,
    non_negative,
    output_folder,
    positive,
    probability_width,
    root_seed,
)

__all__ = ["main"]

def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="simval", description="Monte Carlo valuation: is the valuation "
                     "justified, and how likely is it to collapse?")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="simulate a config, print the headline table, write "
                                     "results.nc (or results.zarr)")
    run.add_argument("config", type=Path)
    run.add_argument("--paths", type=positive, help="paths per scenario")
    run.add_argument("--seed", type=root_seed, help="root seed")
    run.add_argument("--scenario", action="append", help="run only this scenario (repeatable)")
    run.add_argument("-o", "--out", type=output_folder,
                     help="output folder (default: results/<config name>)")
    run.add_argument("--threads", type=positive, help="numba threads (default: all cores)")
    run.add_argument("--keep-paths", type=non_negative, help="paths kept in full")
    run.add_argument("--precision", type=probability_width,
                     help="add paths until every scenario's 95%% half-width of P(justified) "
                          "and P(collapse) is at most this (e.g. 0.002)")
    run.add_argument("--max-paths", type=positive, help="cap on the paths of a --precision run")
    run.add_argument("--antithetic", action="store_true", help="antithetic variates")
    run.add_argument("--draws", type=positive,
                     help="two-level run: N draws of the parameters from the config's "
                          "[uncertainty.priors] (--paths is then the paths per draw)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--dask", metavar="local[:N]",
                       help="simulate on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="simulate on an existing Dask cluster")
    run.add_argument("--format", choices=("netcdf", "zarr"), default="netcdf",
                     help="netcdf: DIR/results.nc (default); zarr: the DIR/results.zarr store, "
                          "which a --dask/--scheduler run writes from the workers without "
                          "loading the kept paths here")
    run.add_argument("--force", action="store_true",
                     help="overwrite existing results (and the report, with --report)")
    run.add_argument("--report", action="store_true",
                     help="also write the HTML report (DIR/report.html), with the research "
                          "results found in DIR (tornado.nc, sobol.nc, sweep.nc, "
                          "implied_*.json)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    validate = sub.add_parser("validate", help="check a config and say what is wrong")
    validate.add_argument("config", type=Path)
    show = sub.add_parser("show", help="print the headline table of saved results")
    show.add_argument("results", type=Path)
    report = sub.add_parser(
        "report", help="write the report of saved results or of a panel (HTML with embedded "
                       "figures, or Markdown and PNGs), with the research results found beside "
                       "them",
        description="Write the report of RESULTS.nc (simval run) or of PANEL.nc (simval panel: "
                    "the companies side by side). The research results in the folder of "
                    "RESULTS (tornado.nc, sobol.nc, sweep.nc, implied_*.json of simval "
                    "sensitivity, simval sweep and "
                    "simval implied) are included, unless --no-research; --tornado, --sobol "
                    "and --implied name others instead. Research computed from another config "
                    "or scenario is left out, and the report says so.")
    report.add_argument("results", type=Path)
    report.add_argument("-o", "--out", type=output_folder,
                        help="output folder (default: the folder of RESULTS)")
    report.add_argument("--format", choices=("html", "md"), default="html",
                        help="html: one self-contained report.html (default); md: report.md "
                             "and report_figures/*.png")
    report.add_argument("--tornado", type=Path, metavar="FILE",
                        help="tornado results to include (default: tornado.nc beside RESULTS)")
    report.add_argument("--sobol", type=Path, metavar="FILE",
                        help="Sobol' results to include (default: sobol.nc beside RESULTS)")
    report.add_argument("--sweep", type=Path, metavar="FILE",
                        help="sweep results to include (default: sweep.nc beside RESULTS)")
    report.add_argument("--implied", type=Path, action="append", metavar="FILE",
                        help="implied result to include (repeatable; default: "
                             "implied_*.json beside RESULTS)")
    report.add_argument("--no-research", action="store_true",
                        help="leave out the research results found beside RESULTS (files "
                             "named with --tornado, --sobol, --sweep, --implied are still "
                             "included)")
    report.add_argument("--force", action="store_true", help="overwrite an existing report")
    panel = sub.add_parser("panel", help="simulate a company panel (companies sharing the "
                                         "macro regime and chip shocks)")
    panel.add_argument("panel", type=Path)
    panel.add_argument("--paths", type=positive, help="paths")
    panel.add_argument("--seed", type=root_seed, help="root seed")
    panel.add_argument("--keep-paths", type=non_negative, help="paths kept in full")
    panel.add_argument("-o", "--out", type=output_folder,
                       help="output folder (default: results/<panel name>)")
    panel.add_argument("--force", action="store_true",
                       help="overwrite existing results (and the report, with --report)")
    panel.add_argument("--report", action="store_true",
                       help="also write the side-by-side report of the companies "
                            "(DIR/report.html)")
    from simval.research.cli import add_subcommands

    add_subcommands(sub)
    from simval.cli_init import add_init

    add_init(sub)
    return parser


def _research(folder: Path, tornado: Path | None = None, sobol: Path | None = None,
              implied: list[Path] | None = None, auto: bool = True,
              sweep: Path | None = None) -> dict:
    """Research files for a report: those named, else (with ``auto``) those in ``folder``."""
    def found(name: str) -> Path | None:
        path = folder / name
        return path if auto and path.is_file() else None

    return {"tornado": tornado or found("tornado.nc"),
            "sobol": sobol or found("sobol.nc"),
            "sweep": sweep or found("sweep.nc"),
            "implied": implied if implied else
            (sorted(folder.glob("implied_*.json")) if auto else [])}


def _write_report(ds, out_dir: Path, *, format: str, overwrite: bool, source: Path,
                  research: dict) -> Path:
    """Collect and write the report; say which research it includes and which it leaves out."""
    from simval.report.build import collect, write_content

    report = collect(ds, source, out_dir=out_dir, **research)
    path = write_content(report, out_dir, format=format, overwrite=overwrite)
    files = [p for p in (research["tornado"], research["sobol"], research["sweep"],
                         *research["implied"]) if p]
    left = report.left_out()
    for what, why in left:
        print(f"simval: note: {what} is left out of the report: {why}", file=sys.stderr)
    if files and len(left) < len(files):
        print("research included: " + ", ".join(
            str(p) for p in files if not any(Path(p).name in why for _, why in left)))
    print(f"report written to {path}")
    return path


def _out_dir(args: argparse.Namespace, default: Path) -> Path:
    """``--out``, else ``default``."""
    return default if args.out is None else args.out


def _check_keep(keep: int | None, n_paths: int, what: str = "--paths") -> None:
    if keep is not None and keep > n_paths:
        raise ValueError(f"--keep-paths ({keep}) must be at most the paths per scenario "
                         f"({n_paths}, {what})")


def _refuse_non_finite(ds) -> None:
    """Stop (exit 2) on results that overflowed float64: inf or NaN where a number must be."""
    from simval.results.dataset import non_finite

    problems = non_finite(ds)
    if problems:
        raise ValueError("the simulation overflowed (numbers beyond float64): "
                         + "; ".join(problems) + ". Check the config's values for amounts, "
                         "multiples or growth rates far outside any plausible range; nothing "
                         "was written")


def _warn_base(config) -> None:
    for line in config.warnings():
        print(f"simval: warning: {line}", file=sys.stderr)


def _panel(args: argparse.Namespace) -> int:
    import simval
    from simval.panel import load_panel, simulate_panel
    from simval.results.io import claim_output
    from simval.results.summary import panel_table

    panel = load_panel(args.panel)
    out_dir = _out_dir(args, Path("results") / args.panel.stem)
    target = out_dir / "panel.nc"
    first = next(iter(panel.companies.values())).base["simulation"]
    _check_keep(args.keep_paths, args.paths or first["n_paths"],
                "--paths" if args.paths else "simulation.n_paths")
    names = [target.name, "report.html"] if args.report else [target.name]
    with claim_output(out_dir, names, overwrite=args.force):  # refuse before simulating
        ds = simulate_panel(panel, n_paths=args.paths, seed=args.seed,
                            keep_paths=args.keep_paths, progress=sys.stderr.isatty())
        _refuse_non_finite(ds)
        simval.save(ds, target, overwrite=args.force)
        print(panel_table(ds))
        print(f"results written to {target}")
        if args.report:
            _write_report(ds, out_dir, format="html", overwrite=args.force, source=target,
                          research=_research(out_dir, auto=False))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    import simval
    from simval.results.io import claim_output

    config = simval.load_config(args.config)
    _warn_base(config)
    out_dir = _out_dir(args, Path("results") / args.config.stem)
    target = out_dir / ("results.zarr" if args.format == "zarr" else "results.nc")
    if args.max_paths is not None and args.precision is None:
        raise ValueError("--max-paths caps the paths of a --precision run; give --precision "
                         "too, or use --paths for a fixed number of paths")
    chosen = [config.scenarios[n] for n in args.scenario or [] if n in config.scenarios]
    sim = (chosen or [config.base])[0]["simulation"]
    _check_keep(args.keep_paths, args.paths or sim["n_paths"],
                "--paths" if args.paths else "simulation.n_paths")
    if args.max_paths is not None and args.paths is not None and args.max_paths < args.paths:
        raise ValueError(f"--max-paths ({args.max_paths}) must be at least --paths "
                         f"({args.paths})")
    two_level = _two_level(config, args)
    names = [target.name, "report.html"] if args.report else [target.name]
    with claim_output(out_dir, names, overwrite=args.force):  # refuse before simulating
        client = None
        if args.dask or args.scheduler:
            from simval.engine.distributed import make_client

            client = make_client(args.dask, args.scheduler)
        try:  # the kept paths of a distributed run live on its workers until the client closes
            progress = not args.no_progress and sys.stderr.isatty()
            if two_level:
                ds = simval.simulate_draws(config, draws=args.draws, n_paths=args.paths,
                                           seed=args.seed, keep_paths=args.keep_paths,
                                           scenarios=args.scenario, threads=args.threads,
                                           progress=progress, antithetic=args.antithetic,
                                           client=client)
            else:
                ds = simval.simulate(config, n_paths=args.paths, seed=args.seed,
                                     keep_paths=args.keep_paths, scenarios=args.scenario,
                                     threads=args.threads, progress=progress,
                                     antithetic=args.antithetic, precision=args.precision,
                                     max_paths=args.max_paths, client=client)
            _refuse_non_finite(ds)
            for line in ds.attrs.get("run_warnings", "").splitlines():
                print(f"simval: warning: {line}", file=sys.stderr)
            simval.save(ds, target, overwrite=args.force)  # saved before printing: a closed
            print(simval.headline_table(ds))                # pipe cannot lose the results
            print(f"results written to {target}")
            if args.report:
                _write_report(ds, out_dir, format="html", overwrite=args.force, source=target,
                              research=_research(out_dir))
        finally:
            if client is not None:
                cluster = client.cluster if args.dask else None
                client.close()
                if cluster is not None:
                    cluster.close()
    return EXIT_OK


def _two_level(config, args: argparse.Namespace) -> bool:
    """Whether ``simval run`` runs two-level: ``--draws``, or ``[uncertainty] enabled = true``.
    The ``[uncertainty]`` table is validated either way (a bad prior exits 2)."""
    from simval.config.uncertainty import read_uncertainty

    uncertainty = read_uncertainty(config, args.draws)
    two_level = args.draws is not None or (uncertainty is not None and uncertainty.enabled)
    if two_level and args.precision is not None:
        raise ValueError("--precision applies to a one-level run; a two-level run (--draws, or "
                         "[uncertainty] enabled = true) has a fixed number of paths per draw "
                         "(--paths)")
    return two_level


def _validate(args: argparse.Namespace) -> int:
    import simval

    config = simval.load_config(args.config)
    _warn_base(config)
    if config.uncertainty is not None:
        from simval.config.uncertainty import read_uncertainty

        read_uncertainty(config)
    print(f"{args.config}: valid; scenarios: {', '.join(config.scenarios)}")
    return EXIT_OK


_OTHER_RESULTS = (  # (how to tell, what it is) of the files that sit beside results.nc
    (lambda ds: "sweep_keys" in ds.attrs, "the results of simval sweep (give the results.nc "
     "of the run instead: a sweep.nc beside it, or one named with --sweep, goes into its "
     "report; simval sweep --report writes both)"),
    (lambda ds: "delta_p_justified" in ds, "a tornado of simval sensitivity"),
    (lambda ds: "first_order" in ds, "Sobol' indices of simval sensitivity"),
)


def _open(path: Path):
    import simval

    if not path.exists():
        raise FileNotFoundError(f"{path}: no such results file")
    if path.is_dir() and path.suffix != ".zarr":
        raise ValueError(f"{path}: a folder, not a results file (results.nc or results.zarr)")
    try:
        ds = simval.open_results(path)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # any failure to read a user's file: corrupt, truncated, other
        raise ValueError(f"{path}: not a simval results file, or a damaged one "
                         f"({type(exc).__name__}: {exc})") from None
    for test, what in _OTHER_RESULTS:
        if test(ds):
            raise ValueError(f"{path}: {what}, not the results of simval run or simval panel; "
                             "give the results.nc (or panel.nc) of the run")
    dim = "company" if "company" in ds.dims else "scenario"
    needed = ("currency", "panel", "n_paths") if dim == "company" else (
        "currency", "company", "n_paths")
    missing = [k for k in needed if k not in ds.attrs]
    if missing or "p_justified" not in ds:
        raise ValueError(f"{path}: not a simval results file (no "
                         f"{', '.join(missing) or 'p_justified'})")
    if ds.p_justified.dims != (dim,):
        raise ValueError(f"{path}: not the results of simval run or simval panel "
                         f"(p_justified has dimensions {', '.join(ds.p_justified.dims)})")
    return ds


def _show(args: argparse.Namespace) -> int:
    import simval

    ds = _open(args.results)
    table = simval.panel_table(ds) if "company" in ds.dims else simval.headline_table(ds)
    print(table, end="")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from simval.report.build import check_writable
    from simval.results.io import prepare_folder

    out_dir = _out_dir(args, args.results.parent)
    ds = _open(args.results)
    prepare_folder(out_dir)
    check_writable(out_dir, args.format, args.force)
    research = _research(args.results.parent, args.tornado, args.sobol, args.implied,
                         auto=not args.no_research, sweep=args.sweep)
    _write_report(ds, out_dir, format=args.format, overwrite=args.force, source=args.results,
                  research=research)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``simval`` command; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already reported by argparse
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    from simval.cli_init import init
    from simval.config.load import ConfigError
    from simval.research.cli import handlers as research_handlers
    from simval.results.io import ResultsExistError

    handlers = {"run": _run, "validate": _validate, "show": _show, "report": _report,
                "panel": _panel, "init": init, **research_handlers}
    try:
        return handlers[args.command](args)
    except (ConfigError, ResultsExistError, FileNotFoundError, ValueError) as exc:
        print(f"simval: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        # a place the user named that cannot be written (caught here whatever wrote it)
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"simval: error: {where}cannot write there: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into a program that stopped reading (| head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("simval: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: say so, with the traceback for a bug report
        import traceback

        traceback.print_exc()
        print(f"simval: internal error: {exc!r}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
