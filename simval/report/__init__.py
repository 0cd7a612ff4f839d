"""Reports of a run: a self-contained HTML page, or Markdown with PNG figures.

A report holds the headline table (the numbers of ``simval show``), a short "how to read
this", the figures of :mod:`simval.plot`, the assumptions table generated from the config
stored in the results (every parameter with its value and unit, and what each scenario
changes) and the provenance of the run (seed, paths, versions, config hash)::

    import simval

    ds = simval.open_results("results/zhipu_2026/results.nc")
    simval.report.write_report(ds, "results/zhipu_2026")              # report.html
    simval.report.write_report(ds, "results/zhipu_2026", format="md") # report.md + PNGs

With research results (:mod:`simval.research`), the report adds "What matters most" (tornado
and Sobol' indices) and "What the price implies" (market-implied expectations in words);
research computed from another config or scenario is left out, with a note
(:mod:`simval.report.research`)::

    simval.report.write_report(ds, "results/zhipu_2026", overwrite=True,
                               tornado="results/zhipu_2026/tornado.nc",
                               implied=["results/zhipu_2026/implied_..._0_5.json"])

The results of a company panel (:func:`simval.simulate_panel`) give the same page with the
companies side by side (:mod:`simval.report.panel`).

On the command line: ``simval report RESULTS.nc [-o DIR] [--format html|md] [--force]
[--tornado FILE] [--sobol FILE] [--implied FILE ...] [--no-research]`` (the research files
beside RESULTS are included by default), ``simval run CONFIG --report``, ``simval report
PANEL.nc``, ``simval panel PANEL --report``. Importing this package does not import
matplotlib.
"""

from simval.report.assumptions import assumptions, scenario_differences
from simval.report.build import (
    collect,
    render_html,
    render_markdown,
    write_content,
    write_report,
)
from simval.report.content import ReportContent

__all__ = [
    "ReportContent",
    "assumptions",
    "collect",
    "render_html",
    "render_markdown",
    "scenario_differences",
    "write_content",
    "write_report",
]
