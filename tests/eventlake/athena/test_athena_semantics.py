"""Athena's (Trino's) answers, written down from Trino's documentation, and what the local engine gives.

Each case is an Athena expression and the answer Athena gives, the error Athena raises, or the one-line
refusal the local engine gives instead of a different answer (``eventlake.athena.semantics``). The session
time zone is UTC, as Athena's is. Pages are cited per group; where a page does not state a rule (rounding
mode, a parse rule), the comment says it is Trino's implementation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlake.athena import engine as athena


@dataclass(frozen=True)
class Answer:
    """Athena returns ``value`` (one row, one column)."""

    sql: str
    value: Any


@dataclass(frozen=True)
class Raises:
    """Athena raises an error at run time; the local engine raises one too (``match`` in its message)."""

    sql: str
    match: str


@dataclass(frozen=True)
class Refused:
    """The local engine refuses with one line naming ``construct`` (Athena raises, or the engine cannot tell
    Athena's answer)."""

    sql: str
    construct: str


Case = Answer | Raises | Refused
UTC = dt.UTC

CASES: list[Case] = [
    # --- date_diff / date_add / date_trunc ------------------------------------------------------------
    # https://trino.io/docs/current/functions/datetime.html: date_diff returns timestamp2 - timestamp1 in
    # whole units (Joda's fields: a partial unit does not count); date_add adds; date_trunc's unit table.
    Answer(
        "date_diff('second', TIMESTAMP '2026-11-25 00:00:00.900', TIMESTAMP '2026-11-25 00:00:01.100')", 0
    ),
    Answer(
        "date_diff('millisecond', TIMESTAMP '2026-11-25 00:00:00.900', TIMESTAMP '2026-11-25 00:00:01.100')",
        200,
    ),
    Answer(
        "date_diff('second', TIMESTAMP '2026-11-25 00:00:01.100', TIMESTAMP '2026-11-25 00:00:00.900')", 0
    ),
    Answer("date_diff('day', TIMESTAMP '2026-11-24 23:00:00', TIMESTAMP '2026-11-25 01:00:00')", 0),
    Answer("date_diff('hour', TIMESTAMP '2026-11-25 07:00:00', TIMESTAMP '2026-11-25 09:30:00')", 2),
    Answer("date_diff('day', DATE '2026-11-01', DATE '2026-11-25')", 24),
    Answer("date_diff('month', DATE '2026-01-15', DATE '2026-03-14')", 1),
    Answer("date_add('hour', 3, TIMESTAMP '2026-11-25 22:00:00')", dt.datetime(2026, 11, 26, 1, 0)),
    # The page's operator table: timestamp '2012-10-31 01:00' + interval '1' month is 2012-11-30 01:00.
    Answer("date_add('month', 1, TIMESTAMP '2012-10-31 01:00')", dt.datetime(2012, 11, 30, 1, 0)),
    Answer("date_add('day', -1, DATE '2026-03-01')", dt.date(2026, 2, 28)),
    Refused("date_add('hour', 1, DATE '2026-11-25')", "date_add('hour'"),
    # The unit table's input 2001-08-22 03:04:05.321.
    Answer("date_trunc('hour', TIMESTAMP '2001-08-22 03:04:05.321')", dt.datetime(2001, 8, 22, 3, 0)),
    Answer("date_trunc('quarter', TIMESTAMP '2001-08-22 03:04:05.321')", dt.datetime(2001, 7, 1)),
    Answer("date_trunc('week', DATE '2001-08-22')", dt.date(2001, 8, 20)),
    Answer("date_trunc('month', DATE '2001-08-22')", dt.date(2001, 8, 1)),
    # --- time zones: AT TIME ZONE, with_timezone, from_unixtime, to_iso8601, now() ------------------------
    # Same page ("Time zone conversion"; from_unixtime returns timestamp(3) with time zone; current_timestamp
    # is the query's start with 3 digits): a zoneless timestamp is read in the session zone (UTC) and shown in
    # the target zone; a value with a zone prints as 'yyyy-MM-dd HH:mm:ss.SSS <zone>' and its ISO 8601 form
    # keeps the offset ('Z' for UTC). https://docs.aws.amazon.com/athena/latest/ug/athena-supported-time-zones.html
    Answer(
        "TIMESTAMP '2012-10-31 01:00' AT TIME ZONE 'America/Los_Angeles'",
        "2012-10-30 18:00:00.000 America/Los_Angeles",
    ),
    Answer(
        "CAST(TIMESTAMP '2026-07-01 12:00:00' AT TIME ZONE 'Europe/Zurich' AS VARCHAR)",
        "2026-07-01 14:00:00.000 Europe/Zurich",
    ),
    Answer(
        "TIMESTAMP '2026-01-15 12:00:00' AT TIME ZONE 'Europe/Zurich'",
        "2026-01-15 13:00:00.000 Europe/Zurich",
    ),
    Answer("hour(TIMESTAMP '2026-07-01 12:00:00' AT TIME ZONE 'Europe/Zurich')", 14),
    Answer(
        "TIMESTAMP '2026-07-01 12:00:00' AT TIME ZONE 'Europe/Zurich' = TIMESTAMP '2026-07-01 12:00:00'", True
    ),
    Answer(
        "format_datetime(TIMESTAMP '2026-07-01 23:30:00' AT TIME ZONE 'Europe/Zurich', 'yyyy-MM-dd HH')",
        "2026-07-02 01",
    ),
    Refused("TIMESTAMP '2012-10-31 01:00 UTC'", "TIMESTAMP '2012-10-31 01:00 UTC'"),
    Refused("TIMESTAMP '2026-07-01 12:00:00' AT TIME ZONE 'Mars/Olympus'", "Mars/Olympus"),
    Answer(
        "with_timezone(TIMESTAMP '2026-07-01 12:00:00', 'Europe/Zurich')",
        "2026-07-01 12:00:00.000 Europe/Zurich",
    ),
    Answer(
        "to_iso8601(with_timezone(TIMESTAMP '2026-07-01 12:00:00', 'Europe/Zurich'))",
        "2026-07-01T12:00:00.000+02:00",
    ),
    Answer("from_unixtime(0)", "1970-01-01 00:00:00.000 UTC"),
    Answer("from_unixtime(0, 'Europe/Zurich')", "1970-01-01 01:00:00.000 Europe/Zurich"),
    Answer("to_iso8601(from_unixtime(1764054489))", "2025-11-25T07:08:09.000Z"),
    # timestamp(3): Trino's from_unixtime(double) rounds to the millisecond (Math.round, its implementation).
    Answer("CAST(from_unixtime(1764054489.1236) AS TIMESTAMP)", dt.datetime(2025, 11, 25, 7, 8, 9, 124000)),
    Answer("now() = current_timestamp", True),
    Answer("date_diff('second', now(), current_timestamp)", 0),
    Answer("CAST(current_timestamp AS VARCHAR) LIKE '% UTC'", True),
    # --- timestamp precision -----------------------------------------------------------------------------
    # https://trino.io/docs/current/language/types.html (timestamp(P); TIMESTAMP is timestamp(3); a literal's
    # precision is its digits'); a cast to a lower precision rounds (Trino's implementation, half up).
    Answer("CAST('2026-11-25 07:08:09.9996' AS TIMESTAMP)", dt.datetime(2026, 11, 25, 7, 8, 10)),
    Answer(
        "CAST(TIMESTAMP '2026-11-25 07:08:09.1235' AS TIMESTAMP(3))",
        dt.datetime(2026, 11, 25, 7, 8, 9, 124000),
    ),
    Answer("TIMESTAMP '2026-11-25 07:08:09.123456'", dt.datetime(2026, 11, 25, 7, 8, 9, 123456)),
    Answer(
        "TIMESTAMP '2026-11-25 00:00:01.100' - TIMESTAMP '2026-11-25 00:00:00.900'",
        dt.timedelta(milliseconds=200),
    ),
    # --- integer and DECIMAL division, avg of a DECIMAL -----------------------------------------------------
    # https://trino.io/docs/current/functions/math.html ("/": integer division performs truncation);
    # https://trino.io/docs/current/functions/decimal.html (a literal's precision and scale are its digits';
    # x / y has scale max(xs, ys)); the quotient is rounded half up (Trino's implementation).
    # https://trino.io/docs/current/functions/aggregate.html (avg of a DECIMAL is that DECIMAL type).
    Answer("7 / 2", 3),
    Answer("-7 / 2", -3),
    Raises("7 / 0", "Division by zero"),
    Answer("CAST(7 AS DOUBLE) / 2", 3.5),
    Answer("DECIMAL '2.00' / 3", Decimal("0.67")),
    Answer("DECIMAL '1.50'", Decimal("1.50")),
    Answer("100.0 * 1 / 21", Decimal("4.8")),
    Answer("5 / 2.0", Decimal("2.5")),
    Answer("-DECIMAL '2.00' / 3", Decimal("-0.67")),
    Answer("1e2", 100.0),
    Answer("(SELECT avg(CAST(x AS DECIMAL(12, 2))) FROM (VALUES 1, 2, 2) AS t(x))", Decimal("1.67")),
    Answer(
        "(SELECT sum(CAST(x AS DECIMAL(12, 2))) / count(*) FROM (VALUES 1, 2, 2) AS t(x))", Decimal("1.67")
    ),
    Answer("(SELECT avg(x) FROM (VALUES 1, 2, 2) AS t(x))", 5 / 3),
    # --- varchar compared with a number -----------------------------------------------------------------
    # https://trino.io/docs/current/functions/conversion.html: Trino will not convert between character and
    # numeric types; the comparison is a type error.
    Refused("(SELECT count(*) FROM events WHERE event_hour = 14)", "event_hour = 14"),
    Refused("(SELECT count(*) FROM events WHERE event_hour IN (7, 8))", "event_hour IN (7, 8)"),
    Refused("(SELECT count(*) FROM events WHERE event_hour BETWEEN 7 AND 9)", "BETWEEN 7 AND 9"),
    Refused("'1' + 1", "'1' + 1"),
    Answer("(SELECT count(*) FROM events WHERE event_hour = '14')", 0),
    # --- JSON -----------------------------------------------------------------------------------------------
    # https://trino.io/docs/current/functions/json.html: json_extract_scalar of an absent path, an object or
    # an array is NULL.
    Answer("""json_extract_scalar('{"a": 1}', '$.b')""", None),
    Answer("""json_extract_scalar('{"a": {"b": 1}}', '$.a')""", None),
    Answer("""json_extract_scalar('[1, 2]', '$[1]')""", "2"),
    # --- CAST and TRY_CAST ------------------------------------------------------------------------------
    # https://trino.io/docs/current/functions/conversion.html: cast fails, try_cast returns NULL. varchar to
    # an integer parses digits only, a DOUBLE or DECIMAL rounds half away from zero (Trino's implementation).
    Raises("CAST('abc' AS INTEGER)", "Cannot cast 'abc'"),
    Answer("TRY_CAST('abc' AS INTEGER)", None),
    Raises("CAST('1.5' AS INTEGER)", "Cannot cast '1.5'"),
    Answer("TRY_CAST('1.5' AS BIGINT)", None),
    Answer("CAST('-12' AS INTEGER)", -12),
    Answer("CAST(2.5e0 AS INTEGER)", 3),
    Answer("CAST(-2.5e0 AS BIGINT)", -3),
    Answer("CAST(DECIMAL '2.5' AS INTEGER)", 3),
    # --- NULL propagation -------------------------------------------------------------------------------
    # https://trino.io/docs/current/functions/comparison.html and .../functions/string.html (concat):
    # an operator or function of NULL is NULL; greatest/least of a NULL is NULL.
    Answer("NULL + 1", None),
    Answer("concat('a', NULL)", None),
    Answer("greatest(1, NULL)", None),
    Answer("NULL = NULL", None),
    Answer("1 NOT IN (2, NULL)", None),
    # --- arrays -------------------------------------------------------------------------------------------
    # https://trino.io/docs/current/functions/array.html: the subscript operator fails past the end;
    # element_at returns NULL there, and counts from the end for a negative index.
    Answer("ARRAY[1, 2][2]", 2),
    Raises("ARRAY[1, 2][5]", "Array subscript out of bounds"),
    Answer("element_at(ARRAY[1, 2], 5)", None),
    Answer("element_at(ARRAY[1, 2], -1)", 2),
]


_PLAIN = duckdb.connect()  # the property tests' DuckDB: the translated SQL needs no lake


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return athena.connect(tmp_path_factory.mktemp("empty-lake"))


def _id(case: Case) -> str:
    return f"{type(case).__name__}:{case.sql[:70]}"


def test_the_table_is_big_enough_and_covers_every_group() -> None:
    assert len(CASES) >= 40
    text = " ".join(case.sql for case in CASES)
    for construct in (
        "date_diff",
        "date_add",
        "date_trunc",
        "AT TIME ZONE",
        "from_unixtime",
        "to_iso8601",
        "with_timezone",
        "now()",
        "current_timestamp",
        "DECIMAL",
        "json_extract_scalar",
        "TRY_CAST",
        "element_at",
        "event_hour = 14",
    ):
        assert construct in text, construct


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_athena_semantics(conn: duckdb.DuckDBPyConnection, case: Case) -> None:
    sql = f"SELECT {case.sql}"
    if isinstance(case, Refused):
        with pytest.raises(athena.TranslationError) as refused:
            athena.run(conn, sql)
        message = str(refused.value)
        assert case.construct in message and "\n" not in message, message
        return
    if isinstance(case, Raises):
        with pytest.raises(duckdb.Error, match=case.match):
            athena.run(conn, sql)
        return
    _, rows = athena.run(conn, sql)
    assert rows == [(case.value,)]
    if isinstance(case.value, Decimal):  # the scale too: Decimal('1.7') == Decimal('1.70')
        assert str(rows[0][0]) == str(case.value)


def test_approximate_aggregates_run_and_are_marked() -> None:
    """https://trino.io/docs/current/functions/aggregate.html: approx_distinct (standard error 2.3 %) and
    approx_percentile are estimates; DuckDB's differ from Athena's, so the result says which are."""
    sql = (
        "SELECT approx_distinct(x) AS d, approx_percentile(x, 0.5) AS p, count(*) AS n "
        "FROM (VALUES 1, 2, 2, 3) AS t(x)"
    )
    names, rows = athena.run(athena.connect(Path("/nonexistent-lake")), sql)
    assert names == ["d", "p", "n"] and rows[0][0] == 3 and rows[0][2] == 4
    assert athena.approximate_columns(sql) == ["d", "p"]
    assert athena.approximate_columns("SELECT count(*) FROM events") == []


def test_a_decimal_divided_by_a_count_is_not_warned_as_integer_division() -> None:
    problems = athena.athena_divergences("SELECT CAST(x AS DECIMAL(12, 2)) / count(*) FROM events")
    assert problems and not any("truncates integers" in p for p in problems), problems
    assert any("DECIMAL" in p and "2" in p for p in problems), problems
    assert any(
        "truncates integers" in p for p in athena.athena_divergences("SELECT count(*) / 2 FROM events")
    )


def test_a_division_of_unknown_types_is_refused() -> None:
    with pytest.raises(athena.TranslationError, match="division"):
        athena.to_duckdb("SELECT a / b FROM somewhere_else")


@settings(max_examples=30)
@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=-(10**6), max_value=10**6).filter(bool),
)
def test_integer_division_truncates_toward_zero(a: int, b: int) -> None:
    expected = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
    conn = _PLAIN
    assert conn.execute(athena.to_duckdb(f"SELECT CAST({a} AS BIGINT) / {b}")).fetchall() == [(expected,)]


@settings(max_examples=30)
@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-1000, max_value=1000).filter(bool),
)
def test_decimal_division_rounds_half_up_at_the_scale(a: Decimal, b: int) -> None:
    exact = a / Decimal(b)
    expected = exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") + 0  # Trino has no -0.00
    conn = _PLAIN
    got = conn.execute(athena.to_duckdb(f"SELECT DECIMAL '{a}' / {b}")).fetchall()[0][0]
    assert got == expected and str(got) == str(expected)


@settings(max_examples=30)
@given(st.text(alphabet="0123456789+-. ae", max_size=6))
def test_varchar_to_integer_parses_digits_only(text: str) -> None:
    conn = _PLAIN
    got = conn.execute(athena.to_duckdb(f"SELECT TRY_CAST('{text}' AS BIGINT)")).fetchall()[0][0]
    digits = text[1:] if text[:1] in ("+", "-") else text
    assert got == (int(text) if digits.isdigit() and digits.isascii() else None)
