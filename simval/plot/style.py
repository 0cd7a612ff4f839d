"""Shared look of every simval figure: scenario colours, money and probability axes, labels.

matplotlib is imported inside the functions that need it, so importing this module (and
:mod:`simval.plot`) does not import matplotlib.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from simval.format import short_money

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis

__all__ = [
    "OKABE_ITO",
    "REFERENCE",
    "date_axis",
    "log_limits",
    "money_axis",
    "new_axes",
    "note",
    "percent_axis",
    "scenario_colors",
    "scenario_handles",
    "select_scenarios",
    "series_label",
    "short_label",
    "series_name",
    "single_scenario",
    "cjk_family",
    "needs_cjk",
    "text_font",
]

LABEL_WIDTH = 24
"""Longest scenario or company name shown in full in a figure label or a table column."""

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
             "#000000")
"""Okabe & Ito's colour-blind-safe palette, most distinct first (yellow and black last)."""

REFERENCE = {
    # reference lines are black/grey and told apart by their dashes, never by a hue that a
    # scenario could also have
    "valuation": {"color": "black", "linestyle": (0, (5, 3)), "linewidth": 1.2},
    "collapse": {"color": "0.35", "linestyle": (0, (1, 2)), "linewidth": 1.4},
    "threshold": {"color": "0.45", "linestyle": (0, (6, 2, 1, 2)), "linewidth": 1.1},
    "required": {"color": "black", "marker": "*", "markersize": 11, "linestyle": "none"},
}
"""Style of the reference lines: today's valuation, collapse level, threshold, required value."""

_SERIES = {
    "total_revenue": ("total revenue S", True),
    "commercial_revenue": ("commercial revenue", True),
    "contract_revenue": ("contract revenue", True),
    "market_share": ("market share", False),
    "capacity": ("compute capacity", False),
    "cash": ("cash X", False),
    "market_value": ("market value V", True),
}
"""Series with quantile fans and kept paths: (axis label, log scale by default)."""


def short_label(name: str, width: int = LABEL_WIDTH) -> str:
    """``name`` cut to ``width`` columns (a Chinese character takes two) with an ellipsis,
    for tick labels, titles and table columns that a long name would overflow (the full name
    goes in a legend, a caption or a tooltip).

    Examples
    --------
    >>> short_label("base")
    'base'
    >>> short_label("an_extremely_long_scenario_name_indeed", 16)
    'an_extremely_lo…'
    >>> short_label("北京智谱华章科技股份有限公司", 16)
    '北京智谱华章科…'
    """
    import unicodedata

    name = str(name)

    def columns(c: str) -> int:  # a Chinese character is as wide as two Latin letters
        return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1

    if sum(columns(c) for c in name) <= width:
        return name
    out, used = "", 0
    for c in name:
        if used + columns(c) > width - 1:
            break
        out, used = out + c, used + columns(c)
    return out.rstrip() + "…"


_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans SC",
                 "Source Han Sans SC", "Source Han Sans", "WenQuanYi Zen Hei",
                 "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN",
                 "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB")


def needs_cjk(text: str) -> bool:
    """Whether ``text`` has Chinese, Japanese or Korean characters (which DejaVu Sans, the
    default font, does not have)."""
    return any(0x2E80 <= ord(c) <= 0x9FFF or 0xAC00 <= ord(c) <= 0xD7AF
               or 0xF900 <= ord(c) <= 0xFAFF or 0xFF00 <= ord(c) <= 0xFFEF for c in str(text))


def cjk_family() -> str | None:
    """An installed font family with Chinese, Japanese and Korean characters, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in _CJK_FAMILIES if f in installed), None)
    return family or next((f for f in sorted(installed) if "CJK" in f), None)


def text_font(text: str) -> tuple[list[str] | None, str]:
    """The font families to draw ``text`` with, and a note.

    ``(None, "")`` when the default font has its characters; ``([default, CJK family], "")``
    when ``text`` needs a CJK font and one is installed (matplotlib falls back to it glyph by
    glyph); ``(None, note)`` when none is: the note says so (install e.g. the Noto CJK fonts,
    ``fonts-noto-cjk``).
    """
    if not needs_cjk(text):
        return None, ""
    from matplotlib import rcParams

    family = cjk_family()
    if family is None:
        return None, (f"No installed font can draw {text!r} (Chinese, Japanese or Korean "
                      "characters), so the figures leave it out of their titles; install a "
                      "font with those characters (e.g. Noto Sans CJK, the Debian package "
                      "fonts-noto-cjk) to see it there.")
    default = list(rcParams["font.sans-serif"])[:1] or ["DejaVu Sans"]
    return [*default, family], ""


def scenario_colors(ds: xr.Dataset) -> dict[str, str]:
    """Colour of every scenario, the same in every figure of a run.

    A scenario's colour is fixed by its position in the config (``ds.attrs["config"]``), so a
    run of some of the scenarios (``--scenario``) colours them as the full run does.
    """
    order: list[str] = []
    try:
        raw = tomllib.loads(ds.attrs.get("config", ""))
        tables = raw.get("scenarios")
        if isinstance(tables, dict):
            order = [str(name) for name in tables]
    except (tomllib.TOMLDecodeError, TypeError):
        order = []
    names = [str(s) for s in ds.scenario.values]
    order += [s for s in names if s not in order]
    return {s: OKABE_ITO[order.index(s) % len(OKABE_ITO)] for s in names}


def source_colors(n: int) -> list[str]:
    """``n`` colour-blind-safe colours for revenue sources, distinct from a scenario's first
    colour (Okabe-Ito from the second entry on, repeated if needed)."""
    return [OKABE_ITO[1 + i % (len(OKABE_ITO) - 1)] for i in range(n)]


def select_scenarios(ds: xr.Dataset, scenario: str | Sequence[str] | None) -> list[str]:
    """Scenario names to plot: all for ``None``, else the one or several asked for."""
    available = [str(s) for s in ds.scenario.values]
    if scenario is None:
        return available
    names = [scenario] if isinstance(scenario, str) else [str(s) for s in scenario]
    missing = [s for s in names if s not in available]
    if missing or not names:
        raise ValueError(f"no scenario {', '.join(map(repr, missing)) or '(none given)'} in "
                         f"these results; they have {', '.join(map(repr, available))}")
    return names


def single_scenario(ds: xr.Dataset, scenario: str | Sequence[str] | None) -> str:
    """The one scenario of a single-scenario figure (``None``: the first, by convention base)."""
    if scenario is None:
        return str(ds.scenario.values[0])
    names = select_scenarios(ds, scenario)
    if len(names) != 1:
        raise ValueError(f"this figure shows one scenario; got {len(names)}: "
                         + ", ".join(map(repr, names)))
    return names[0]


def series_name(variable: str) -> str:
    """Normalise ``"market_value"``, ``"market_value_quantile"``, ``"path_market_value"``."""
    name = variable.removeprefix("path_").removesuffix("_quantile")
    if name not in _SERIES:
        raise ValueError(f"no series {variable!r}; the series are " + ", ".join(_SERIES))
    return name


def series_label(ds: xr.Dataset, series: str, *, log: bool = False) -> str:
    """Axis label of a series with its unit: ``market value V (CNY, log scale)``."""
    label, _ = _SERIES[series]
    units = ds[f"{series}_quantile"].attrs.get("units", "")
    if series in ("market_share", "capacity"):
        units = "%" if series == "market_share" else "% of planned compute"
    parts = [p for p in (units, "log scale" if log else "") if p]
    return f"{label} ({', '.join(parts)})" if parts else label


def series_log_default(series: str) -> bool:
    """Whether a series is drawn on a log axis unless asked otherwise."""
    return _SERIES[series][1]


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax`` itself, or the axes of a new figure (the only use of pyplot in simval.plot)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def positive_range(arrays: Iterable[Any]) -> tuple[float, float] | None:
    """Smallest and largest finite positive value in ``arrays`` (``None`` if there is none)."""
    values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays] or [[]])
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


def log_limits(arrays: Iterable[Any], fallback: float, pad: float = 1.6) -> tuple[float, float]:
    """Limits of a log axis around the positive values (``fallback`` if there are none)."""
    rng = positive_range(arrays)
    if rng is None:
        base = fallback if math.isfinite(fallback) and fallback > 0 else 1.0
        rng = (base, base)
    lo, hi = rng
    lo, hi = lo / pad, hi * pad
    if hi / lo < 10:  # at least a decade, so that there are labelled ticks
        mid = math.sqrt(lo * hi)
        lo, hi = mid / math.sqrt(10), mid * math.sqrt(10)
    return lo, hi


def money_axis(axis: Axis, currency: str, *, log: bool) -> None:
    """Money tick labels (``¥200B``, ``$1.5T``) on ``axis``; call after its limits are set."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    formatter = FuncFormatter(lambda x, _pos: short_money(x, currency))
    if log:
        lo, hi = sorted(axis.get_view_interval())
        decades = math.log10(hi / lo) if lo > 0 else 99.0
        subs = (1.0,) if decades > 4 else (1.0, 3.0) if decades > 2.2 else (1.0, 2.0, 5.0)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(formatter)


def percent_axis(axis: Axis, *, full: bool = False) -> None:
    """Percent tick labels on a probability or share axis (values in [0, 1]), with as many
    decimals as the tick spacing needs (``0.1%, 0.2%``; ``25%, 50%``)."""
    from matplotlib.ticker import Formatter, MultipleLocator

    class _Percent(Formatter):
        _ticks: tuple[float, ...] = ()

        def set_locs(self, locs: Sequence[float]) -> None:
            self._ticks = tuple(locs)

        def __call__(self, x: float, pos: int | None = None) -> str:
            locs = np.asarray(self._ticks, dtype=float)
            steps = np.diff(np.sort(locs))
            steps = steps[steps > 0]
            step = 100 * (float(steps.min()) if steps.size else (abs(x) or 1.0))
            # as many decimals as the step needs: 25% steps none, 2.5% one, 0.25% two
            decimals = max(0, -math.floor(math.log10(step) + 1e-9))
            while decimals < 6 and abs(round(step, decimals) - step) > 1e-9 * step:
                decimals += 1
            return f"{100 * x:.{decimals}f}%"

    axis.set_major_formatter(_Percent())
    if full:
        axis.set_major_locator(MultipleLocator(0.25))


def date_axis(axis: Axis) -> None:
    """Date ticks on the time axis: at the turn of the years (``2027``, ``2028``, or every
    few years on a long horizon) when the axis spans two years or more, else concise month
    ticks (``2027``, ``Apr``, ``Jul``). Decided when the ticks are drawn, so the limits may be
    set before or after."""
    from matplotlib.dates import (
        AutoDateLocator,
        ConciseDateFormatter,
        DateFormatter,
        YearLocator,
        num2date,
    )
    from matplotlib.ticker import Formatter, Locator

    auto = AutoDateLocator(minticks=4, maxticks=9)
    concise = ConciseDateFormatter(auto)
    year_format = DateFormatter("%Y")

    def step() -> int | None:
        lo, hi = sorted(axis.get_view_interval())
        years = (num2date(hi) - num2date(lo)).days / 365.25 if hi > lo else 0.0
        if years < 2.0:
            return None
        return next((s for s in (1, 2, 5, 10, 20, 25, 50) if years / s <= 10), 100)

    class _Years(Locator):
        def __call__(self):
            every = step()
            chosen = auto if every is None else YearLocator(base=every)
            chosen.set_axis(self.axis)
            return chosen()

    class _Labels(Formatter):
        def set_locs(self, locs):
            super().set_locs(locs)
            concise.set_locs(locs)

        def __call__(self, x, pos=None):
            return concise(x, pos) if step() is None else year_format(x, pos)

        def format_ticks(self, values):
            if step() is None:
                return concise.format_ticks(values)
            return [year_format(v, i) for i, v in enumerate(values)]

    axis.set_major_locator(_Years())
    axis.set_major_formatter(_Labels())


def note(ax: Axes, text: str) -> None:
    """Write ``text`` in the middle of an axes that has nothing to show."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", wrap=True,
            color="0.3", fontsize="medium")


def scenario_handles(names: Sequence[str], colors: dict[str, str]) -> list[Any]:
    """Legend handles, one coloured line per scenario."""
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=colors[s], linewidth=2.5, label=short_label(s, 2 * LABEL_WIDTH))
            for s in names]
