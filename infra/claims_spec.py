"""The DynamoDB claims table as plain data, derived from settings and the Lambda's ``claims`` module.

``infra/claims_table.py`` renders it as pulumi-aws Args; the embedded AWS
(``eventlake/simulator/embedded/aws.py``) renders it as the boto3 ``create_table``/``update_time_to_live``
inputs. Key and TTL attribute names are the ones the Lambda writes. No Pulumi here: the local runner imports
this module.

With ``claimsBillingMode: PROVISIONED`` the table's read and write capacity follow the load through
Application Auto Scaling (target tracking), between bounds derived from the load the stack declares
(``ClaimsCapacity``); ``eventlake sizing`` prices the same bounds (``infra/capacity/``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aws_contract import limits
from glue.claim_items import EXPIRES_ATTRIBUTE, KEY_ATTRIBUTE
from infra.settings import SECONDS_PER_HOUR, Settings, reads, settings_args

SSE_TYPE = "KMS"  # encrypted with the lake's own key, not DynamoDB's AWS-owned one
PAY_PER_REQUEST = "PAY_PER_REQUEST"
PROVISIONED = "PROVISIONED"
# Every claim is one PartiQL INSERT of an item under 1 KB: one write unit, won or lost (the dedupe bench
# measured 0.986 per record).
CLAIM_WRITE_UNITS_PER_EVENT = 1.0
# The share of events that are re-sends (a loser is read back: one strongly consistent read of an item under
# 4 KB, one read unit). The sizing model's default load has the same share.
DUPLICATE_SHARE = 0.02
# Target tracking keeps consumed / provisioned capacity near this percentage (AWS's console default): the
# 30 % above use absorbs a load's rise for the minutes target tracking takes to scale out.
TARGET_UTILIZATION_PERCENT = 70
# The maximum is this many times what the declared load needs at the target: a day's peaks, and the
# catch-up after a stall (Firehose then reads the stream's backlog faster than it arrives). A retried or
# redelivered batch reads back as many claims as it wrote, so reads get the writes' maximum.
MAX_HEADROOM = 4
# DynamoDB's default table quota is the same provisioned as on demand: 40,000 read and 40,000 write units a
# table (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html); 1 at least.
TABLE_MAX_UNITS = limits.ON_DEMAND_TABLE_MAX_WRITES_PER_S
MIN_UNITS = 1
# No declared load (expectedEventsPerHour 0): small, safe bounds (at most ~$60 a month of capacity at
# us-east-1 prices) rather than a guess; declare the load to size the table.
UNDECLARED_BOUNDS = (5, 100)
# Application Auto Scaling's names for a DynamoDB table's dimensions and their utilization metrics
# (https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-dynamodb.html).
SERVICE_NAMESPACE = "dynamodb"
POLICY_TYPE = "TargetTrackingScaling"


@dataclass(frozen=True)
class ScaledDimension:
    """One of the table's capacities (reads or writes) and the bounds auto scaling keeps it within."""

    name: str  # "reads" or "writes"
    scalable_dimension: str
    predefined_metric: str
    min_units: int
    max_units: int


@dataclass(frozen=True)
class ClaimsCapacity:
    """A provisioned claims table's bounds: the minimum carries the declared load at the target utilization
    (scaling in never starves it), the maximum leaves ``MAX_HEADROOM`` times that."""

    writes: ScaledDimension
    reads: ScaledDimension
    target_utilization_percent: int = TARGET_UTILIZATION_PERCENT
    declared: bool = True  # False: no load declared, UNDECLARED_BOUNDS

    @property
    def dimensions(self) -> tuple[ScaledDimension, ScaledDimension]:
        return (self.writes, self.reads)

    @classmethod
    def for_load(cls, events_per_second: float, duplicate_share: float = DUPLICATE_SHARE) -> ClaimsCapacity:
        """The bounds for a steady load; ``events_per_second`` 0 means none declared."""
        if events_per_second <= 0:
            low, high = UNDECLARED_BOUNDS
            return cls(_writes(low, high), _reads(low, high), declared=False)
        writes = _units(events_per_second * CLAIM_WRITE_UNITS_PER_EVENT)
        reads = _units(events_per_second * duplicate_share)
        most = min(TABLE_MAX_UNITS, writes * MAX_HEADROOM)
        return cls(_writes(writes, max(writes, most)), _reads(reads, max(reads, most)))

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimsCapacity:
        """The bounds for the load the stack declares (``expectedEventsPerHour``)."""
        return cls.for_load(settings.expected_events_per_hour / SECONDS_PER_HOUR)


def _units(per_second: float) -> int:
    """Capacity units that carry ``per_second`` at the target utilization, within the table's range."""
    needed = math.ceil(per_second * 100 / TARGET_UTILIZATION_PERCENT - 1e-9)
    return min(TABLE_MAX_UNITS, max(MIN_UNITS, needed))


def _writes(low: int, high: int) -> ScaledDimension:
    return ScaledDimension(
        "writes", "dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization", low, high
    )


def _reads(low: int, high: int) -> ScaledDimension:
    return ScaledDimension(
        "reads", "dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization", low, high
    )


@dataclass(frozen=True)
class ClaimsTableSpec:
    table_name: str = reads("claims_table_name")
    hash_key: str
    hash_key_type: str
    billing_mode: str = reads("claims_billing_mode")
    # TTL deletion is lazy; the Lambda checks the expiry itself, TTL only bounds the size.
    ttl_attribute: str
    point_in_time_recovery: bool = reads("dedupe_point_in_time_recovery")
    # Like the bucket and the key: with protectData neither a destroy nor a replacement deletes it.
    deletion_protection: bool = reads("protect_data")
    # PROVISIONED only: the auto-scaled capacity (the table starts at each minimum).
    capacity: ClaimsCapacity | None = None
    sse_type: str = SSE_TYPE

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimsTableSpec:
        # pulumi-aws defaults to PROVISIONED; on demand unless the stack asks: claims follow the stream's
        # bursts, and a provisioned table pays for its capacity whether used or not.
        provisioned = settings.claims_billing_mode == PROVISIONED
        return settings_args(
            cls,
            settings,
            hash_key=KEY_ATTRIBUTE,
            hash_key_type="S",
            ttl_attribute=EXPIRES_ATTRIBUTE,
            capacity=ClaimsCapacity.from_settings(settings) if provisioned else None,
        )
