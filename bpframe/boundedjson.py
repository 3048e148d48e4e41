"""JSON text parsed within bounds: how many values, how deeply nested, how long a number (:mod:`bpframe.limits`).

``json.loads`` builds a Python object for every value (a 16 MiB array of empty objects takes 370 MB),
recurses once per nesting level (100,000 brackets end in a ``RecursionError``, or overflow the C stack under a
raised recursion limit), and converts integers of any length (past 4,300 digits it raises a bare ``ValueError``;
with the limit lifted, conversion time grows quadratically). So the text's skeleton is measured first, in
linear time and without parsing: strings are blanked by one regular expression whose every match succeeds (no
backtracking), which leaves the commas and brackets that bound the number of values and their nesting. Numbers
are checked as the parser meets them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from .limits import MAX_JSON_DEPTH, MAX_JSON_NUMBER_LENGTH, MAX_JSON_VALUES

__all__ = ["JSONLimitError", "loads"]

# a string, or an unterminated one up to the end of the text: the match never fails, so each quote is tried once
_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S]?[^"\\]*)*(?:"|\Z)')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_OPENING = frozenset(b"[{")
_CHUNK = 1 << 20  # brackets per step of the depth count: bounds its workspace to a few MiB


class JSONLimitError(ValueError):
    """JSON text beyond a bound of :mod:`bpframe.limits`; the message names the bound."""


def loads(text: str) -> Any:
    """Parse ``text`` as ``json.loads`` does (``NaN`` and ``Infinity`` included), within the bounds.

    Raises
    ------
    JSONLimitError
        For more than :data:`~bpframe.limits.MAX_JSON_VALUES` values, nesting deeper than
        :data:`~bpframe.limits.MAX_JSON_DEPTH`, or a number longer than
        :data:`~bpframe.limits.MAX_JSON_NUMBER_LENGTH` characters.
    json.JSONDecodeError
        For text that is not JSON.

    Examples
    --------
    >>> loads('{"sizes": [2, 3, 1], "cost": NaN}')
    {'sizes': [2, 3, 1], 'cost': nan}
    >>> loads("[" * 40 + "]" * 40)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bpframe.boundedjson.JSONLimitError: arrays and objects nest 40 deep; at most 32 levels are allowed ...
    """
    skeleton = _STRING.sub('""', text)
    _check_values(skeleton)
    _check_depth(_NOT_BRACKET.sub("", skeleton))
    return json.loads(text, parse_int=_integer, parse_float=_float)


def _check_values(skeleton: str) -> None:
    """At most one value per comma and opening bracket, plus one: refuse more than the bound allows."""
    count = 1 + skeleton.count(",") + skeleton.count("[") + skeleton.count("{")
    if count > MAX_JSON_VALUES:
        raise JSONLimitError(
            f"it holds up to {count:,} values (one per comma and opening bracket); at most {MAX_JSON_VALUES:,} are "
            "allowed (bpframe.limits.MAX_JSON_VALUES)"
        )


def _check_depth(brackets: str) -> None:
    """Refuse arrays and objects nested deeper than the bound (``brackets`` holds nothing but brackets)."""
    depth = _max_depth(np.frombuffer(brackets.encode("ascii"), dtype=np.uint8))
    if depth > MAX_JSON_DEPTH:
        raise JSONLimitError(
            f"arrays and objects nest {depth:,} deep; at most {MAX_JSON_DEPTH} levels are allowed "
            "(bpframe.limits.MAX_JSON_DEPTH)"
        )


def _max_depth(codes: np.ndarray) -> int:
    """The deepest nesting of a run of bracket characters: the largest running count of opening minus closing."""
    opening = np.array(sorted(_OPENING), dtype=np.uint8)
    depth = deepest = 0
    for start in range(0, codes.size, _CHUNK):
        steps = np.where(np.isin(codes[start : start + _CHUNK], opening), 1, -1).astype(np.int64)
        running = depth + np.cumsum(steps)
        deepest, depth = max(deepest, int(np.max(running))), int(running[-1])
    return deepest


def _integer(token: str) -> int:
    """A JSON integer, refused when longer than the bound (before Python converts it)."""
    _check_number(token)
    return int(token)


def _float(token: str) -> float:
    """A JSON number with a fraction or exponent, refused when longer than the bound."""
    _check_number(token)
    return float(token)


def _check_number(token: str) -> None:
    if len(token) > MAX_JSON_NUMBER_LENGTH:
        raise JSONLimitError(
            f"a number is written with {len(token):,} characters ({token[:12]}...); at most "
            f"{MAX_JSON_NUMBER_LENGTH:,} are allowed (bpframe.limits.MAX_JSON_NUMBER_LENGTH)"
        )
