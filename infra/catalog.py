"""The Glue database and table: Firehose reads it to write Parquet, Athena to query it.

Everything comes from ``CatalogSpec`` (columns and partition keys from ``glue.schema``, the same
definition the Lambda writes by), the plain data the embedded AWS creates its catalog from too.

The table's partition indexes are separate ``glue.PartitionIndex`` resources rather than the table's
``partition_indexes`` argument: that argument replaces the table when it changes (the provider marks it
ForceNew), and replacing the table would drop every registered partition and pull the schema from under
Firehose. An index added to an existing table is built from its partitions in place
(https://docs.aws.amazon.com/glue/latest/dg/partition-indexes.html).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from glue import schema
from glue.schema import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE
from infra.catalog_spec import CatalogSpec

__all__ = ["PARQUET_INPUT_FORMAT", "PARQUET_OUTPUT_FORMAT", "PARQUET_SERDE", "Catalog", "CatalogSpec"]


def table_args(
    spec: CatalogSpec,
    *,
    name: str,
    database_name: pulumi.Input[str],
    bucket_name: pulumi.Input[str],
    description: str | None = None,
) -> aws.glue.CatalogTableArgs:
    """A table of the lake's columns, partition keys and Parquet storage (``spec``) under ``name``: the events
    table, and the compactor's source table over the same objects."""
    return aws.glue.CatalogTableArgs(
        name=name,
        database_name=database_name,
        description=description,
        table_type=spec.table_type,
        parameters=dict(spec.table_parameters),
        partition_keys=[
            aws.glue.CatalogTablePartitionKeyArgs(name=c.name, type=c.type, comment=c.comment)
            for c in spec.partition_keys
        ],
        storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
            location=pulumi.Output.from_input(bucket_name).apply(spec.location),
            input_format=spec.input_format,
            output_format=spec.output_format,
            ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                serialization_library=spec.serde_library, parameters=dict(spec.serde_parameters)
            ),
            columns=[_column(c) for c in spec.columns],
        ),
    )


class Catalog(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        spec: CatalogSpec,
        bucket_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:Catalog", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            aws.glue.CatalogDatabaseArgs(name=spec.database_name, description=spec.database_description),
            opts=child,
        )
        self.table = aws.glue.CatalogTable(
            f"{name}-table",
            table_args(spec, name=spec.table_name, database_name=self.database.name, bucket_name=bucket_name),
            opts=child,
        )
        self.partition_indexes = [
            aws.glue.PartitionIndex(
                f"{name}-index-{index.name}",
                aws.glue.PartitionIndexArgs(
                    database_name=self.database.name,
                    table_name=self.table.name,
                    partition_index=aws.glue.PartitionIndexPartitionIndexArgs(
                        index_name=index.name, keys=list(index.keys)
                    ),
                ),
                opts=child,
            )
            for index in spec.partition_indexes
        ]
        self.database_name: pulumi.Output[str] = self.database.name
        self.table_name: pulumi.Output[str] = self.table.name
        self.register_outputs({"database": self.database_name, "table": self.table_name})


def _column(column: schema.Column) -> aws.glue.CatalogTableStorageDescriptorColumnArgs:
    return aws.glue.CatalogTableStorageDescriptorColumnArgs(
        name=column.name, type=column.type, comment=column.comment
    )
