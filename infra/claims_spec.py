"""The DynamoDB claims table as plain data, derived from settings and the Lambda's ``claims`` module.

``infra/claims_table.py`` renders it as pulumi-aws Args; the embedded AWS (``eventlake/embedded/aws.py``)
renders it as the boto3 ``create_table``/``update_time_to_live`` inputs. Key and TTL attribute names
are the ones the Lambda writes. No Pulumi here: the local runner imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings
from transform_lambda.claims import EXPIRES_ATTRIBUTE, KEY_ATTRIBUTE

SSE_TYPE = "KMS"  # encrypted with the lake's own key, not DynamoDB's AWS-owned one


@dataclass(frozen=True)
class ClaimsTableSpec:
    table_name: str
    hash_key: str
    hash_key_type: str
    billing_mode: str
    # TTL deletion is lazy; the Lambda checks the expiry itself, TTL only bounds the size.
    ttl_attribute: str
    point_in_time_recovery: bool
    # Like the bucket and the key: with protectData neither a destroy nor a replacement deletes it.
    deletion_protection: bool
    sse_type: str = SSE_TYPE

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaimsTableSpec:
        return cls(
            table_name=settings.claims_table_name,
            hash_key=KEY_ATTRIBUTE,
            hash_key_type="S",
            # pulumi-aws defaults to PROVISIONED; claims follow the stream's bursts.
            billing_mode="PAY_PER_REQUEST",
            ttl_attribute=EXPIRES_ATTRIBUTE,
            point_in_time_recovery=settings.dedupe_point_in_time_recovery,
            deletion_protection=settings.protect_data,
        )
