"""S3 lifecycle expiry, applied on demand to the embedded bucket: moto stores a bucket's lifecycle rules but
never runs them, so the local runner (and the compaction tests) call :func:`apply_expiry` to do what S3 would
have done by a given time.

What it applies, as AWS documents it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
intro-lifecycle-rules.html, .../lifecycle-expire-general-considerations.html):

- a rule's filter: a ``Prefix``, a ``Tag``, or an ``And`` of a prefix, tags and size bounds (an object matches
  when it carries every tag); only ``Enabled`` rules;
- ``Expiration.Days``: the current version is due at the midnight UTC after its creation plus the days; on a
  versioned bucket it becomes noncurrent behind a new delete marker, on an unversioned one it is removed;
- ``NoncurrentVersionExpiration.NoncurrentDays``: a noncurrent version is due at the midnight UTC after the
  moment it became noncurrent (its successor's creation) plus the days; it is removed for good;
- ``Expiration.ExpiredObjectDeleteMarker``: a delete marker that is the only version left of its key goes.

Transitions, multipart aborts and ``NewerNoncurrentVersions`` are not modelled (nothing here needs them).
It repeats until nothing more is due at ``now``, as S3's daily passes would by then. The delete markers it
puts carry the real clock, so a version it made noncurrent counts its noncurrent days from the day its
expiration was due (never sooner than S3 would remove it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MAX_PASSES = 5


@dataclass
class ExpiryOutcome:
    """What one :func:`apply_expiry` did."""

    expired: list[str] = field(default_factory=list)  # keys whose current version expired
    removed_versions: int = 0  # versions (and delete markers) removed for good
    removed_bytes: int = 0


@dataclass(frozen=True)
class _Version:
    key: str
    version_id: str
    last_modified: datetime
    size: int
    is_latest: bool
    is_delete_marker: bool


def due(start: datetime, days: int) -> datetime:
    """S3's rule: ``start`` plus ``days``, rounded up to the next midnight UTC."""
    end = start + timedelta(days=days)
    return end.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)


def enabled_rules(s3: Any, bucket: str) -> list[dict[str, Any]]:
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return []
        raise
    return [r for r in rules if r.get("Status") == "Enabled"]


def rule_matches(rule: dict[str, Any], key: str, size: int, tags: dict[str, str]) -> bool:
    """Whether ``rule``'s filter selects an object with this key, size and tag set."""
    spec: dict[str, Any] = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    if "And" in spec:
        spec = spec["And"]
        wanted = {t["Key"]: t["Value"] for t in spec.get("Tags", [])}
    else:
        wanted = {spec["Tag"]["Key"]: spec["Tag"]["Value"]} if "Tag" in spec else {}
    if not key.startswith(spec.get("Prefix", "")):
        return False
    if "ObjectSizeGreaterThan" in spec and not size > spec["ObjectSizeGreaterThan"]:
        return False
    if "ObjectSizeLessThan" in spec and not size < spec["ObjectSizeLessThan"]:
        return False
    return all(tags.get(k) == v for k, v in wanted.items())


def apply_expiry(s3: Any, bucket: str, now: datetime) -> ExpiryOutcome:
    """Apply the bucket's expiration rules as S3 would have by ``now`` (timezone-aware)."""
    outcome = ExpiryOutcome()
    rules = enabled_rules(s3, bucket)
    if not rules:
        return outcome
    versioned = s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    for _ in range(MAX_PASSES):
        if not _one_pass(s3, bucket, rules, versioned, now, outcome):
            break
    return outcome


def _one_pass(
    s3: Any, bucket: str, rules: list[dict[str, Any]], versioned: bool, now: datetime, outcome: ExpiryOutcome
) -> bool:
    changed = False
    uses_tags = any(_filter_has_tags(r) for r in rules)
    for key, versions in _versions_by_key(s3, bucket):
        # Newest first; within one second (LastModified's resolution) the current version leads.
        newest_first = sorted(versions, key=lambda v: (v.last_modified, v.is_latest), reverse=True)
        for position, version in enumerate(newest_first):
            if version.is_delete_marker:
                if version.is_latest and len(newest_first) == 1 and _marker_rule(rules, key):
                    s3.delete_object(Bucket=bucket, Key=key, VersionId=version.version_id)
                    outcome.removed_versions += 1
                    changed = True
                continue
            tags = _tags(s3, bucket, version, versioned) if uses_tags else {}
            matching = [r for r in rules if rule_matches(r, key, version.size, tags)]
            days = [r["Expiration"]["Days"] for r in matching if "Days" in r.get("Expiration", {})]
            if version.is_latest:
                # The shortest of overlapping expirations wins.
                if days and now >= due(version.last_modified, min(days)):
                    s3.delete_object(Bucket=bucket, Key=key)  # versioned: a delete marker on top
                    if not versioned:
                        outcome.removed_versions += 1
                        outcome.removed_bytes += version.size
                    outcome.expired.append(key)
                    changed = True
                continue
            noncurrent = [
                r["NoncurrentVersionExpiration"]["NoncurrentDays"]
                for r in matching
                if "NoncurrentVersionExpiration" in r
            ]
            if position == 0:
                continue
            successor = newest_first[position - 1]  # it made this version noncurrent
            since = successor.last_modified
            if successor.is_delete_marker and days:
                # A marker this function put carries the real clock, not the simulated day S3 would have put
                # it: count from no earlier than that day (never removing sooner than S3 would).
                since = max(since, due(version.last_modified, min(days)))
            if noncurrent and now >= due(since, min(noncurrent)):
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version.version_id)
                outcome.removed_versions += 1
                outcome.removed_bytes += version.size
                changed = True
    return changed


def _filter_has_tags(rule: dict[str, Any]) -> bool:
    spec = rule.get("Filter", {})
    return "Tag" in spec or bool(spec.get("And", {}).get("Tags"))


def _marker_rule(rules: list[dict[str, Any]], key: str) -> bool:
    cleans = [r for r in rules if r.get("Expiration", {}).get("ExpiredObjectDeleteMarker")]
    return any(rule_matches(r, key, 0, {}) for r in cleans)


def _tags(s3: Any, bucket: str, version: _Version, versioned: bool) -> dict[str, str]:
    extra = {"VersionId": version.version_id} if versioned else {}
    tag_set = s3.get_object_tagging(Bucket=bucket, Key=version.key, **extra)["TagSet"]
    return {t["Key"]: t["Value"] for t in tag_set}


def _versions_by_key(s3: Any, bucket: str) -> Iterator[tuple[str, list[_Version]]]:
    by_key: dict[str, list[_Version]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in page.get("Versions", []):
            by_key.setdefault(item["Key"], []).append(
                _Version(
                    item["Key"],
                    item["VersionId"],
                    item["LastModified"],
                    item["Size"],
                    item["IsLatest"],
                    False,
                )
            )
        for item in page.get("DeleteMarkers", []):
            by_key.setdefault(item["Key"], []).append(
                _Version(item["Key"], item["VersionId"], item["LastModified"], 0, item["IsLatest"], True)
            )
    yield from sorted(by_key.items())


def stored_bytes(s3: Any, bucket: str, prefix: str = "") -> int:
    """Bytes the bucket stores under ``prefix``, every version counted (what S3 bills)."""
    total = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        total += sum(item["Size"] for item in page.get("Versions", []))
    return total
