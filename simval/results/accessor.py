"""The ``ds.simval`` accessor: convenience methods on a results Dataset.

Registered when :mod:`simval` is imported. The methods only forward to plain functions
(:mod:`simval.plot`, :func:`simval.headline_table`, :func:`simval.report.write_report`), which
are the real API; nothing here imports matplotlib until a figure is drawn.

Examples
--------
>>> import simval
>>> ds = simval.simulate("configs/minimax_2025.toml", n_paths=4096, keep_paths=0)
>>> ax = ds.simval.plot.survival(scenario=["base", "chip_tightening"])
>>> ds.simval.headline_table() == simval.headline_table(ds)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["SimvalAccessor", "SimvalPlotAccessor"]


class SimvalPlotAccessor:
    """``ds.simval.plot``: each method calls the :mod:`simval.plot` function of that name."""

    __slots__ = ("_ds",)

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def value_distribution(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.value_distribution`."""
        from simval.plot import value_distribution

        return value_distribution(self._ds, **kwargs)

    def fan(self, variable: str = "market_value", **kwargs: Any) -> Axes:
        """See :func:`simval.plot.fan`."""
        from simval.plot import fan

        return fan(self._ds, variable, **kwargs)

    def survival(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.survival`."""
        from simval.plot import survival

        return survival(self._ds, **kwargs)

    def scenario_comparison(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.scenario_comparison`."""
        from simval.plot import scenario_comparison

        return scenario_comparison(self._ds, **kwargs)

    def revenue_mix(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.revenue_mix`."""
        from simval.plot import revenue_mix

        return revenue_mix(self._ds, **kwargs)

    def sample_paths(self, variable: str = "market_value", **kwargs: Any) -> Axes:
        """See :func:`simval.plot.sample_paths`."""
        from simval.plot import sample_paths

        return sample_paths(self._ds, variable, **kwargs)

    def convergence(self, quantity: str = "p_justified", **kwargs: Any) -> Axes:
        """See :func:`simval.plot.convergence`."""
        from simval.plot import convergence

        return convergence(self._ds, quantity, **kwargs)

    def tornado(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.tornado` (on a :func:`simval.sensitivity.tornado` result)."""
        from simval.plot import tornado

        return tornado(self._ds, **kwargs)

    def sweep(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.sweep` (on a :func:`simval.sweep` result)."""
        from simval.plot import sweep

        return sweep(self._ds, **kwargs)

    def sobol_indices(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.sobol_indices` (on a :func:`simval.sensitivity.sobol`
        result)."""
        from simval.plot import sobol_indices

        return sobol_indices(self._ds, **kwargs)

    def stays_above(self, **kwargs: Any) -> Axes:
        """See :func:`simval.plot.stays_above` (on a :func:`simval.simulate_panel` result)."""
        from simval.plot import stays_above

        return stays_above(self._ds, **kwargs)


@xr.register_dataset_accessor("simval")
class SimvalAccessor:
    """``ds.simval``: figures (``.plot``), the headline table and the report of a run."""

    __slots__ = ("_ds",)

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    @property
    def plot(self) -> SimvalPlotAccessor:
        """The figures of :mod:`simval.plot`, e.g. ``ds.simval.plot.fan("market_value")``."""
        return SimvalPlotAccessor(self._ds)

    def headline_table(self) -> str:
        """See :func:`simval.headline_table`."""
        from simval.results.summary import headline_table

        return headline_table(self._ds)

    def report(self, out_dir: str | Path, **kwargs: Any) -> Path:
        """See :func:`simval.report.write_report`."""
        from simval.report import write_report

        return write_report(self._ds, out_dir, **kwargs)
