"""The DynamoDB claims table behind cross-batch de-duplication (first writer of an event_uuid wins).

Rendered from ``ClaimsTableSpec``, whose key and TTL attribute names come from the Lambda's ``claims``
module, so table and writer agree; the embedded AWS creates its table from the same spec.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.claims_spec import ClaimsTableSpec
from infra.protection import data_options


class ClaimsTable(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: ClaimsTableSpec,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:ClaimsTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            name,
            aws.dynamodb.TableArgs(
                name=spec.table_name,
                billing_mode=spec.billing_mode,
                hash_key=spec.hash_key,
                attributes=[aws.dynamodb.TableAttributeArgs(name=spec.hash_key, type=spec.hash_key_type)],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=key_arn
                ),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled=spec.point_in_time_recovery
                ),
                deletion_protection_enabled=spec.deletion_protection,
            ),
            opts=data_options(spec.deletion_protection, self),
        )
        self.name: pulumi.Output[str] = self.table.name
        self.arn: pulumi.Output[str] = self.table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
