"""Collect a report's content once, then render it as HTML or Markdown and write it."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from simval.config.load import Config, ConfigError
from simval.report import content
from simval.report.assumptions import (
    Assumption,
    Difference,
    assumptions,
    config_of,
    scenario_differences,
    scenario_notes,
)
from simval.report.figures import ReportFigure, report_figures
from simval.results.io import ResultsExistError

__all__ = ["ReportContent", "collect", "render_html", "render_markdown", "write_report"]

FORMATS = ("html", "md")
FIGURE_DIR = "report_figures"


@dataclasses.dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, before it is given a format."""

    title: str
    subtitle: str
    glossary: list[tuple[str, str]]
    how_to_read: list[str]
    headline: content.Headline
    figures: list[ReportFigure]
    assumptions: list[Assumption]
    differences: dict[str, list[Difference]]
    notes: dict[str, str]
    config_problem: str       # why the stored config could not be read ("" if it could)
    provenance: list[tuple[str, str]]
    config_text: str
    scenarios: list[str]


def collect(ds: xr.Dataset, source: str | Path | None = None) -> ReportContent:
    """Gather the content of the report of ``ds`` (renders the figures).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`simval.simulate` or :func:`simval.open_results`.
    source : str or Path, optional
        The results file ``ds`` was read from, named (with its hash) in the provenance.

    Returns
    -------
    ReportContent

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> report = simval.report.collect(ds)  # doctest: +SKIP
    >>> [f.name for f in report.figures][:2]  # doctest: +SKIP
    ['01_scenario_comparison', '02_value_distribution']
    """
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
                f"{a.get('currency')} · {int(a.get('n_paths', 0)):,} paths per scenario · "
                f"{a.get('measure')} measure · seed {a.get('seed')}")
    return ReportContent(
        title=content.title(ds),
        subtitle=subtitle,
        glossary=content.glossary(ds),
        how_to_read=content.how_to_read(ds, config),
        headline=content.headline(ds),
        figures=report_figures(ds),
        assumptions=assumptions(config, run=run) if config is not None else [],
        differences=scenario_differences(config) if config is not None else {},
        notes=scenario_notes(config) if config is not None else {},
        config_problem=problem,
        provenance=content.provenance(ds, config, source),
        config_text=str(a.get("config", "")),
        scenarios=[str(s) for s in ds.scenario.values],
    )


def render_html(ds: xr.Dataset, source: str | Path | None = None) -> str:
    """The report of ``ds`` as one self-contained HTML page (images inlined, no network).

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> html = simval.report.render_html(ds)  # doctest: +SKIP
    >>> html.count("data:image/png;base64,")  # doctest: +SKIP
    9
    """
    from simval.report.html import to_html

    return to_html(collect(ds, source))


def render_markdown(ds: xr.Dataset, source: str | Path | None = None,
                    figure_dir: str = FIGURE_DIR) -> tuple[str, dict[str, bytes]]:
    """The report of ``ds`` as Markdown, and its figures as ``{relative path: PNG bytes}``.

    Examples
    --------
    >>> import simval
    >>> ds = simval.open_results("results/zhipu_2026/results.nc")  # doctest: +SKIP
    >>> text, files = simval.report.render_markdown(ds)  # doctest: +SKIP
    >>> sorted(files)[0]  # doctest: +SKIP
    'report_figures/01_scenario_comparison.png'
    """
    from simval.report.markdown import to_markdown

    report = collect(ds, source)
    files = {f"{figure_dir}/{f.name}.png": f.png for f in report.figures}
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


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(ds: xr.Dataset, out_dir: str | Path, *, format: str = "html",
                 overwrite: bool = False, source: str | Path | None = None) -> Path:
    """Write the report of a run to ``out_dir``: the report file and its figures as PNGs.

    ``format="html"`` writes ``report.html``, one self-contained page (figures embedded as
    ``data:`` URIs, no external reference: it opens without a network). ``format="md"``
    writes ``report.md``, which links the figures. Both write the figures as PNG files in
    ``report_figures/`` for pasting elsewhere.

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

    Returns
    -------
    Path
        The written ``report.html`` or ``report.md``.

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
    from simval.report.html import to_html
    from simval.report.markdown import to_markdown

    out_dir = Path(out_dir)
    target = report_paths(out_dir, format)
    check_writable(out_dir, format, overwrite)
    report = collect(ds, source)
    files = {out_dir / FIGURE_DIR / f"{f.name}.png": f.png for f in report.figures}
    clashes = [p for p, data in files.items() if p.exists() and p.read_bytes() != data]
    if clashes and not overwrite:
        raise ResultsExistError(f"{clashes[0]} exists with other contents; use --force "
                                "(overwrite=True) to replace the report's figures")
    text = to_html(report) if format == "html" else to_markdown(report, FIGURE_DIR)
    (out_dir / FIGURE_DIR).mkdir(parents=True, exist_ok=True)
    if overwrite:  # figures of an earlier report that this one does not have
        for stale in (out_dir / FIGURE_DIR).glob("[0-9][0-9]_*.png"):
            if stale not in files:
                stale.unlink()
    for path, data in files.items():
        _write_atomic(path, data)
    _write_atomic(target, text.encode("utf-8"))
    return target
