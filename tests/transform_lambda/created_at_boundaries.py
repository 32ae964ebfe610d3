"""created_at near the boundaries a row's time can cross (second, hour, day, year), as JSON texts, and the
rule they are held to: the sent time truncated, never rounded up (``glue.schema.split_seconds``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from glue import schema

# Whole seconds where a row's second, hour, day or year changes: the first second of each year the window
# holds, of days, of hours, and any second.
YEAR_STARTS = [int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) for year in range(2001, 2101)]
BOUNDARIES = st.one_of(
    st.sampled_from(YEAR_STARTS),
    st.integers(schema.MIN_CREATED_AT // 86_400 + 1, schema.MAX_CREATED_AT // 86_400).map(
        lambda d: d * 86_400
    ),
    st.integers(schema.MIN_CREATED_AT // 3600 + 1, schema.MAX_CREATED_AT // 3600).map(lambda h: h * 3600),
    st.integers(schema.MIN_CREATED_AT + 1, schema.MAX_CREATED_AT),
)


def _near(boundary: int, below: bool, nines: int, last: int) -> str:
    """A JSON number just below a boundary (``...59.99..9d``, rounding up when read as a double, or not) or
    just past it (``...00.00..0d``)."""
    if below:
        return f"{boundary - 1}.{'9' * nines}{last}"
    return f"{boundary}.{'0' * nines}{last}"


# created_at as a JSON number's text, near those boundaries, with 1 to 12 fraction digits.
NEAR_BOUNDARIES = st.builds(_near, BOUNDARIES, st.booleans(), st.integers(0, 11), st.integers(0, 9))


def reference_instant(epoch: float) -> datetime:
    """An event time as the rule reads it: the double's shortest decimal (``repr``, the number as sent when
    it has at most 15 significant digits), truncated to the millisecond, never rounded up."""
    millis = math.floor(Decimal(repr(epoch)) * 1000)
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
