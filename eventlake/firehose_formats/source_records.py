"""A Kinesis record as Firehose holds it, and the user records a KPL aggregate holds. Read by the Firehose
model (``simulator.firehose.kinesis_source``, where the choices AWS leaves open are written down) and by
``reprocess``/``replay``, which cut the raw backup's Kinesis records into the user records Firehose
delivered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_contract import kpl_aggregation


@dataclass(frozen=True, slots=True)  # a production hour holds a million
class SourceRecord:
    """One Kinesis record as Firehose holds it."""

    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    arrival_ms: int
    # A user record's place in its KPL aggregate (0, 1, ...); 0 for a record put on its own.
    subsequence_number: int = 0
    # The Kinesis record's bytes as put, when this user record came out of an aggregate (the raw backup's).
    put_data: bytes | None = None

    @property
    def lineage(self) -> tuple[str, str, int]:
        """The user record: its Kinesis record (shard, sequence number) and its place in it."""
        return self.shard_id, self.sequence_number, self.subsequence_number

    @property
    def as_put(self) -> bytes | None:
        """The Kinesis record's bytes as put, on the first user record read from it (None on the others):
        what the raw backup keeps, once per Kinesis record."""
        if self.subsequence_number:
            return None
        return self.data if self.put_data is None else self.put_data


def deaggregated(shard: str, record: dict[str, Any]) -> list[SourceRecord]:
    """One GetRecords record as Firehose holds it: its user records when it is a KPL aggregate (each with the
    aggregate's sequence number and its own subsequence number), else itself."""
    data = bytes(record["Data"])
    sequence = str(record["SequenceNumber"])
    arrival_ms = int(record["ApproximateArrivalTimestamp"].timestamp() * 1000)
    users = kpl_aggregation.deaggregate(data)
    if users is None:
        return [SourceRecord(shard, sequence, record["PartitionKey"], data, arrival_ms)]
    return [
        SourceRecord(
            shard, sequence, user.partition_key, user.data, arrival_ms, subsequence_number=i, put_data=data
        )
        for i, user in enumerate(users)
    ]
