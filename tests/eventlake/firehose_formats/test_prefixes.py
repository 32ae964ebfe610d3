"""Prefix templates and object names against AWS's documented examples (s3-prefixes.md and friends)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.firehose_formats.java_time import format_java
from eventlake.firehose_formats.prefixes import (
    PrefixError,
    evaluate,
    object_key,
    object_name,
    pattern,
    random_string,
)
from glue import schema
from glue.errors import ErrorOutputType

PROCESSING = ErrorOutputType.PROCESSING_FAILED.value


def fixed(text: str):
    return lambda: text


# --- the guide's "Example prefixes" table, verbatim ------------------------------------------------------
# The table's header says "at 10:30 AM UTC on Aug 27, 2018", but its rows disagree with that instant and with
# each other (one evaluates dd to 10, another shows 2018/07/06 hour 23), so each row gets the instant its own
# output implies.


def test_example_random_string_and_timestamps_in_prefix_and_error_prefix() -> None:
    arrival = datetime(2018, 8, 10, 10, 30, tzinfo=UTC)
    prefix = "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}"
    error = "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}"
    assert (
        evaluate(prefix, arrival=arrival, random_string=fixed("5abf82daaa5"), dynamic_partitioning=False)
        == "myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5"
    )
    assert (
        evaluate(error, arrival=arrival, error_output_type=PROCESSING, dynamic_partitioning=False)
        == "myFirehoseFailures/processing-failed/2018/anyMonth/10"
    )


def test_example_hive_style_time_parts_and_quoted_literals() -> None:
    arrival = datetime(2018, 7, 6, 23, 30, tzinfo=UTC)
    prefix = "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    error = (
        "myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}"
    )
    assert evaluate(prefix, arrival=arrival) == "myPrefix/year=2018/month=07/day=06/hour=23/"
    assert (
        evaluate(error, arrival=arrival, error_output_type=PROCESSING)
        == "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed"
    )


def test_example_error_prefix_with_only_error_output_type_gets_nothing_appended() -> None:
    arrival = datetime(2018, 8, 27, 10, 30, tzinfo=UTC)
    error = "myFirehoseFailures/!{firehose:error-output-type}/"
    assert (
        evaluate(error, arrival=arrival, error_output_type=PROCESSING, dynamic_partitioning=False)
        == "myFirehoseFailures/processing-failed/"
    )


def test_firehose_namespace_table_examples() -> None:
    assert (
        evaluate(
            "myPrefix/result=!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}",
            arrival=datetime(2018, 8, 3, 12, tzinfo=UTC),
            error_output_type=PROCESSING,
        )
        == "myPrefix/result=processing-failed/2018/08/03"
    )
    assert (
        evaluate(
            "myPrefix/!{firehose:random-string}/",
            arrival=datetime.now(UTC),
            random_string=fixed("046b6c7f-0b"),
        )
        == "myPrefix/046b6c7f-0b/"
    )


def test_athena_guide_example_custom_prefix_with_dynamic_partitioning() -> None:
    prefix = "prefix/!{timestamp:yyyy}-!{timestamp:MM}-!{timestamp:dd}/!{partitionKeyFromQuery:customer_id}/"
    assert (
        evaluate(
            prefix, arrival=datetime(2021, 11, 1, 5, tzinfo=UTC), query_keys={"customer_id": "customer-1234"}
        )
        == "prefix/2021-11-01/customer-1234/"
    )


# --- the append rule (aws-rules.md "Dynamic partitioning") -----------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # The guide's table shows "myFirehosePrefix/2018/08/27/" and "2018/08/10/" for these two; AWS's own
        # example keys and a 2026 capture show plain concatenation of yyyy/MM/dd/HH/ (no '/' inserted).
        ("myFirehosePrefix", "myFirehosePrefix2018/08/27/10/"),
        ("", "2018/08/27/10/"),
        ("logs/", "logs/2018/08/27/10/"),
        # Any expression, even one without a timestamp, turns the append off.
        ("logs/!{firehose:random-string}/", "logs/abcdefghijk/"),
        ("logs/!{timestamp:yyyy}/", "logs/2018/"),
    ],
)
def test_append_rule_without_dynamic_partitioning(template: str, expected: str) -> None:
    arrival = datetime(2018, 8, 27, 10, 30, tzinfo=UTC)
    got = evaluate(template, arrival=arrival, dynamic_partitioning=False, random_string=fixed("abcdefghijk"))
    assert got == expected


def test_dynamic_partitioning_prefixes_get_nothing_appended() -> None:
    arrival = datetime(2018, 8, 27, 10, 30, tzinfo=UTC)
    assert evaluate("static/", arrival=arrival, dynamic_partitioning=True) == "static/"
    keys = {"event_type": "payment", "event_date": "2026-11-25", "event_hour": "07"}
    assert (
        evaluate(schema.DATA_PREFIX, arrival=arrival, partition_keys=keys)
        == "events/event_type=payment/event_date=2026-11-25/event_hour=07/"
    )


def test_project_error_and_backup_prefixes() -> None:
    arrival = datetime(2026, 11, 25, 7, 59, 59, tzinfo=UTC)
    for kind in ErrorOutputType:
        assert (
            evaluate(schema.ERROR_PREFIX, arrival=arrival, error_output_type=kind.value)
            == f"errors/{kind.value}/2026/11/25/07/"
        )
    assert evaluate(schema.BACKUP_PREFIX, arrival=arrival) == "raw/2026/11/25/07/"


# --- timestamps -----------------------------------------------------------------------------------------


def test_every_timestamp_in_one_prefix_uses_the_same_instant() -> None:
    arrival = datetime(2026, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)
    got = evaluate(
        "!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/!{timestamp:mm}/!{timestamp:ss.SSS}/",
        arrival=arrival,
    )
    assert got == "2026/12/31/23/59/59.999/"


def test_timestamps_are_utc_unless_a_time_zone_is_given() -> None:
    arrival = datetime(2026, 11, 25, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert evaluate("!{timestamp:yyyy-MM-dd HH}", arrival=arrival) == "2026-11-24 23"
    naive = datetime(2026, 11, 25, 1, 30)
    assert evaluate("!{timestamp:HH}", arrival=naive) == "01"
    assert evaluate("!{timestamp:HH}", arrival=naive, time_zone="Europe/Paris") == "02"
    assert evaluate("!{timestamp:HH}", arrival=naive, time_zone=None) == "01"  # never the machine's zone


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("yyyy", "2026"),
        ("yy", "26"),
        ("y", "2026"),
        ("uuuu", "2026"),
        ("M/d H:m:s", "3/5 7:8:9"),
        ("MM/dd HH:mm:ss", "03/05 07:08:09"),
        ("MMM MMMM", "Mar March"),
        ("EEE EEEE", "Thu Thursday"),
        ("D DDD", "64 064"),
        ("h a", "7 AM"),
        ("S SSS SSSSSSSSS", "1 123 123456000"),
        ("'year='yyyy", "year=2026"),
        ("''yyyy''", "'2026'"),
        ("'it''s' yyyy", "it's 2026"),
        ("yyyy[/MM]", "2026/03"),
        ("yyyy_MM-dd.HH", "2026_03-05.07"),
    ],
)
def test_java_pattern_subset(pattern: str, expected: str) -> None:
    assert format_java(datetime(2026, 3, 5, 7, 8, 9, 123_456, tzinfo=UTC), pattern) == expected


@pytest.mark.parametrize("pattern", ["'open", "ddd", "HHH", "yyyy{", "qqq", "Q"])
def test_bad_java_patterns_are_rejected(pattern: str) -> None:
    with pytest.raises(PrefixError):
        evaluate(f"x/!{{timestamp:{pattern}}}/", arrival=datetime.now(UTC))


# --- random strings -------------------------------------------------------------------------------------


def test_random_string_is_11_lowercase_hex_characters_and_varies() -> None:
    samples = {random_string() for _ in range(200)}
    assert len(samples) > 190
    assert all(re.fullmatch(r"[0-9a-f]{11}", s) for s in samples)


def test_each_random_string_instance_is_new() -> None:
    counter = itertools.count()
    got = evaluate(
        "!{firehose:random-string}/!{firehose:random-string}/",
        arrival=datetime.now(UTC),
        random_string=lambda: f"{next(counter):011d}",
    )
    assert got == "00000000000/00000000001/"
    first, second, _ = evaluate(
        "!{firehose:random-string}/!{firehose:random-string}/", arrival=datetime.now(UTC)
    ).split("/")
    assert first != second


# --- errors ---------------------------------------------------------------------------------------------


def test_missing_lambda_partition_key_is_an_error_for_partitioning_failed() -> None:
    with pytest.raises(PrefixError, match="event_hour"):
        evaluate(
            schema.DATA_PREFIX,
            arrival=datetime.now(UTC),
            partition_keys={"event_type": "payment", "event_date": "2026-11-25"},
        )
    with pytest.raises(PrefixError):
        evaluate(schema.DATA_PREFIX, arrival=datetime.now(UTC), partition_keys=None)


@pytest.mark.parametrize(
    ("template", "kwargs"),
    [
        ("x/!{unknown:thing}/", {}),
        ("x/!{firehose:nope}/", {}),
        ("x/!{noColon}/", {}),
        ("x/!{timestamp:yyyy", {}),
        ("x/!{firehose:error-output-type}/", {}),  # only an error prefix may use it
        ("x/!{partitionKeyFromLambda:k}/", {"partition_keys": {"k": "v"}, "dynamic_partitioning": False}),
        ("x/!{partitionKeyFromLambda:k}/", {"partition_keys": {"k": "v"}, "error_output_type": PROCESSING}),
        ("x/!{partitionKeyFromQuery:k}/", {}),
    ],
)
def test_invalid_templates(template: str, kwargs: dict) -> None:
    with pytest.raises(PrefixError):
        evaluate(template, arrival=datetime.now(UTC), **kwargs)


def test_512_character_limit_applies_to_the_evaluated_prefix() -> None:
    arrival = datetime.now(UTC)
    assert len(evaluate("a" * 512, arrival=arrival)) == 512
    with pytest.raises(PrefixError, match="512"):
        evaluate("a" * 513, arrival=arrival)
    with pytest.raises(PrefixError, match="512"):
        evaluate("a" * 500 + "!{partitionKeyFromLambda:k}", arrival=arrival, partition_keys={"k": "b" * 13})
    with pytest.raises(PrefixError, match="512"):  # the appended yyyy/MM/dd/HH/ counts too
        evaluate("a" * 500, arrival=arrival, dynamic_partitioning=False)


# --- object names ---------------------------------------------------------------------------------------


def test_object_name_and_key() -> None:
    name = object_name(
        delivery_stream_name="eventlake-dev-delivery",
        version=1,
        delivery_time=datetime(2026, 11, 25, 7, 5, 9, tzinfo=UTC),
        object_uuid="0b9d8f1e-1a2b-4c3d-8e9f-001122334455",
        extension=".parquet",
    )
    assert name == "eventlake-dev-delivery-1-2026-11-25-07-05-09-0b9d8f1e-1a2b-4c3d-8e9f-001122334455.parquet"
    assert object_key("events/event_type=a/", name) == "events/event_type=a/" + name
    assert object_key("no-slash", "x") == "no-slashx"


def test_object_name_defaults_to_a_fresh_uuid4_and_no_extension() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a = object_name(delivery_stream_name="s", version=3, delivery_time=when)
    b = object_name(delivery_stream_name="s", version=3, delivery_time=when)
    pattern = r"s-3-2026-01-02-03-04-05-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(pattern, a)
    assert a != b
    with pytest.raises(ValueError):
        object_name(delivery_stream_name="s", version=0, delivery_time=when)


# --- property: partition values land in the path unchanged -----------------------------------------------

SAFE = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", min_size=1, max_size=64
)


@given(event_type=SAFE, event_date=SAFE, event_hour=SAFE)
def test_partition_values_round_trip_into_the_path(event_type: str, event_date: str, event_hour: str) -> None:
    keys = {"event_type": event_type, "event_date": event_date, "event_hour": event_hour}
    prefix = evaluate(schema.DATA_PREFIX, arrival=datetime.now(UTC), partition_keys=keys)
    assert prefix.startswith(schema.DATA_ROOT) and prefix.endswith("/")
    segments = prefix[len(schema.DATA_ROOT) :].rstrip("/").split("/")
    assert dict(segment.split("=", 1) for segment in segments) == keys


# --- patterns: a regex for what a template evaluates to ---------------------------------------------------


def test_prefix_patterns_follow_the_template() -> None:
    assert pattern(schema.BACKUP_PREFIX) == r"raw/\d{4}/\d{2}/\d{2}/\d{2}/"
    with pytest.raises(PrefixError, match="no pattern"):
        pattern("x/!{partitionKeyFromLambda:k}/")


def test_pattern_reads_quoted_text_and_captures_the_error_type() -> None:
    template = "errors/!{firehose:error-output-type}/!{timestamp:yyyy'-w'MM}/"
    got = evaluate(template, arrival=datetime(2026, 1, 5, tzinfo=UTC), error_output_type=PROCESSING)
    assert got == "errors/processing-failed/2026-w01/"
    match = re.fullmatch(pattern(template), got)
    assert match is not None and match["error_type"] == PROCESSING
    assert re.fullmatch(pattern(template), "errors/processing-failed/2026-w1/") is None
    assert re.fullmatch(pattern(template), "errors/processing_failed/2026-w01/") is None


def test_pattern_of_a_repeated_error_type_requires_the_same_value() -> None:
    template = "!{firehose:error-output-type}/x/!{firehose:error-output-type}/"
    assert re.fullmatch(pattern(template), f"{PROCESSING}/x/{PROCESSING}/")
    assert not re.fullmatch(pattern(template), f"{PROCESSING}/x/partitioning-failed/")


def test_pattern_matches_the_guides_random_strings_and_the_appended_time() -> None:
    for example in ("5abf82daaa5", "046b6c7f-0b"):
        assert re.fullmatch(pattern("rand=!{firehose:random-string}/"), f"rand={example}/")
    assert not re.fullmatch(pattern("rand=!{firehose:random-string}/"), "rand=5abf82daaa/")
    assert pattern("logs/") == "logs/"
    assert re.fullmatch(pattern("logs/", dynamic_partitioning=False), "logs/2018/08/27/10/")


@pytest.mark.parametrize(
    "template", ["x/!{noColon}/", "x/!{firehose:nope}/", "x/!{timestamp:yyyy", "x/!{timestamp:Q}"]
)
def test_pattern_refuses_what_evaluate_refuses(template: str) -> None:
    with pytest.raises(PrefixError):
        pattern(template)


# A small grammar of templates: literal text, timestamps (letter runs, punctuation and quoted text, quotes
# included), the error output type and random strings.
LETTER_RUNS = st.sampled_from(
    [
        letter * count
        for letter, most in {
            "y": 6, "u": 4, "M": 4, "L": 4, "d": 2, "H": 2, "h": 2, "k": 2, "K": 2,
            "m": 2, "s": 2, "D": 3, "a": 1, "E": 4, "S": 9,
        }.items()
        for count in range(1, most + 1)
    ]
)  # fmt: skip
QUOTED = st.text(alphabet="abcXYZ09 -/_=.'", max_size=6).map(lambda text: "'" + text.replace("'", "''") + "'")
SEPARATORS = st.one_of(st.sampled_from(["/", "-", "_", ".", " ", ":", "''", "[", "]"]), QUOTED)
JAVA_PATTERNS = st.lists(st.tuples(LETTER_RUNS, SEPARATORS).map("".join), min_size=1, max_size=5).map("".join)
TEMPLATE_PIECES = st.one_of(
    st.text(alphabet="abcXYZ0189/-_=.", min_size=1, max_size=8),
    JAVA_PATTERNS.map(lambda java: f"!{{timestamp:{java}}}"),
    st.just("!{firehose:error-output-type}"),
    st.just("!{firehose:random-string}"),
)


@given(
    pieces=st.lists(TEMPLATE_PIECES, max_size=6),
    arrival=st.datetimes(),
    kind=st.sampled_from(list(ErrorOutputType)),
    dynamic_partitioning=st.booleans(),
)
def test_every_evaluated_prefix_matches_its_pattern(
    pieces: list[str], arrival: datetime, kind: ErrorOutputType, dynamic_partitioning: bool
) -> None:
    template = "".join(pieces)
    got = evaluate(
        template, arrival=arrival, error_output_type=kind.value, dynamic_partitioning=dynamic_partitioning
    )
    match = re.fullmatch(pattern(template, dynamic_partitioning=dynamic_partitioning), got)
    assert match is not None, (template, got)
    if "!{firehose:error-output-type}" in template:
        assert match["error_type"] == kind.value
