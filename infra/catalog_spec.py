"""The Glue database and table as plain data, derived from settings and ``glue.schema``.

``infra/catalog.py`` renders it as pulumi-aws Args; the embedded AWS (``eventlake/simulator/embedded/aws.py``)
renders it as the boto3 ``create_database``/``create_table`` inputs. Both read the same object, so
the local catalog is the deployed one. No Pulumi here: the local runner imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from aws_contract import limits
from glue import schema
from infra.processors import processor_for
from infra.settings import Settings, reads, settings_args

# Athena uses a table's partition indexes only when the table enables partition filtering
# (https://docs.aws.amazon.com/glue/latest/dg/partition-indexes.html#partition-index-integration-engines).
PARTITION_FILTERING_PARAMETERS: dict[str, str] = {"partition_filtering.enabled": "true"}


@dataclass(frozen=True)
class GluePartitionIndex:
    """A Glue partition index: queries filtering on its leading keys fetch only matching partitions
    instead of listing the table's every partition."""

    name: str
    keys: tuple[str, ...]


# Every query filters on the event type and/or the event hour; the keys in the partition layout's order.
PARTITION_INDEXES = (GluePartitionIndex("by_type_date_hour", schema.PARTITION_KEY_NAMES),)


@dataclass(frozen=True)
class CatalogSpec:
    """Names are lower case: Glue lowercases them, and anything else shows a permanent diff."""

    database_name: str = reads("glue_database")
    database_description: str
    table_name: str
    table_type: str
    table_parameters: Mapping[str, str]
    columns: tuple[schema.Column, ...]
    partition_keys: tuple[schema.Column, ...]
    # The table's data lives under s3://<bucket>/<data_root>; the bucket is only known at deploy time.
    data_root: str
    input_format: str
    output_format: str
    serde_library: str
    serde_parameters: Mapping[str, str]
    partition_indexes: tuple[GluePartitionIndex, ...]

    def __post_init__(self) -> None:
        if len(self.partition_indexes) > limits.GLUE_PARTITION_INDEXES_MAX:
            raise ValueError(f"Glue allows at most {limits.GLUE_PARTITION_INDEXES_MAX} partition indexes")
        keys = {c.name for c in self.partition_keys}
        for index in self.partition_indexes:
            if not index.keys or not set(index.keys) <= keys:
                raise ValueError(
                    f"partition index {index.name} must use partition keys only, got {index.keys}"
                )

    @classmethod
    def from_settings(cls, settings: Settings) -> CatalogSpec:
        """The table of the stack's processor (``infra.processors``): the transform's Parquet rows, or the
        records as sent; the same name and partition layout either way."""
        table = processor_for(settings).table
        return settings_args(
            cls,
            settings,
            database_description=table.description,
            table_name=schema.TABLE_NAME.lower(),
            table_type=schema.TABLE_TYPE,
            table_parameters=MappingProxyType({**table.parameters, **PARTITION_FILTERING_PARAMETERS}),
            columns=_lower_case(table.columns),
            partition_keys=_lower_case(schema.PARTITION_KEYS),
            data_root=schema.DATA_ROOT,
            input_format=table.input_format,
            output_format=table.output_format,
            serde_library=table.serde_library,
            serde_parameters=MappingProxyType(dict(schema.SERDE_PARAMETERS)),
            partition_indexes=PARTITION_INDEXES,
        )

    def location(self, bucket: str) -> str:
        """The table's ``StorageDescriptor.Location`` in ``bucket``."""
        return f"s3://{bucket}/{self.data_root}"


def _lower_case(columns: tuple[schema.Column, ...]) -> tuple[schema.Column, ...]:
    return tuple(schema.Column(c.name.lower(), c.type, c.comment) for c in columns)
