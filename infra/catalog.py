"""The Glue database and table: Firehose reads it to write Parquet, Athena to query it.

Columns and partition keys come from ``glue.schema``, the same definition the Lambda writes by.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from glue import schema
from glue.schema import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE
from infra.settings import Settings


class Catalog(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        bucket_name: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:Catalog", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Glue lowercases names; anything else shows a permanent diff.
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            aws.glue.CatalogDatabaseArgs(
                name=settings.glue_database, description="Event lake (Firehose-written Parquet)"
            ),
            opts=child,
        )
        location = pulumi.Output.concat("s3://", bucket_name, "/", schema.DATA_ROOT)
        self.table = aws.glue.CatalogTable(
            f"{name}-table",
            aws.glue.CatalogTableArgs(
                name=schema.TABLE_NAME.lower(),
                database_name=self.database.name,
                table_type=schema.TABLE_TYPE,
                parameters=dict(schema.TABLE_PARAMETERS),
                partition_keys=[
                    aws.glue.CatalogTablePartitionKeyArgs(name=c.name.lower(), type=c.type, comment=c.comment)
                    for c in schema.PARTITION_KEYS
                ],
                storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                    location=location,
                    input_format=PARQUET_INPUT_FORMAT,
                    output_format=PARQUET_OUTPUT_FORMAT,
                    ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                        serialization_library=PARQUET_SERDE, parameters=dict(schema.SERDE_PARAMETERS)
                    ),
                    columns=[
                        aws.glue.CatalogTableStorageDescriptorColumnArgs(
                            name=c.name.lower(), type=c.type, comment=c.comment
                        )
                        for c in schema.COLUMNS
                    ],
                ),
            ),
            opts=child,
        )
        self.database_name: pulumi.Output[str] = self.database.name
        self.table_name: pulumi.Output[str] = self.table.name
        self.register_outputs({"database": self.database_name, "table": self.table_name})
