"""The validated ``[signals]`` of a config (:mod:`simval.config.signals`) on a scenario's time
grid: :class:`SignalRule`, what the engine evaluates on each path."""

from __future__ import annotations

from typing import Any, NamedTuple

from simval.layout import SERIES_CAPACITY, SERIES_NAMES
from simval.model.params import TimeGrid

__all__ = ["SignalRule", "signal_rules"]


class SignalRule(NamedTuple):
    """One signal in grid steps.

    ``kind`` is ``"growth"`` (``series[row, k_to] >= factor * series[row, k_from]`` with
    ``series[row, k_from] > 0``), ``"contract"`` (contract slot ``slot`` active at step
    ``k_to``; with ``lost``, active at step 0 and not at ``k_to``) or ``"chip_shock"`` (the
    capacity series falls at some step ``1 .. k_to``).
    """

    name: str
    kind: str
    row: int = SERIES_CAPACITY
    k_from: int = 0
    k_to: int = 0
    factor: float = 1.0
    slot: int = -1
    lost: bool = False


def signal_rules(signals: dict[str, dict[str, Any]], values: dict[str, Any],
                 grid: TimeGrid) -> tuple[SignalRule, ...]:
    """The rules of ``signals`` (``Config.signals``) for the scenario ``values`` on ``grid``:
    each date becomes the first grid time on or after it, at most the question horizon."""

    def step(date) -> int:
        return min(grid.step_on_or_after(date), grid.question_steps)

    rules = []
    for name, s in signals.items():
        if s["kind"] == "growth":
            rules.append(SignalRule(name, "growth", row=SERIES_NAMES.index(s["series"]),
                                    k_from=step(s["from"]), k_to=step(s["to"]),
                                    factor=1.0 + s["at_least"]))
        elif s["kind"] == "contract":
            rules.append(SignalRule(name, "contract", k_to=step(s["by"]),
                                    slot=list(values["contracts"]).index(s["contract"]),
                                    lost=s["state"] == "lost"))
        else:
            rules.append(SignalRule(name, "chip_shock", k_to=step(s["by"])))
    return tuple(rules)
