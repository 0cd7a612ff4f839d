"""``simval init``: scaffold a commented config from flags or answers to a few questions.

The text comes from :func:`simval.config.scaffold.scaffold`; this module asks the questions
(or reads the flags), refuses to overwrite an existing file, writes it and says which of its
starting values matter most for the answer. No numerics of its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simval.config.rates import CONTINUOUS, parse_rate
from simval.config.scaffold import IMPORTANT_DEFAULTS, Answers, parse_contract, scaffold

__all__ = ["add_init", "init"]

#: answer -> (flag, question); those of _REQUIRED have no default
_QUESTIONS: dict[str, tuple[str, str]] = {
    "name": ("--name", "Company name"),
    "currency": ("--currency", "Currency of every amount (ISO code, e.g. USD)"),
    "as_of": ("--as-of", "Valuation date (YYYY-MM-DD)"),
    "valuation": ("--valuation", "Market value of the equity today (e.g. 30e9)"),
    "revenue": ("--revenue", "Annual revenue run-rate today, contracts included (e.g. 1.2e9)"),
    "growth": ("--growth", "Revenue growth today, as an annual percentage (e.g. 40%/yr)"),
    "cash": ("--cash", "Cash on the balance sheet (e.g. 2e9)"),
    "contracts": ("--contract", "Large customer contracts, NAME:REVENUE:RENEWAL_DATE[:P] "
                                "separated by spaces (empty: none)"),
    "chips": ("--chips", "Exposed to chip supply (export controls, shortages)? (y/n)"),
    "gross_margin": ("--gross-margin", "Gross margin today (fraction of revenue)"),
    "operating_margin": ("--operating-margin", "Operating margin today (fraction, may be "
                                               "negative)"),
    "target_margin": ("--target-margin", "Operating margin at maturity (fraction)"),
    "discount_rate": ("--discount-rate", "Discount rate (e.g. 10%/yr)"),
}
_REQUIRED = ("name", "currency", "as_of", "valuation", "revenue", "growth", "cash")
_DEFAULTS = {f.name: f.default for f in Answers.__dataclass_fields__.values()
             if f.name not in _REQUIRED}


def _rate(text: str) -> str:
    """An annual percentage: ``40%/yr`` or ``40%`` (the question asks for one)."""
    text = text.strip()
    if text.endswith("%"):
        text += "/yr"
    if parse_rate(text, CONTINUOUS) is None:
        raise argparse.ArgumentTypeError(f"must be an annual percentage such as 40%/yr; got "
                                         f"{text!r}")
    return text


def _money(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an amount such as 1.2e9; got "
                                         f"{text!r}") from None
    return value


def _fraction(text: str) -> float:
    try:
        return float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a fraction such as 0.6 (or 60%); got "
                                         f"{text!r}") from None


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD; got {text!r}") from None


def _contract(text: str):
    try:
        return parse_contract(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _yes(text: str) -> bool:
    answer = text.strip().lower()
    if answer in ("y", "yes", "true", "on"):
        return True
    if answer in ("n", "no", "false", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"answer y or n; got {text!r}")


_PARSE: dict[str, Callable[[str], Any]] = {
    "name": str.strip, "currency": lambda t: t.strip().upper(), "as_of": _date,
    "valuation": _money, "revenue": _money, "growth": _rate, "cash": _money,
    "contracts": lambda t: [_contract(c) for c in t.split()], "chips": _yes,
    "gross_margin": _fraction, "operating_margin": _fraction, "target_margin": _fraction,
    "discount_rate": _rate,
}


def add_init(subparsers: Any) -> None:
    """Add ``init`` to the sub-parsers of ``simval``."""
    init_parser = subparsers.add_parser(
        "init", help="write a commented starting config for a company from a few numbers "
                     "(flags, or questions with --interactive)",
        description="Write a commented config: the numbers given as flags (or answered with "
                    "--interactive), every other key at a documented starting value; the file "
                    "is valid as written (simval validate). See docs/guide.md.")
    init_parser.add_argument("config", type=Path, help="the config file to write")
    for name, (flag, question) in _QUESTIONS.items():
        if name == "contracts":
            init_parser.add_argument(flag, dest="contracts", action="append", type=_contract,
                                     metavar="NAME:REVENUE:RENEWAL_DATE[:P]",
                                     help="a large customer contract (repeatable), e.g. "
                                          "northwind:250e6:2027-03-31:0.85")
        elif name == "chips":
            init_parser.add_argument("--chips", dest="chips", action="store_const", const=True,
                                     help="exposed to chip supply: switch [chips] on")
            init_parser.add_argument("--no-chips", dest="chips", action="store_const",
                                     const=False, help="no chip-supply exposure (default)")
        else:
            default = _DEFAULTS.get(name)
            text = question + (f" (default: {default})" if default is not None else "")
            init_parser.add_argument(flag, dest=name, type=_PARSE[name],
                                     help=text.replace("%", "%%"))  # argparse formats help
    init_parser.add_argument("--interactive", action="store_true",
                             help="ask for every answer not given as a flag")
    init_parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def _ask(name: str, answers: dict[str, Any], read: Callable[[str], str]) -> None:
    """Ask one question until the answer parses (the default on an empty answer)."""
    _, question = _QUESTIONS[name]
    default = _DEFAULTS.get(name)
    shown = ("" if default is None or default == () else
             f" [{'n' if default is False else default}]")
    while True:
        try:
            text = read(f"{question}{shown}: ")
        except EOFError:
            raise ValueError(f"no answer to {question!r} (input ended)") from None
        if not text.strip() and name not in _REQUIRED:
            return  # the default
        try:
            answers[name] = _PARSE[name](text)
            return
        except argparse.ArgumentTypeError as exc:
            print(f"  {exc}", file=sys.stderr)


def init(args: argparse.Namespace, read: Callable[[str], str] = input) -> int:
    """Write the config of ``simval init``; return the exit code.

    Raises
    ------
    ResultsExistError
        If the file exists and ``--force`` is not given.
    ValueError, ConfigError
        If an answer is missing (without ``--interactive``) or makes the config invalid.
    """
    from simval.results.io import ResultsExistError, write_file_atomic

    path: Path = args.config
    if path.exists() and not args.force:
        raise ResultsExistError(f"{path} exists; choose another name, or use --force to "
                                "overwrite it")
    given = {name: getattr(args, name) for name in _QUESTIONS
             if getattr(args, name) is not None}
    interactive = args.interactive
    missing = [n for n in _REQUIRED if n not in given]
    if missing and not interactive:
        raise ValueError("simval init needs " + ", ".join(_QUESTIONS[n][0] for n in missing)
                         + " (or --interactive to be asked)")
    if interactive:
        for name in _QUESTIONS:
            if name not in given:
                _ask(name, given, read)
    text = scaffold(Answers(**given), source=str(path))
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomic(path, text.encode("utf-8"))
    print(f"config written to {path}")
    print("The starting values that matter most for the answer (replace them with your own "
          "view; docs/guide.md explains each):")
    for keys, why in IMPORTANT_DEFAULTS:
        print(f"  - {keys}: {why}")
    print(f"Next: simval validate {path}; simval run {path} --report")
    return 0
