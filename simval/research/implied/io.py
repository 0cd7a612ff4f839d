"""Implied results and reverse DCFs as JSON files: their names, writing and reading them."""

from __future__ import annotations

import json
from pathlib import Path

from simval.research.implied.result import ImpliedResult
from simval.research.implied.reverse import ReverseDCF

__all__ = ["load_result", "result_filename", "reverse_dcf_filename", "save_result"]


def result_filename(key: str, target: str, level: float) -> str:
    """The file name ``simval implied`` gives a result: ``implied_<key>_<target>_<level>.json``
    with every dot written as ``_``.

    Examples
    --------
    >>> result_filename("commercial.growth_long_run", "p_justified", 0.5)
    'implied_commercial_growth_long_run_p_justified_0_5.json'
    """
    name = f"implied_{key}_{target}_{level:g}"
    return name.replace(".", "_").replace("-", "m").replace("+", "") + ".json"


def reverse_dcf_filename(level: float = 1.0) -> str:
    """The file name ``simval implied --reverse-dcf`` gives a reverse DCF.

    Examples
    --------
    >>> reverse_dcf_filename(), reverse_dcf_filename(1.5)
    ('implied_reverse_dcf_value_ratio_1.json', 'implied_reverse_dcf_value_ratio_1_5.json')
    """
    return result_filename("reverse_dcf", "value_ratio", level)


def save_result(result: ImpliedResult | ReverseDCF, path: str | Path, *,
                overwrite: bool = False) -> Path:
    """Write an implied result or a reverse DCF as JSON (its ``to_dict``), atomically.

    Parameters
    ----------
    result : ImpliedResult or ReverseDCF
    path : str or Path
        The file to write (its folder is created if needed).
    overwrite : bool, default: False
        Replace an existing file. Without it an existing file raises
        :class:`simval.ResultsExistError` and is left untouched.

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> r = ImpliedResult("x.y", "value_ratio", 1.0, 2.0, 1.5, 2.5, 1.0, 0.01, 3.0, "1",
    ...                   False, 0.95, (1.0, 4.0), 12, 1000, 1, "base", "Co", "USD", {})
    >>> path = save_result(r, tempfile.mkdtemp() + "/r.json")
    >>> load_result(path) == r
    True
    """
    from simval.results.io import ResultsExistError, write_file_atomic

    path = Path(path)
    if path.exists() and not overwrite:
        raise ResultsExistError(f"{path} exists; pass overwrite=True (--force) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_file_atomic(path, text.encode("utf-8"))


def load_result(path: str | Path) -> ImpliedResult | ReverseDCF:
    """Read an implied result or a reverse DCF written by :func:`save_result` (which one
    the file's ``format`` says).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not an implied result of simval (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such implied result")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("format") == "simval.reverse_dcf":
            return ReverseDCF.from_dict(data)
        return ImpliedResult.from_dict(data)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a simval implied result ({exc})") from None
