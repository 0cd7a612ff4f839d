"""Collect a report's content once, then render it as HTML or Markdown and write it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from simval.config.load import Config, ConfigError
from simval.report import content
from simval.report.assumptions import (
    assumptions,
    config_of,
    scenario_differences,
    scenario_notes,
)
from simval.report.content import ReportContent
from simval.report.draws import draw_sections
from simval.report.figures import report_figures
from simval.report.html import to_html
from simval.report.markdown import to_markdown
from simval.report.research import gather, research_sections
from simval.report.sections import Block, Note
from simval.report.watch import watch_sections
from simval.results.io import ResultsExistError, prepare_folder, write_file_atomic

__all__ = ["ReportContent", "collect", "render_html", "render_markdown", "write_content",
           "write_report"]

FORMATS = ("html", "md")
FIGURE_DIR = "report_figures"


def _paths(attrs: dict) -> str:
    """``100,000 paths per scenario``, or a two-level run's draws and paths per draw."""
    if "draws" in attrs:
        return (f"{int(attrs['draws'])} parameter draws × {int(attrs['paths_per_draw']):,} "
                "paths per scenario")
    return f"{int(attrs.get('n_paths', 0)):,} paths per scenario"


def collect(ds: xr.Dataset, source: str | Path | None = None, *,
            tornado: xr.Dataset | str | Path | None = None,
            sobol: xr.Dataset | str | Path | None = None,
            implied: Sequence[Any] | None = None,
            out_dir: str | Path | None = None,
            sweep: xr.Dataset | str | Path | None = None) -> ReportContent:
    """Gather the content of the report of ``ds`` (renders the figures).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`, or of
        :func:`simval.simulate_panel` (a ``company`` dimension): then the report compares
        the companies side by side (:func:`simval.report.panel.collect_panel`).
    source : str or Path, optional
        The results file ``ds`` was read from, named (with its hash) in the provenance.
    tornado : xarray.Dataset, str or Path, optional
        A tornado (:func:`simval.research.sensitivity.tornado`) or its file: the section
        "What matters most" shows its figure, its table and the inputs that matter most.
    sobol : xarray.Dataset, str or Path, optional
        Sobol' indices (:func:`simval.research.sensitivity.sobol`) or their file, in the same
        section.
    implied : sequence of ImpliedResult, str or Path, optional
        Market-implied expectations (:func:`simval.research.implied.solve`) or their JSON
        files (:func:`simval.research.implied.save_result`): the section "What the price
        implies" states each in words (:func:`simval.research.implied.describe`), with its
        interval and the comparison with what the config's source assumed.
    out_dir : str or Path, optional
        The folder the report will be written to: the provenance then names files relative
        to it, and the reproduce line runs the stored config that :func:`write_content`
        writes there (``config.toml``).
    sweep : xarray.Dataset, str or Path, optional
        A sweep (:func:`simval.research.sweep.sweep`) or its file: the section "Along the
        swept inputs" shows each headline number along each swept key with its intervals,
        and every grid point in a table.

    Returns
    -------
    ReportContent

    Raises
    ------
    FileNotFoundError, ValueError
        If a research file does not exist or is not a research result of its kind.

    Notes
    -----
    Research computed from another config, or for a scenario the run does not have, is not
    mixed in: it is left out, and the report says so and why, in its section and in the
    provenance (:func:`simval.report.research.mismatch`). A panel report leaves out research
    results the same way (they belong to a single company's run).

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> report = simval.report.collect(  # doctest: +SKIP
    ...     ds, tornado="results/zhipu_2026/tornado.nc")
    >>> [f.name for f in report.all_figures()][-1]  # doctest: +SKIP
    '10_tornado'
    """
    research = gather(tornado, sobol, implied, sweep)
    if "company" in ds.dims:
        from simval.report.panel import collect_panel

        return collect_panel(ds, source, research=research, out_dir=out_dir)
    config: Config | None
    try:
        config = config_of(ds)
        problem = ""
    except ConfigError as exc:
        config, problem = None, str(exc)
    a = ds.attrs
    run = {"n_paths": a.get("n_paths"), "seed": a.get("seed"), "keep_paths": a.get("keep_paths")}
    end = str(np.datetime_as_string(ds.time.values[-1], unit="D"))
    subtitle = (f"Monte Carlo valuation as of {a.get('as_of')} to {end} · money in "
                f"{a.get('currency')} · {_paths(a)} · "
                f"{a.get('measure')} measure · seed {a.get('seed')}")
    figures = report_figures(ds)
    names = [str(s) for s in ds.scenario.values]
    blocks: list[Block] = []
    if "base" not in names:  # never let another scenario pass for the base one
        blocks.append(Note(f"This run has no scenario named base: {names[0]}, its first "
                           "scenario, is the reference of the summary above, of the "
                           "assumptions tables and of the comparisons between scenarios."))
    from simval.plot.style import text_font

    _, font_note = text_font(str(a.get("company", "")))
    if font_note:
        blocks.append(Note(font_note))
    spread = draw_sections(ds, first_figure=len(figures) + 1)  # a two-level run's draws
    sections, research_rows = research_sections(ds, config, research,
                                                first_figure=len(figures) + 1 + len(spread),
                                                out_dir=out_dir)
    return ReportContent(
        title=content.title(ds),
        subtitle=subtitle,
        glossary=content.glossary(ds),
        how_to_read=content.how_to_read(ds, config),
        headline=content.headline(ds),
        figures=figures,
        assumptions=assumptions(config, run=run) if config is not None else [],
        differences=scenario_differences(config) if config is not None else {},
        notes=scenario_notes(config) if config is not None else {},
        config_problem=problem,
        provenance=content.provenance(ds, config, source, out_dir) + research_rows,
        config_text=str(a.get("config", "")),
        config_file=content.CONFIG_FILE if out_dir is not None and str(
            a.get("config", "")).strip() else "",
        scenarios=names,
        headline_blocks=blocks,
        sections=[*spread, *watch_sections(ds), *sections],
    )


def render_html(ds: xr.Dataset, source: str | Path | None = None, **research: Any) -> str:
    """The report of ``ds`` as one self-contained HTML page (images inlined, no network).

    ``research`` are the keywords ``tornado``, ``sobol``, ``implied`` and ``sweep`` of
    :func:`collect`.

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> html = simval.report.render_html(ds)  # doctest: +SKIP
    >>> html.count("data:image/png;base64,")  # doctest: +SKIP
    9
    """
    return to_html(collect(ds, source, **research))


def render_markdown(ds: xr.Dataset, source: str | Path | None = None,
                    figure_dir: str = FIGURE_DIR, **research: Any
                    ) -> tuple[str, dict[str, bytes]]:
    """The report of ``ds`` as Markdown, and its figures as ``{relative path: PNG bytes}``.

    ``research`` are the keywords ``tornado``, ``sobol``, ``implied`` and ``sweep`` of
    :func:`collect`.

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> text, files = simval.report.render_markdown(ds)  # doctest: +SKIP
    >>> sorted(files)[0]  # doctest: +SKIP
    'report_figures/01_scenario_comparison.png'
    """
    report = collect(ds, source, **research)
    files = {f"{figure_dir}/{f.name}.png": f.png for f in report.all_figures()}
    return to_markdown(report, figure_dir), files


def report_paths(out_dir: str | Path, format: str) -> Path:
    """The main file a report of ``format`` writes in ``out_dir``."""
    if format not in FORMATS:
        raise ValueError(f"unknown report format {format!r}; choose from {', '.join(FORMATS)}")
    return Path(out_dir) / f"report.{format}"


def check_writable(out_dir: str | Path, format: str, overwrite: bool) -> None:
    """Raise :class:`ResultsExistError` if the report file exists and ``overwrite`` is not set.

    (Figure files are checked by :func:`write_report` once they are rendered: one that exists
    with other contents is not replaced without ``overwrite`` either.)
    """
    path = report_paths(out_dir, format)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; use --force (overwrite=True) to replace it")


def write_report(ds: xr.Dataset, out_dir: str | Path, *, format: str = "html",
                 overwrite: bool = False, source: str | Path | None = None,
                 tornado: xr.Dataset | str | Path | None = None,
                 sobol: xr.Dataset | str | Path | None = None,
                 implied: Sequence[Any] | None = None,
                 sweep: xr.Dataset | str | Path | None = None) -> Path:
    """Write the report of a run to ``out_dir``: the report file and its figures as PNGs.

    ``format="html"`` writes ``report.html``, one self-contained page (figures embedded as
    ``data:`` URIs, no external reference: it opens without a network). ``format="md"``
    writes ``report.md``, which links the figures. Both write the figures as PNG files in
    ``report_figures/`` for pasting elsewhere, and the config stored in the results as
    ``config.toml``, which the report's reproduce line runs.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    out_dir : str or Path
        Folder of the report (created if needed).
    format : {"html", "md"}, default: "html"
    overwrite : bool, default: False
        Replace an existing report. Without it, an existing ``report.html`` (``report.md``)
        or a figure file with other contents raises :class:`simval.ResultsExistError`, and
        nothing is written.
    source : str or Path, optional
        The results file ``ds`` came from, named with its hash in the provenance.
    tornado : xarray.Dataset, str or Path, optional
        A tornado (:func:`simval.research.sensitivity.tornado`) or its file: the section
        "What matters most" shows its figure, its table and the inputs that matter most.
    sobol : xarray.Dataset, str or Path, optional
        Sobol' indices (:func:`simval.research.sensitivity.sobol`) or their file, in the same
        section.
    implied : sequence of ImpliedResult, str or Path, optional
        Market-implied expectations (:func:`simval.research.implied.solve`) or their JSON
        files (:func:`simval.research.implied.save_result`): the section "What the price
        implies" states each in words (:func:`simval.research.implied.describe`), with its
        interval and the comparison with what the config's source assumed.
    sweep : xarray.Dataset, str or Path, optional
        A sweep or its file, as in :func:`collect`.

    Returns
    -------
    Path
        The written ``report.html`` or ``report.md``.

    Notes
    -----
    Research computed from another config, or for a scenario the run does not have, is not
    mixed in: it is left out, and the report says so and why, in its section and in the
    provenance (:func:`simval.report.research.mismatch`). A panel report leaves out research
    results the same way (they belong to a single company's run).

    Examples
    --------
    >>> import tempfile, simval
    >>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=10,
    ...                      scenarios=["base"])
    >>> path = simval.report.write_report(ds, tempfile.mkdtemp())
    >>> path.name, path.read_text().startswith("<!DOCTYPE html>")
    ('report.html', True)
    >>> sorted(p.name for p in (path.parent / "report_figures").iterdir())[0]
    '01_scenario_comparison.png'
    """
    check_writable(out_dir, format, overwrite)
    report = collect(ds, source, tornado=tornado, sobol=sobol, implied=implied, out_dir=out_dir,
                     sweep=sweep)
    return write_content(report, out_dir, format=format, overwrite=overwrite)


def write_content(report: ReportContent, out_dir: str | Path, *, format: str = "html",
                  overwrite: bool = False) -> Path:
    """Write collected report content (:func:`collect`) as :func:`write_report` does.

    Raises
    ------
    ResultsExistError
        As :func:`write_report`.
    """
    out_dir = Path(out_dir)
    target = report_paths(out_dir, format)
    check_writable(out_dir, format, overwrite)
    prepare_folder(out_dir)
    files = {out_dir / FIGURE_DIR / f"{f.name}.png": f.png for f in report.all_figures()}
    extra = ({out_dir / report.config_file: report.config_text.encode("utf-8")}
             if report.config_file else {})
    clashes = [p for p, data in {**files, **extra}.items()
               if p.exists() and (not p.is_file() or p.read_bytes() != data)]
    if clashes and not overwrite:
        raise ResultsExistError(f"{clashes[0]} exists with other contents; use --force "
                                "(overwrite=True) to replace the report's files")
    text = to_html(report) if format == "html" else to_markdown(report, FIGURE_DIR)
    (out_dir / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
    if overwrite:  # figures of an earlier report that this one does not have
        for stale in (out_dir / FIGURE_DIR).glob("[0-9][0-9]_*.png"):
            if stale not in files:
                stale.unlink()
    for path, data in {**files, **extra}.items():
        write_file_atomic(path, data)
    write_file_atomic(target, text.encode("utf-8"))
    return target
