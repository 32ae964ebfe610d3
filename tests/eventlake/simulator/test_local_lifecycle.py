"""The local stand-in for S3 lifecycle applies AWS's documented semantics: days counted from creation and
rounded up to midnight UTC, a tag-and-prefix filter selecting only objects that carry the tag under the
prefix, a delete marker on a versioned bucket and the noncurrent version removed a day after that, removal on
an unversioned bucket, and lone delete markers cleaned up. The rules are the lake's own
(``infra.compaction_spec.superseded_expiry_rules``), put through the S3 API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from eventlake.simulator.local_lifecycle import apply_expiry, due, rule_matches, stored_bytes
from glue import schema
from glue.compactor_contract import SUPERSEDED_TAG
from infra.compaction_spec import SUPERSEDED_NONCURRENT_DAYS, superseded_expiry_rules

DAYS = 7
TAG = {"Key": SUPERSEDED_TAG[0], "Value": SUPERSEDED_TAG[1]}


# S3 writes creation dates of today; years near 9999 would only overflow datetime's own range.
@given(
    st.datetimes(max_value=datetime(9000, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=400),
)
def test_due_is_the_midnight_after_creation_plus_days(created: datetime, days: int) -> None:
    when = due(created, days)
    assert (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0)
    assert created + timedelta(days=days) < when <= created + timedelta(days=days + 1)


keys = st.text("abcdefghij/=_-.0123456789", max_size=30)
tag_sets = st.dictionaries(
    st.sampled_from(["eventlake-compacted", "team", "x"]), st.sampled_from(["superseded", "a"])
)


@given(st.sampled_from(["", "events/", "compacted/"]), keys, tag_sets)
def test_the_superseded_rules_select_tagged_objects_under_their_root_only(
    root: str, rest: str, tags: dict[str, str]
) -> None:
    key = root + rest
    selected = [
        r["ID"]
        for r in superseded_expiry_rules(DAYS)
        if "Days" in r.get("Expiration", {}) and rule_matches(r, key, 10, tags)
    ]
    tagged = tags.get(TAG["Key"]) == TAG["Value"]
    expected = {
        schema.DATA_ROOT: ["expire-superseded-originals"],
        schema.COMPACTED_ROOT: ["expire-superseded-copies"],
    }
    assert selected == (expected.get(root, []) if tagged else [])


def test_expiry_zero_means_no_rules() -> None:
    assert superseded_expiry_rules(0) == []


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        client.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        client.put_bucket_lifecycle_configuration(
            Bucket="lake", LifecycleConfiguration={"Rules": superseded_expiry_rules(DAYS)}
        )
        yield client


def put(s3: Any, key: str, tagged: bool) -> None:
    s3.put_object(Bucket="lake", Key=key, Body=b"x" * 100)
    if tagged:
        s3.put_object_tagging(Bucket="lake", Key=key, Tagging={"TagSet": [TAG]})


def current(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket="lake").get("Contents", [])}


@pytest.mark.parametrize("versioned", [True, False])
def test_tagged_objects_under_the_roots_expire_after_their_days_and_nothing_else(
    s3: Any, versioned: bool
) -> None:
    if versioned:
        s3.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Enabled"})
    put(s3, f"{schema.DATA_ROOT}a/old.parquet", tagged=True)
    put(s3, f"{schema.COMPACTED_ROOT}a/run/old.parquet", tagged=True)
    put(s3, f"{schema.DATA_ROOT}a/late.parquet", tagged=False)
    put(s3, f"{schema.ERROR_ROOT}a/tagged-but-elsewhere", tagged=True)
    now = datetime.now(UTC)
    everything = current(s3)

    assert apply_expiry(s3, "lake", now + timedelta(days=DAYS - 1)).expired == []
    first = apply_expiry(s3, "lake", now + timedelta(days=DAYS + 1))
    assert set(first.expired) == {
        f"{schema.DATA_ROOT}a/old.parquet",
        f"{schema.COMPACTED_ROOT}a/run/old.parquet",
    }
    assert current(s3) == everything - set(first.expired)
    # Versioned: the data stays as a noncurrent version until its own day has passed; then it goes, and so
    # does the delete marker left alone.
    remaining = stored_bytes(s3, "lake")
    assert remaining == (400 if versioned else 200)
    later = apply_expiry(s3, "lake", now + timedelta(days=DAYS + 2 + SUPERSEDED_NONCURRENT_DAYS))
    assert stored_bytes(s3, "lake") == 200
    if versioned:
        assert later.removed_versions == 4  # two noncurrent versions, two lone delete markers
        assert s3.list_object_versions(Bucket="lake").get("DeleteMarkers", []) == []
