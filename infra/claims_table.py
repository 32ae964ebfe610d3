"""The DynamoDB claims table behind cross-batch de-duplication (first writer of an event_uuid wins).

Key and TTL attribute names come from the Lambda's ``claims`` module, so table and writer agree.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.settings import Settings
from transform_lambda.claims import EXPIRES_ATTRIBUTE, KEY_ATTRIBUTE


class ClaimsTable(pulumi.ComponentResource):
    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("eventlake:index:ClaimsTable", name, None, opts)
        self.table = aws.dynamodb.Table(
            name,
            aws.dynamodb.TableArgs(
                name=settings.claims_table_name,
                # pulumi-aws defaults to PROVISIONED; claims follow the stream's bursts.
                billing_mode="PAY_PER_REQUEST",
                hash_key=KEY_ATTRIBUTE,
                attributes=[aws.dynamodb.TableAttributeArgs(name=KEY_ATTRIBUTE, type="S")],
                # TTL deletion is lazy; the Lambda checks the expiry itself, TTL only bounds the size.
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=EXPIRES_ATTRIBUTE, enabled=True),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name: pulumi.Output[str] = self.table.name
        self.arn: pulumi.Output[str] = self.table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
