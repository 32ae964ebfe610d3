"""The deployed JQ query (``glue.partition_query.QUERY``), evaluated by a real jq, against the Lambda mode's
partition layout (``schema.partition_values``) and against the invariant's plain-Python reading of it."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlake.checks.query_mode import expected_keys
from eventlake.simulator.firehose.metadata_extraction import QueryFailure, QueryPartitioner
from glue import partition_query, schema

PARTITIONER = QueryPartitioner()
SAFE_TYPE = st.from_regex(rf"\A{schema.EVENT_TYPE_PATTERN}\Z", fullmatch=True)
IN_WINDOW_INT = st.integers(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT - 1)
IN_WINDOW_FLOAT = st.floats(schema.MIN_CREATED_AT, schema.MAX_CREATED_AT, exclude_max=True)
# Names: safe types with subtypes, and the unsafe, empty and odd ones the Lambda rejects.
EVENT_NAMES = st.one_of(
    st.builds(lambda t, rest: ":".join([t, *rest]), SAFE_TYPE, st.lists(st.text(max_size=8), max_size=3)),
    st.text(max_size=20),
    st.sampled_from(["../../etc:passwd", "..:x", ":created", "pay ment:order", "a\n", "", "é:x"]),
)
CREATED_AT = st.one_of(
    IN_WINDOW_INT,
    IN_WINDOW_FLOAT,
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=10),
    st.none(),
)


def _keys_or_none(data: bytes) -> dict[str, str] | None:
    try:
        return PARTITIONER.keys(data)
    except QueryFailure:
        return None


def _rounds_up_a_second(created: float) -> bool:
    """``datetime.fromtimestamp`` (the Lambda's ``partition_values``) rounds to the microsecond: an instant
    less than half a microsecond before a whole second reads as that second."""
    return datetime.fromtimestamp(created, tz=UTC).timestamp() >= math.floor(created) + 1


@pytest.mark.slow
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(event_type=SAFE_TYPE, rest=st.text(max_size=12), created=st.one_of(IN_WINDOW_INT, IN_WINDOW_FLOAT))
def test_valid_events_get_the_lambda_modes_partition(event_type: str, rest: str, created: float) -> None:
    record = json.dumps({"event_uuid": "u", "event_name": f"{event_type}:{rest}", "created_at": created})
    keys = PARTITIONER.keys(record.encode() + b"\n")
    # The Lambda's layout, exactly, except where its microsecond rounding crosses a second (see report).
    if not _rounds_up_a_second(created):
        assert keys == schema.partition_values(event_type, created)
    assert keys == schema.partition_values(event_type, math.floor(created))


@pytest.mark.slow
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(name=EVENT_NAMES, created=CREATED_AT, drop=st.sampled_from([None, "event_name", "created_at"]))
def test_jq_and_the_invariants_reading_agree(name: str, created: Any, drop: str | None) -> None:
    event = {"event_uuid": "u", "event_name": name, "created_at": created, "payload": {"a": [1]}}
    if drop:
        del event[drop]
    data = json.dumps(event).encode() + b"\n"
    assert _keys_or_none(data) == expected_keys(data)


@pytest.mark.parametrize(
    "data",
    [
        b"not json\n",
        b'{"event_name": "a:b", "created_at": 1800000000',  # cut short
        b"\xc3\x28" + b'{"event_name": "a:b", "created_at": 1800000000}\n',  # not UTF-8
        b'["a:b"]\n',
        b'"a:b"\n',
        b'{"event_name": "a:b", "created_at": 1800000000}{"event_name": "a:b", "created_at": 1}\n',
        b'{"event_name": "a:b", "created_at": NaN}\n',
        b"\n",
    ],
)
def test_what_cannot_be_partitioned_fails(data: bytes) -> None:
    with pytest.raises(QueryFailure):
        PARTITIONER.keys(data)
    assert expected_keys(data) is None


JQ_16 = shutil.which("jq")


def _jq_version() -> str:
    if JQ_16 is None:
        return ""
    return subprocess.run([JQ_16, "--version"], capture_output=True, text=True, check=False).stdout.strip()


@pytest.mark.skipif(_jq_version() != "jq-1.6", reason="needs the jq 1.6 executable (Firehose's version)")
def test_jq_1_6_itself_gives_the_same_keys_and_failures() -> None:
    """The bindings bundle libjq 1.7; Firehose runs 1.6. The query, run by the jq 1.6 executable over JSON
    records of every kind, gives what the bindings give (a failure as null)."""
    records = [
        {"event_name": name, "created_at": created}
        for name in ["payment:order:completed", "x", "a:", "../x:y", "..", "", "pay ment", 3, None, ["a"]]
        for created in [1_700_000_000, 1_700_003_599.999, 1.0e9, 0, -1.5, 5.0e9, "1", True, None]
    ]
    lines = "".join(json.dumps(r) + "\n" for r in records)
    program = f"try ({partition_query.QUERY}) catch null"
    done = subprocess.run(
        [JQ_16, "-c", program], input=lines, capture_output=True, text=True, check=True, timeout=60
    )
    old = [json.loads(line) for line in done.stdout.splitlines()]
    new = [_keys_or_none(json.dumps(r).encode()) for r in records]
    assert old == new
    assert sum(k is not None for k in new) == 3 * 3  # the 3 safe names x the 3 in-window times
