"""Registers the Glue partition of every data object Firehose writes, so Athena sees a new event hour, a
new event type, a late hour or a replay within seconds of the object landing: no crawler, no
``MSCK REPAIR TABLE``, no redeploy.

S3 sends an ``Object Created`` event to EventBridge for each object (bucket notifications to EventBridge,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html); a rule matching the data prefix
invokes this function, which adds the object's partition with Glue ``BatchCreatePartition``
(https://docs.aws.amazon.com/glue/latest/webapi/API_BatchCreatePartition.html). Creating a partition that
exists fails that entry alone with ``AlreadyExistsException``, which is success here, so a replayed event, two
objects of one partition and concurrent invocations are all harmless. S3 event-notification records
(``Records[].s3``, https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)
are accepted too, with their URL-encoded keys. Anything else that fails raises, so EventBridge retries the
event and, past its retries, the rule's dead-letter queue keeps it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_contract import limits
from glue import schema
from glue.errors import error_cause
from glue.registrar_contract import ENV_DATABASE, ENV_TABLE

ALREADY_EXISTS = "AlreadyExistsException"


class RegistrationError(RuntimeError):
    """Glue refused a partition for a reason other than it existing already; ``response`` carries Glue's
    error code and message as a botocore ``ClientError`` does, so the log line names the cause alike."""

    def __init__(self, text: str, *, code: str, message: str) -> None:
        super().__init__(text)
        self.response = {"Error": {"Code": code, "Message": message}}


@dataclass(frozen=True)
class CreatedObject:
    bucket: str
    key: str


def created_objects(event: Mapping[str, Any]) -> list[CreatedObject]:
    """The objects an EventBridge ``Object Created`` event or an S3 notification names."""
    if event.get("source") == "aws.s3" and event.get("detail-type") == "Object Created":
        detail = event.get("detail") or {}
        key = (detail.get("object") or {}).get("key")
        bucket = (detail.get("bucket") or {}).get("name")
        return [CreatedObject(bucket, unquote_plus(key))] if bucket and key else []
    out = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        if str(record.get("eventName", "")).startswith("ObjectCreated:"):
            bucket, key = (s3.get("bucket") or {}).get("name"), (s3.get("object") or {}).get("key")
            if bucket and key:
                out.append(CreatedObject(bucket, unquote_plus(key)))  # notification keys are URL-encoded
    return out


@dataclass
class Registrar:
    """Adds partitions to one table; remembers (per container) which it already added or found."""

    glue: Any
    database: str
    table: str
    known: set[tuple[str, ...]] = field(default_factory=set)
    _storage: dict[str, Any] | None = None

    def register(self, objects: Iterable[CreatedObject]) -> list[tuple[str, ...]]:
        """Create the partitions of ``objects`` not known yet; return those this call added or found."""
        wanted: dict[tuple[str, ...], str] = {}
        for obj in objects:
            values = schema.partition_of_key(obj.key)
            if values is None:
                continue  # not a data object (the rule filters on the prefix; a stray key is ignored)
            ordered = tuple(values[name] for name in schema.PARTITION_KEY_NAMES)
            if ordered not in self.known:
                wanted[ordered] = f"s3://{obj.bucket}/{schema.partition_folder(values)}"
        done: list[tuple[str, ...]] = []
        items = list(wanted.items())
        step = limits.GLUE_BATCH_CREATE_PARTITION_MAX
        for start in range(0, len(items), step):
            chunk = items[start : start + step]
            response = self.glue.batch_create_partition(
                DatabaseName=self.database,
                TableName=self.table,
                PartitionInputList=[self._partition_input(values, location) for values, location in chunk],
            )
            refused = [
                e
                for e in response.get("Errors") or []
                if (e.get("ErrorDetail") or {}).get("ErrorCode") != ALREADY_EXISTS
            ]
            if refused:
                detail = refused[0].get("ErrorDetail") or {}
                raise RegistrationError(
                    f"Glue refused {len(refused)} partition(s): {refused[:3]}",
                    code=str(detail.get("ErrorCode") or "RegistrationError"),
                    message=str(detail.get("ErrorMessage") or ""),
                )
            for values, _ in chunk:
                self.known.add(values)
                done.append(values)
        return done

    def _partition_input(self, values: tuple[str, ...], location: str) -> dict[str, Any]:
        """The table's storage descriptor with the partition's own location, as Athena expects."""
        if self._storage is None:
            table = self.glue.get_table(DatabaseName=self.database, Name=self.table)["Table"]
            self._storage = table["StorageDescriptor"]
        storage = {k: v for k, v in self._storage.items() if k not in ("Location", "Columns")}
        storage["Columns"] = list(self._storage.get("Columns") or [])
        storage["Location"] = location
        return {"Values": list(values), "StorageDescriptor": storage}


_REGISTRAR: Registrar | None = None


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    global _REGISTRAR
    if _REGISTRAR is None:
        import boto3  # provided by the Lambda runtime

        _REGISTRAR = Registrar(boto3.client("glue"), os.environ[ENV_DATABASE], os.environ[ENV_TABLE])
    objects = created_objects(event)
    try:
        added = _REGISTRAR.register(objects)
    except Exception as exc:
        # Raised again, so EventBridge retries the event (and past its retries the dead-letter queue keeps
        # it); this line says why, with the event's counts.
        line = {
            "level": "ERROR",
            "message": "partition registration failed",
            **error_cause(exc),
            "retries": 0,
            "objects": len(objects),
            "keys": [o.key for o in objects[:3]],
        }
        sys.stdout.write(json.dumps(line) + "\n")
        raise
    line = {"level": "INFO", "message": "partitions registered", "partitions": ["/".join(p) for p in added]}
    sys.stdout.write(json.dumps(line) + "\n")
    return {"registered": len(added)}
