"""Athena for the stack: one workgroup whose settings override the client's (engine v3, results in the lake
bucket encrypted with the lake key, a per-query scan cutoff, CloudWatch metrics), every ``glue/sql`` query
saved in it, the unique-events view in the stack's Glue database, and the reader policy: a managed policy
granting exactly what querying through the workgroup needs. Rendered from ``infra.athena_spec``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from glue import schema
from infra import event_views_spec, iam
from infra.account import Account
from infra.athena_spec import (
    NamedQuerySpec,
    ViewSpec,
    WorkgroupSpec,
    named_queries,
    sql_dir_for,
    view_table_input,
)
from infra.catalog import Catalog
from infra.protection import data_options
from infra.settings import Settings

ConfigurationArgs = aws.athena.WorkgroupConfigurationArgs
EngineVersionArgs = aws.athena.WorkgroupConfigurationEngineVersionArgs
ResultArgs = aws.athena.WorkgroupConfigurationResultConfigurationArgs
ResultEncryptionArgs = aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs


@dataclass(frozen=True)
class AthenaAnalyticsArgs:
    workgroup: WorkgroupSpec
    queries: tuple[NamedQuerySpec, ...]
    view: ViewSpec
    data_root: str
    # The catalog's typed views (infra/event_views.py): readers may read their definitions too.
    event_views: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> AthenaAnalyticsArgs:
        return cls(
            workgroup=WorkgroupSpec.from_settings(settings),
            queries=named_queries(sql_dir_for(settings)),
            view=ViewSpec.from_settings(settings),
            data_root=schema.DATA_ROOT,
            event_views=tuple(v.name for v in event_views_spec.from_settings(settings)),
        )


class AthenaAnalytics(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: AthenaAnalyticsArgs,
        account: Account,
        *,
        bucket_name: pulumi.Input[str],
        bucket_arn: pulumi.Input[str],
        key_arn: pulumi.Input[str],
        catalog: Catalog,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:AthenaAnalytics", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.workgroup

        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            aws.athena.WorkgroupArgs(
                name=spec.name,
                description=spec.description,
                state="ENABLED",
                # Deleting the workgroup deletes its saved queries and history; only a disposable stack may.
                force_destroy=not spec.protect_data,
                configuration=ConfigurationArgs(
                    enforce_workgroup_configuration=True,
                    engine_version=EngineVersionArgs(selected_engine_version=spec.engine_version),
                    publish_cloudwatch_metrics_enabled=True,
                    bytes_scanned_cutoff_per_query=spec.bytes_scanned_cutoff,
                    result_configuration=ResultArgs(
                        output_location=pulumi.Output.from_input(bucket_name).apply(spec.output_location),
                        encryption_configuration=ResultEncryptionArgs(
                            encryption_option=spec.encryption_option, kms_key_arn=key_arn
                        ),
                    ),
                ),
            ),
            opts=data_options(spec.protect_data, self),
        )
        self.queries = [
            aws.athena.NamedQuery(
                f"{name}-query-{query.name}",
                aws.athena.NamedQueryArgs(
                    name=query.name,
                    description=query.description,
                    database=catalog.database_name,
                    workgroup=self.workgroup.name,
                    query=query.query,
                ),
                opts=child,
            )
            for query in args.queries
        ]

        view = view_table_input(args.view)
        storage = view["StorageDescriptor"]
        self.view = aws.glue.CatalogTable(
            f"{name}-view-{args.view.name}",
            aws.glue.CatalogTableArgs(
                name=view["Name"],
                database_name=catalog.database_name,
                table_type=view["TableType"],
                parameters=view["Parameters"],
                view_original_text=view["ViewOriginalText"],
                view_expanded_text=view["ViewExpandedText"],
                storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                    columns=[
                        aws.glue.CatalogTableStorageDescriptorColumnArgs(
                            name=c["Name"], type=c["Type"], comment=c["Comment"]
                        )
                        for c in storage["Columns"]
                    ]
                ),
            ),
            # The view reads the events table: create it after, delete it first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[catalog.table]),
        )

        self.analyst_policy = aws.iam.Policy(
            f"{name}-analyst-policy",
            aws.iam.PolicyArgs(
                name=spec.name,
                description=f"Query the lake through the {spec.name} Athena workgroup",
                policy=pulumi.Output.all(
                    workgroup_arn=self.workgroup.arn,
                    glue_database_arn=catalog.database.arn,
                    table_arn=catalog.table.arn,
                    view_arn=self.view.arn,
                    bucket_arn=bucket_arn,
                    key_arn=key_arn,
                ).apply(
                    lambda a: json.dumps(
                        iam.analyst_policy(
                            workgroup_arn=a["workgroup_arn"],
                            glue_catalog_arn=account.glue_catalog_arn,
                            glue_database_arn=a["glue_database_arn"],
                            glue_table_arns=[
                                a["table_arn"],
                                a["view_arn"],
                                *(sibling_arn(a["table_arn"], v) for v in args.event_views),
                            ],
                            bucket_arn=a["bucket_arn"],
                            data_root=args.data_root,
                            results_root=spec.results_root,
                            key_arn=a["key_arn"],
                            s3_host=account.service_host("s3"),
                        )
                    )
                ),
            ),
            opts=child,
        )
        self.workgroup_name: pulumi.Output[str] = self.workgroup.name
        # The stack's one reader policy (exported as reader_policy_arn): what a person or tool attaches to
        # read the lake. Its name and description stay: IAM replaces a policy whose description changes, and
        # a replaced policy would be detached from every role and user it is attached to.
        self.analyst_policy_arn: pulumi.Output[str] = self.analyst_policy.arn
        self.register_outputs(
            {
                "workgroup": self.workgroup_name,
                "view": self.view.name,
                "analyst_policy": self.analyst_policy_arn,
            }
        )


def sibling_arn(table_arn: str, name: str) -> str:
    """The ARN of another table or view of the same database (``arn:...:table/<database>/<name>``)."""
    return f"{table_arn.rsplit('/', 1)[0]}/{name}"
