"""The DynamoDB claims table behind cross-batch de-duplication (first writer of an event_uuid wins).

Rendered from ``ClaimsTableSpec``, whose key and TTL attribute names come from the Lambda's ``claims``
module, so table and writer agree; the embedded AWS creates its table from the same spec. A PROVISIONED
table gets one Application Auto Scaling target and target-tracking policy per capacity (reads, writes).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pulumi_aws.appautoscaling import PolicyTargetTrackingScalingPolicyConfigurationArgs as TrackingArgs
from pulumi_aws.appautoscaling import (
    PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs as MetricArgs,
)

from infra.claims_spec import POLICY_TYPE, SERVICE_NAMESPACE, ClaimsCapacity, ClaimsTableSpec
from infra.protection import data_options

# What auto scaling changes on the table: a `pulumi up` must not set it back to the minimum.
AUTOSCALED_PROPERTIES = ["read_capacity", "write_capacity"]


class ClaimsTable(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: ClaimsTableSpec,
        key_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:ClaimsTable", name, None, opts)
        capacity = spec.capacity
        table_opts = data_options(spec.deletion_protection, self)
        if capacity is not None:
            table_opts = pulumi.ResourceOptions.merge(
                table_opts, pulumi.ResourceOptions(ignore_changes=AUTOSCALED_PROPERTIES)
            )
        self.table = aws.dynamodb.Table(
            name,
            aws.dynamodb.TableArgs(
                name=spec.table_name,
                billing_mode=spec.billing_mode,
                # Where a new table starts; auto scaling moves it between the bounds from then on.
                read_capacity=capacity.reads.min_units if capacity else None,
                write_capacity=capacity.writes.min_units if capacity else None,
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
            opts=table_opts,
        )
        self.name: pulumi.Output[str] = self.table.name
        self.arn: pulumi.Output[str] = self.table.arn
        self.scaling_policies = self._auto_scaling(name, capacity) if capacity else []
        self.register_outputs({"name": self.name, "arn": self.arn})

    def _auto_scaling(self, name: str, capacity: ClaimsCapacity) -> list[aws.appautoscaling.Policy]:
        """Target tracking of each capacity's utilization. Application Auto Scaling acts through its
        service-linked role for DynamoDB, which it creates at the first registration: no role here."""
        resource_id = self.table.name.apply(lambda table: f"table/{table}")
        policies = []
        for dimension in capacity.dimensions:
            target = aws.appautoscaling.Target(
                f"{name}-{dimension.name}-target",
                aws.appautoscaling.TargetArgs(
                    service_namespace=SERVICE_NAMESPACE,
                    resource_id=resource_id,
                    scalable_dimension=dimension.scalable_dimension,
                    min_capacity=dimension.min_units,
                    max_capacity=dimension.max_units,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            policies.append(
                aws.appautoscaling.Policy(
                    f"{name}-{dimension.name}-policy",
                    aws.appautoscaling.PolicyArgs(
                        name=resource_id.apply(lambda rid, m=dimension.predefined_metric: f"{m}:{rid}"),
                        policy_type=POLICY_TYPE,
                        service_namespace=target.service_namespace,
                        resource_id=target.resource_id,
                        scalable_dimension=target.scalable_dimension,
                        target_tracking_scaling_policy_configuration=TrackingArgs(
                            target_value=capacity.target_utilization_percent,
                            predefined_metric_specification=MetricArgs(
                                predefined_metric_type=dimension.predefined_metric
                            ),
                        ),
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return policies
