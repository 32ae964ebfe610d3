"""S3 ``PutObject`` and ``GetObject`` answered in-process (``s3_direct``) against moto's own answers.

The same calls go through a plain moto client and a client answered in-process, on twin buckets of one moto:
the parsed responses, the objects moto then holds and what either client reads back must be the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response

from eventlake.simulator.embedded import s3_direct
from eventlake.simulator.embedded.aws import ACCOUNT_ID

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    """(plain s3, direct s3) on one moto."""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with ExitStack() as stack:
            stack.enter_context(mock_aws())
            plain, direct = boto3.client("s3", region_name=REGION), boto3.client("s3", region_name=REGION)
            stack.enter_context(s3_direct.attached(direct, ACCOUNT_ID))
            yield plain, direct
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_buckets = iter(range(10**6))


def _bucket(s3: Any) -> str:
    name = f"lake-{next(_buckets)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def _body(response: dict[str, Any]) -> dict[str, Any]:
    """The parsed response without its metadata, times by type, the body's bytes read."""
    out = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if "Body" in out:
        out["Body"] = out["Body"].read()
    for k, v in out.items():
        if isinstance(v, datetime):
            assert v.tzinfo is not None
            out[k] = type(v.tzinfo).__name__
    return out


def _stored(bucket: str, key: str) -> dict[str, Any]:
    obj = s3_backends[ACCOUNT_ID]["aws"].get_object(bucket, key)
    return {
        "value": obj.value,
        "etag": obj.etag,
        "metadata": dict(obj.metadata),
        "checksum": (obj.checksum_algorithm, obj.checksum_value),
        "storage_class": obj.storage_class,
        "acl": obj.acl.to_config_dict() if obj.acl else None,
        "response": {k: v for k, v in obj.response_dict.items() if k != "last-modified"},
        "tags": s3_backends[ACCOUNT_ID]["aws"].get_object_tagging(obj),
    }


# Object keys like the lake's: path segments of letters, digits, "=", "-", "_", "." and some Unicode.
keys = st.lists(st.text("abcXYZ019=-_.é東", min_size=1, max_size=12), min_size=1, max_size=4).map("/".join)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=keys, body=st.binary(max_size=2_000))
def test_put_and_get_answer_as_moto_does(clients: Any, key: str, body: bytes) -> None:
    plain, direct = clients
    buckets = _bucket(plain), _bucket(plain)
    puts = [
        _body(c.put_object(Bucket=b, Key=key, Body=body))
        for c, b in zip((plain, direct), buckets, strict=True)
    ]
    assert puts[0] == puts[1]
    assert _stored(buckets[0], key) == _stored(buckets[1], key)
    # Either client reads what either wrote, the same way.
    reads = [_body(c.get_object(Bucket=b, Key=key)) for c in (plain, direct) for b in buckets]
    assert all(r == reads[0] for r in reads) and reads[0]["Body"] == body


def test_a_missing_key_or_bucket_is_moto_s_error(clients: Any) -> None:
    plain, direct = clients
    bucket = _bucket(plain)
    for client in (plain, direct):
        with pytest.raises(client.exceptions.NoSuchKey):
            client.get_object(Bucket=bucket, Key="nope")
        with pytest.raises(client.exceptions.NoSuchBucket):
            client.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x")


def test_calls_with_other_parameters_are_moto_s(clients: Any) -> None:
    plain, direct = clients
    bucket = _bucket(plain)
    direct.put_object(Bucket=bucket, Key="k", Body=b"{}", ContentType="application/json", Metadata={"a": "b"})
    got = direct.get_object(Bucket=bucket, Key="k")
    assert (got["ContentType"], got["Metadata"]) == ("application/json", {"a": "b"})
    ranged = [c.get_object(Bucket=bucket, Key="k", Range="bytes=0-0")["Body"].read() for c in (plain, direct)]
    assert ranged == [b"{", b"{"]
    with pytest.raises(ClientError) as raised:
        direct.get_object(Bucket=bucket, Key="k", IfMatch='"not-the-etag"')
    assert raised.value.response["Error"]["Code"] == "PreconditionFailed"


def test_plain_puts_and_gets_never_reach_moto_s_request_layer(clients: Any, monkeypatch: Any) -> None:
    plain, direct = clients
    bucket = _bucket(plain)
    reached: list[str] = []
    for name in ("put_object", "get_object"):
        original = getattr(S3Response, name)
        monkeypatch.setattr(S3Response, name, lambda self, n=name, f=original: reached.append(n) or f(self))
    direct.put_object(Bucket=bucket, Key="events/a.parquet", Body=b"PAR1")
    assert direct.get_object(Bucket=bucket, Key="events/a.parquet")["Body"].read() == b"PAR1"
    assert reached == []
    plain.get_object(Bucket=bucket, Key="events/a.parquet")
    assert reached == ["get_object"]  # the plain client still goes through moto
