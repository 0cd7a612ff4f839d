"""Argument types and the parser class shared by ``simval``'s command lines (the core
commands in :mod:`simval.cli`, the research commands in :mod:`simval.research.cli`).

Each type turns one command-line word into a value or raises
:class:`argparse.ArgumentTypeError` with a message that says what was expected, in the user's
terms (argparse prints it with the option's name and exits with :data:`EXIT_BAD_INPUT`).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "SEED_MAX", "Parser", "non_negative",
           "output_folder", "positive", "probability_width", "root_seed", "whole_number"]

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """An argument parser whose own errors exit with :data:`EXIT_BAD_INPUT` (2), after the usage."""

    def error(self, message: str):  # argparse's own errors exit 2 as well, with usage
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


SEED_MAX = 2**63 - 1  # as the config's simulation.seed


def whole_number(text: str) -> int:
    """``"4096"``, ``"1e4"`` or ``"10_000"`` -> an int; anything else is not a whole number."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"must be a whole number; got {text!r}")
    return int(value)


def positive(text: str) -> int:
    """A whole number >= 1."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number; got {text}")
    return value


def non_negative(text: str) -> int:
    """A whole number >= 0."""
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number; got {text}")
    return value


def root_seed(text: str) -> int:
    """A root seed: a whole number in [0, 2**63 - 1], as the config's ``simulation.seed``."""
    value = non_negative(text)
    if value > SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be a whole number in [0, 2**63 - 1]; got {text}")
    return value


def output_folder(text: str) -> Path:
    """An output folder: not an empty name (``Path("")`` would be the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder; got an empty name (for the "
                                         "current folder, give .)")
    return Path(text)


def probability_width(text: str) -> float:
    """A 95% half-width target in (0, 0.5)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 0.5); got {text!r}")
    return value
