"""Firehose's S3 prefix templates and object names, evaluated the way AWS documents them.

Sources: the Firehose guide's "Custom Prefixes for Amazon S3 Objects"
(https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html) and "Dynamic Partitioning"
(https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html) pages. The append rule follows
AWS's example keys and a 2026 capture, not the guide's older wording.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from aws_contract import limits
from eventlake.firehose_formats.java_time import DatePatternError, format_java, java_pattern
from glue.errors import ErrorOutputType

_EXPRESSION = re.compile(r"!\{([^}]*)\}")
# Firehose appends this to a prefix with no expression at all (no separator is inserted before it).
_DEFAULT_TIME_PATTERN = "yyyy/MM/dd/HH/"


class PrefixError(ValueError):
    """A template Firehose would reject, or a record it cannot place (routed to ``partitioning-failed``)."""


def random_string() -> str:
    """11 random lower-case hex characters, like the guide's example ``rand=5abf82daaa5``."""
    return secrets.token_hex(6)[: limits.RANDOM_STRING_CHARS]


def evaluate(
    template: str,
    *,
    arrival: datetime,
    partition_keys: Mapping[str, str] | None = None,
    error_output_type: str | None = None,
    dynamic_partitioning: bool = True,
    random_string: Callable[[], str] = random_string,
    query_keys: Mapping[str, str] | None = None,
    time_zone: str | tzinfo | None = "UTC",
) -> str:
    """Evaluate a ``Prefix``/``ErrorOutputPrefix`` template for one S3 object.

    ``arrival`` is the approximate arrival time of the oldest record in the object; every
    ``!{timestamp:...}`` uses that same instant, in ``time_zone`` (Firehose's ``custom_time_zone``, UTC by
    default). ``partition_keys`` are the Lambda's ``metadata.partitionKeys``; ``query_keys`` the JQ results
    for ``partitionKeyFromQuery`` (no JQ runs here, so they default to ``partition_keys``).
    ``error_output_type`` is set only when evaluating an error prefix. A template without any expression gets
    ``yyyy/MM/dd/HH/`` appended by plain concatenation unless dynamic partitioning is on.
    """
    moment = _in_zone(arrival, time_zone)
    if "!{" not in template:
        result = template if dynamic_partitioning else template + format_java(moment, _DEFAULT_TIME_PATTERN)
        return _checked(result)

    lambda_keys = partition_keys or {}
    jq_keys = query_keys if query_keys is not None else lambda_keys
    parts: list[str] = []
    for literal, body in _pieces(template):
        parts.append(literal)
        if body is not None:
            parts.append(
                _expression(
                    body, moment, lambda_keys, jq_keys, error_output_type, dynamic_partitioning, random_string
                )
            )
    return _checked("".join(parts))


def _pieces(template: str) -> Iterator[tuple[str, str | None]]:
    """The template as (literal text, expression body) pairs, in order; the last has no expression.

    Lazy, so a bad literal is reported only once the expressions before it have been evaluated.
    """
    position = 0
    for match in _EXPRESSION.finditer(template):
        literal = template[position : match.start()]
        if "!{" in literal:
            raise PrefixError(f"'!{{' may appear only in !{{namespace:value}} expressions: {template!r}")
        yield literal, match.group(1)
        position = match.end()
    tail = template[position:]
    if "!{" in tail:
        raise PrefixError(f"unterminated '!{{' expression in {template!r}")
    yield tail, None


def _expression(
    body: str,
    moment: datetime,
    lambda_keys: Mapping[str, str],
    jq_keys: Mapping[str, str],
    error_output_type: str | None,
    dynamic_partitioning: bool,
    make_random: Callable[[], str],
) -> str:
    namespace, sep, value = body.partition(":")
    if not sep:
        raise PrefixError(f"expression !{{{body}}} is not of the form !{{namespace:value}}")
    if namespace == "timestamp":
        try:
            return format_java(moment, value)
        except DatePatternError as exc:
            raise PrefixError(str(exc)) from None
    if namespace == "firehose":
        if value == "random-string":
            text = make_random()
            if len(text) != limits.RANDOM_STRING_CHARS:
                raise PrefixError(
                    f"random-string must be {limits.RANDOM_STRING_CHARS} characters, got {text!r}"
                )
            return text
        if value == "error-output-type":
            if error_output_type is None:
                raise PrefixError("!{firehose:error-output-type} is allowed only in the error output prefix")
            return error_output_type
        raise PrefixError(f"unknown firehose value {value!r} (random-string | error-output-type)")
    if namespace in ("partitionKeyFromLambda", "partitionKeyFromQuery"):
        if not dynamic_partitioning:
            raise PrefixError(f"!{{{namespace}:...}} requires dynamic partitioning")
        if error_output_type is not None:
            raise PrefixError(f"the error output prefix must not contain !{{{namespace}:...}}")
        keys = lambda_keys if namespace == "partitionKeyFromLambda" else jq_keys
        found = keys.get(value)
        if found is None:
            raise PrefixError(f"partition key {value!r} missing for !{{{namespace}:{value}}}")
        return str(found)
    raise PrefixError(f"unknown namespace {namespace!r} in !{{{body}}}")


def pattern(template: str, *, dynamic_partitioning: bool = True) -> str:
    """A regex that fully matches every prefix :func:`evaluate` makes from ``template``.

    Each ``!{timestamp:...}`` becomes what :func:`format_java` prints (digit runs of the widths its letters
    print, names for ``MMM``/``EEE``/``a``, quoted text as itself), ``!{firehose:random-string}`` any
    ``limits.RANDOM_STRING_CHARS`` characters of one path segment, and ``!{firehose:error-output-type}``
    one of :class:`ErrorOutputType`'s values, captured as the group ``error_type`` (a repeat is the same
    value). Partition keys have no pattern: their values are whatever the producer sent.
    """
    if "!{" not in template:
        appended = "" if dynamic_partitioning else java_pattern(_DEFAULT_TIME_PATTERN)
        return re.escape(template) + appended
    parts: list[str] = []
    has_error_type = False
    for literal, body in _pieces(template):
        parts.append(re.escape(literal))
        if body == "firehose:error-output-type":
            parts.append("(?P=error_type)" if has_error_type else _ERROR_TYPE_GROUP)
            has_error_type = True
        elif body is not None:
            parts.append(_expression_pattern(body))
    return "".join(parts)


_ERROR_TYPE_GROUP = "(?P<error_type>" + "|".join(re.escape(t.value) for t in ErrorOutputType) + ")"


def _expression_pattern(body: str) -> str:
    namespace, _, value = body.partition(":")
    if namespace == "timestamp":
        try:
            return java_pattern(value)
        except DatePatternError as exc:
            raise PrefixError(str(exc)) from None
    if body == "firehose:random-string":
        return f"[^/]{{{limits.RANDOM_STRING_CHARS}}}"
    raise PrefixError(f"no pattern for the prefix expression !{{{body}}}")


def _checked(prefix: str) -> str:
    if len(prefix) > limits.EVALUATED_PREFIX_MAX_CHARS:
        most = limits.EVALUATED_PREFIX_MAX_CHARS
        raise PrefixError(f"evaluated prefix is {len(prefix)} characters, over the {most} limit")
    return prefix


def _in_zone(moment: datetime, time_zone: str | tzinfo | None) -> datetime:
    """Naive datetimes are taken as UTC, the way Firehose's clock is; ``None`` means UTC, never local time."""
    if time_zone is None or time_zone == "UTC":
        zone: tzinfo = UTC
    else:
        zone = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def object_name(
    *,
    delivery_stream_name: str,
    version: int,
    delivery_time: datetime,
    object_uuid: str | None = None,
    extension: str = "",
    time_zone: str | tzinfo | None = "UTC",
) -> str:
    """``<stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid><ext>``: the suffix Firehose appends.

    The time parts are the *delivery* time (not arrival); ``version`` starts at 1 and grows with each
    configuration change; ``extension`` (e.g. ``.parquet``) is empty for error objects.
    """
    if version < 1:
        raise ValueError(f"delivery stream version starts at 1, got {version}")
    moment = _in_zone(delivery_time, time_zone)
    stamp = moment.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{delivery_stream_name}-{version}-{stamp}-{object_uuid or uuid.uuid4()}{extension}"


def object_key(prefix: str, name: str) -> str:
    """Firehose joins prefix and name by plain concatenation: a prefix without a trailing '/' runs on."""
    key = prefix + name
    if len(key.encode("utf-8")) > limits.S3_OBJECT_KEY_MAX_BYTES:
        raise PrefixError(f"object key is over S3's {limits.S3_OBJECT_KEY_MAX_BYTES}-byte limit")
    return key
