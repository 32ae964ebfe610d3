"""Java ``DateTimeFormatter`` patterns, formatting side only: what ``!{timestamp:...}`` in a Firehose prefix
and Athena's ``format_datetime`` take.

Rules from Java's documentation of ``java.time.format.DateTimeFormatter`` ("Patterns for Formatting and
Parsing", https://docs.oracle.com/javase/8/docs/api/java/time/format/DateTimeFormatter.html), which
the Firehose guide names for timestamp prefixes
(https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html#timestamp-namespace).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime


class DatePatternError(ValueError):
    """A pattern Java would reject, or one using letters outside the supported subset."""


JavaToken = tuple[str, int] | str  # (pattern letter, count) or literal text

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MAX_COUNT = {
    "M": 4,
    "L": 4,
    "d": 2,
    "H": 2,
    "h": 2,
    "k": 2,
    "K": 2,
    "m": 2,
    "s": 2,
    "D": 3,
    "a": 1,
    "E": 4,
    "S": 9,
    "y": 19,
    "u": 19,
}
_RESERVED = set("#{}")


def java_tokens(pattern: str) -> list[JavaToken]:
    """Split a Java DateTimeFormatter pattern into letter runs and literal text.

    Follows Java's rules: ``'text'`` is literal, ``''`` is one quote (inside or outside quotes), any
    non-letter is literal, ``[`` and ``]`` (optional sections) always print when formatting, and
    ``#``/``{``/``}`` are reserved. Letters outside the supported subset raise :class:`DatePatternError`.
    """
    tokens: list[JavaToken] = []
    literal: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                literal.append("'")
                i += 2
                continue
            end = i + 1
            text: list[str] = []
            while True:
                if end >= n:
                    raise DatePatternError(f"unterminated quote in date-time pattern {pattern!r}")
                if pattern[end] == "'":
                    if end + 1 < n and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            literal.extend(text)
            i = end + 1
        elif ch.isascii() and ch.isalpha():
            run = i
            while run < n and pattern[run] == ch:
                run += 1
            count = run - i
            if ch not in _MAX_COUNT:
                raise DatePatternError(f"pattern letter {ch!r} is not supported in {pattern!r}")
            if count > _MAX_COUNT[ch]:
                raise DatePatternError(f"too many pattern letters {ch * count!r} in {pattern!r}")
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append((ch, count))
            i = run
        elif ch in _RESERVED:
            raise DatePatternError(f"reserved character {ch!r} in date-time pattern {pattern!r}")
        else:
            if ch not in "[]":
                literal.append(ch)
            i += 1
    if literal:
        tokens.append("".join(literal))
    return tokens


def format_java(moment: datetime, pattern: str) -> str:
    """Format ``moment`` with a Java DateTimeFormatter pattern (the subset :func:`java_tokens` accepts)."""
    return "".join(t if isinstance(t, str) else _field(moment, *t) for t in java_tokens(pattern))


def java_pattern(pattern: str) -> str:
    """A regex for every text :func:`format_java` makes from ``pattern`` (years 1 to 9999)."""
    return "".join(re.escape(t) if isinstance(t, str) else _field_pattern(*t) for t in java_tokens(pattern))


def _field_pattern(letter: str, count: int) -> str:
    if letter in ("y", "u"):
        return _digits(2, 2) if count == 2 else _digits(count, max(count, 4))
    if letter in ("M", "L"):
        if count >= 3:
            return _one_of(name[:3] if count == 3 else name for name in _MONTHS)
        return _digits(count, 2)
    if letter == "E":
        return _one_of(name if count == 4 else name[:3] for name in _DAYS)
    if letter == "a":
        return _one_of(("AM", "PM"))
    if letter == "S":
        return _digits(count, count)
    return _digits(count, 3 if letter == "D" else 2)


def _digits(least: int, most: int) -> str:
    return rf"\d{{{least}}}" if least == most else rf"\d{{{least},{most}}}"


def _one_of(texts: Iterable[str]) -> str:
    return "(?:" + "|".join(texts) + ")"


def _field(moment: datetime, letter: str, count: int) -> str:
    if letter in ("y", "u"):
        year = moment.year
        if count == 2:
            return f"{year % 100:02d}"
        return f"{year:0{max(count, 1)}d}" if count >= 3 else str(year)
    if letter in ("M", "L"):
        if count >= 3:
            name = _MONTHS[moment.month - 1]
            return name[:3] if count == 3 else name
        return _num(moment.month, count)
    if letter == "E":
        name = _DAYS[moment.weekday()]
        return name if count == 4 else name[:3]
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "S":
        return f"{moment.microsecond:06d}000"[:count]
    value = {
        "d": moment.day,
        "H": moment.hour,
        "h": (moment.hour % 12) or 12,
        "k": moment.hour or 24,
        "K": moment.hour % 12,
        "m": moment.minute,
        "s": moment.second,
        "D": moment.timetuple().tm_yday,
    }[letter]
    return _num(value, count)


def _num(value: int, count: int) -> str:
    return f"{value:0{count}d}"
