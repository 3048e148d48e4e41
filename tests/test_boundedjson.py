"""bpframe.boundedjson: within its bounds it parses exactly as ``json.loads`` (the oracle), at the bounds it
accepts, one past them it refuses, and brackets or quotes inside strings never count."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpframe.boundedjson import JSONLimitError, loads
from bpframe.limits import MAX_JSON_DEPTH, MAX_JSON_NUMBER_LENGTH, MAX_JSON_VALUES

scalars = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text()
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=40
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_within_the_bounds_it_parses_as_json_loads(value):
    text = json.dumps(value)
    assert loads(text) == json.loads(text)


def test_nan_and_infinity_are_read_as_python_writes_them():
    parsed = loads('{"cost": [NaN, Infinity, -Infinity]}')
    assert math.isnan(parsed["cost"][0]) and parsed["cost"][1:] == [math.inf, -math.inf]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_bound_is_accepted_and_one_more_level_refused():
    assert loads(nested(MAX_JSON_DEPTH)) == json.loads(nested(MAX_JSON_DEPTH))
    with pytest.raises(JSONLimitError) as info:
        loads(nested(MAX_JSON_DEPTH + 1))
    assert str(info.value) == (
        "arrays and objects nest 33 deep; at most 32 levels are allowed (bpframe.limits.MAX_JSON_DEPTH)"
    )


def test_objects_count_as_levels_too():
    text = '{"a": ' * (MAX_JSON_DEPTH + 1) + "0" + "}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(JSONLimitError, match=r"^arrays and objects nest 33 deep"):
        loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "' + "[" * 1000 + '"}',  # brackets in a string are text
        '["\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["]',  # an escaped quote does not end the string
        '["\\\\", "' + "{" * 1000 + '"]',  # an escaped backslash does not escape the quote after it
        '{"key, with, commas": "and, more, of, them"}',
    ],
)
def test_brackets_quotes_and_commas_inside_strings_never_count(text):
    assert loads(text) == json.loads(text)


def test_numbers_up_to_the_bound_are_accepted_and_longer_ones_refused():
    longest = "7" * MAX_JSON_NUMBER_LENGTH
    assert loads(f"[{longest}]") == [int(longest)]
    assert loads(f"[0.{'5' * (MAX_JSON_NUMBER_LENGTH - 2)}]") == [0.5555555555555556]
    with pytest.raises(JSONLimitError) as info:
        loads(f"[{longest}7]")
    assert str(info.value) == (
        "a number is written with 1,001 characters (777777777777...); at most 1,000 are allowed "
        "(bpframe.limits.MAX_JSON_NUMBER_LENGTH)"
    )
    with pytest.raises(JSONLimitError, match=r"^a number is written with 1,001 characters \(1e0000000000\.\.\.\)"):
        loads("[1e" + "0" * (MAX_JSON_NUMBER_LENGTH - 1) + "]")


def test_a_number_beyond_pythons_own_digit_limit_is_refused_by_the_bound_first():
    with pytest.raises(JSONLimitError, match=r"^a number is written with 5,000 characters"):
        loads("7" * 5000)


def test_values_up_to_the_bound_are_accepted_and_more_refused():
    at_bound = "[" + ",".join(["0"] * (MAX_JSON_VALUES - 1)) + "]"  # one array and its values
    assert len(loads(at_bound)) == MAX_JSON_VALUES - 1
    with pytest.raises(JSONLimitError) as info:
        loads("[" + ",".join(["0"] * MAX_JSON_VALUES) + "]")
    assert str(info.value) == (
        "it holds up to 1,000,001 values (one per comma and opening bracket); at most 1,000,000 are allowed "
        "(bpframe.limits.MAX_JSON_VALUES)"
    )


@pytest.mark.parametrize(
    "text",
    [
        '"' + '\\"' * 200_000,  # an unterminated string of escaped quotes: every quote could start a string
        '"' + "\\" * 200_001,  # ends in a lone backslash
        '{"a": "' + "[" * 1_000_000,  # an unterminated string full of brackets
    ],
)
def test_malformed_text_is_a_json_error_found_in_one_pass(text):
    """The regular expression that blanks strings matches at every quote it tries, so it never backtracks. A pattern
    that fails and retries from each later quote is quadratic: measured, 0.5 s for 8,000 escaped quotes, so about
    5 minutes for the first input here and days for 16 MiB of them."""
    with pytest.raises(json.JSONDecodeError):
        loads(text)
