"""app.json_body: which content types are JSON, and integers too long for any field."""

import pytest

from app.json_body import MAX_INTEGER_DIGITS, LongInteger, is_json, parse_integer


@pytest.mark.parametrize(("content_type", "expected"), [
    ("application/json", True), ("application/json; charset=utf-8", True),
    ("APPLICATION/JSON", True), ("application/problem+json", True),
    ("text/plain", False), ("text/json", False), ("application/x-www-form-urlencoded", False),
    ("multipart/form-data; boundary=x", False), ("application/jsonx", False), ("", False),
    (None, False),
])
def test_is_json(content_type, expected):
    assert is_json(content_type) is expected


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("-17", -17), ("4294967295", 2**32 - 1), ("9" * MAX_INTEGER_DIGITS, int("9" * 100)),
    ("-" + "9" * MAX_INTEGER_DIGITS, -int("9" * 100)),
])
def test_integers_within_the_limit_are_ints(text, value):
    assert parse_integer(text) == value


@pytest.mark.parametrize("digits", [MAX_INTEGER_DIGITS + 1, 4300, 5000, 60000])
def test_longer_integers_are_not_converted(digits):
    for text in ("1" * digits, "-" + "1" * digits):
        value = parse_integer(text)
        assert isinstance(value, LongInteger) and value.digits == digits
        assert repr(value) == f"<an integer of {digits} digits>"
