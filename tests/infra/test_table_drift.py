"""The Glue catalog and the claims table are rendered twice, each from one spec: as pulumi-aws Args by
``infra/catalog.py`` and ``infra/claims_table.py`` (seen here as the camelCase inputs the mocks record)
and as boto3 requests by ``eventlake.simulator.embedded.aws`` (``catalog_database_input``,
``catalog_table_request``, ``claims_table_request``, ``claims_ttl_request``), which the local runner
creates its catalog and claims table with. They must agree field by field.

As in ``test_config_drift.py``: the ``pulumi_*_as_api`` translations take each Pulumi input once and
fail on one they do not know, and the whole request dicts are compared, so a field added to, dropped
from or changed in either rendering alone fails here.

The table's partition indexes are separate ``glue.PartitionIndex`` resources in the program and
``create_table``'s ``PartitionIndexes`` locally (the same indexes on the same table); each index's own
database and table names are compared too (``index_targets``).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Deployment
from drift_compare import Fields, canonical, changed, leaves

from eventlake.simulator.embedded.aws import (
    catalog_database_input,
    catalog_table_request,
    claims_backups_request,
    claims_table_request,
    claims_ttl_request,
)
from infra.catalog_spec import CatalogSpec
from infra.claims_spec import ClaimsTableSpec

DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
TABLE = "aws:glue/catalogTable:CatalogTable"
TABLE_NAME_PART = "catalog-table"  # the events table (the Athena view is a catalog table too)
INDEX = "aws:glue/partitionIndex:PartitionIndex"
CLAIMS = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"


# --- Glue -------------------------------------------------------------------------------------


def glue_columns(where: str, inputs: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for i, column_inputs in enumerate(inputs):
        column = Fields(f"{where}[{i}]", column_inputs)
        out.append(
            {"Name": column.take("name"), "Type": column.take("type"), "Comment": column.take("comment")}
        )
        column.done()
    return out


def pulumi_catalog_as_api(
    database_inputs: dict[str, Any], table_inputs: dict[str, Any], index_inputs: list[dict[str, Any]]
) -> dict[str, Any]:
    """``CatalogDatabase``, ``CatalogTable`` and ``PartitionIndex`` inputs as ``create_database``/
    ``create_table`` arguments (and the table each index names)."""
    partition_indexes, index_targets = [], []
    for i, inputs in enumerate(index_inputs):
        index = Fields(f"PartitionIndex[{i}]", inputs)
        spec = Fields(f"PartitionIndex[{i}].partitionIndex", index.take("partitionIndex"))
        partition_indexes.append({"IndexName": spec.take("indexName"), "Keys": spec.take("keys")})
        index_targets.append(
            {"DatabaseName": index.take("databaseName"), "TableName": index.take("tableName")}
        )
        spec.done()
        index.done()

    database = Fields("CatalogDatabase", database_inputs)
    database_input = {"Name": database.take("name"), "Description": database.take("description")}
    database.done()

    table = Fields("CatalogTable", table_inputs)
    storage = Fields("storageDescriptor", table.take("storageDescriptor"))
    serde = Fields("serDeInfo", storage.take("serDeInfo"))
    table_request = {
        "DatabaseName": table.take("databaseName"),
        "PartitionIndexes": partition_indexes,
        "TableInput": {
            "Name": table.take("name"),
            "TableType": table.take("tableType"),
            "Parameters": table.take("parameters"),
            "PartitionKeys": glue_columns("partitionKeys", table.take("partitionKeys")),
            "StorageDescriptor": {
                "Columns": glue_columns("columns", storage.take("columns")),
                "Location": storage.take("location"),
                "InputFormat": storage.take("inputFormat"),
                "OutputFormat": storage.take("outputFormat"),
                "SerdeInfo": {
                    "SerializationLibrary": serde.take("serializationLibrary"),
                    "Parameters": serde.take("parameters"),
                },
            },
        },
    }
    for part in (serde, storage, table):
        part.done()
    return {
        "create_database": {"DatabaseInput": database_input},
        "create_table": table_request,
        "index_targets": index_targets,
    }


def embedded_catalog(spec: CatalogSpec, bucket: str) -> dict[str, Any]:
    request = catalog_table_request(spec, bucket)
    target = {"DatabaseName": request["DatabaseName"], "TableName": request["TableInput"]["Name"]}
    return {
        "create_database": {"DatabaseInput": catalog_database_input(spec)},
        "create_table": request,
        "index_targets": [target for _ in request["PartitionIndexes"]],
    }


def index_inputs(d: Deployment) -> list[dict[str, Any]]:
    return [r.inputs for r in d.all(INDEX)]


def catalog_renderings(d: Deployment) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Pulumi inputs as the API requests, the embedded AWS's requests), for the same stack."""
    deployed = pulumi_catalog_as_api(
        d.one(DATABASE).inputs, d.one(TABLE, TABLE_NAME_PART).inputs, index_inputs(d)
    )
    local = embedded_catalog(CatalogSpec.from_settings(d.settings), d.one(BUCKET, "-lake").state["bucket"])
    return deployed, local


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pulumi_and_the_embedded_aws_create_the_same_glue_catalog(
    stack: str, request: pytest.FixtureRequest
) -> None:
    d: Deployment = request.getfixturevalue(stack)
    deployed, local = catalog_renderings(d)
    assert canonical(deployed) == canonical(local)
    # Everything that matters is present, so the equality above covers it (a sample of the leaves).
    table = local["create_table"]
    assert table["DatabaseName"] == d.settings.glue_database
    assert table["TableInput"]["StorageDescriptor"]["Location"].startswith(
        f"s3://{d.outputs['bucket_name']}/"
    )
    assert len(table["TableInput"]["StorageDescriptor"]["Columns"]) >= 10
    assert local["create_database"]["DatabaseInput"]["Description"]
    assert table["PartitionIndexes"] == [
        {"IndexName": "by_type_date_hour", "Keys": ["event_type", "event_date", "event_hour"]}
    ]
    assert table["TableInput"]["Parameters"]["partition_filtering.enabled"] == "true"


def test_a_change_to_either_glue_rendering_alone_is_caught(dev: Deployment) -> None:
    database_inputs, table_inputs = dev.one(DATABASE).inputs, dev.one(TABLE, TABLE_NAME_PART).inputs
    indexes = index_inputs(dev)
    assert len(indexes) == 1
    deployed, local = catalog_renderings(dev)
    local_paths = list(leaves(local))
    assert len(local_paths) >= 50
    for path in local_paths:
        assert canonical(deployed) != canonical(changed(local, path)), path
    for path in leaves(database_inputs):
        assert canonical(
            pulumi_catalog_as_api(changed(database_inputs, path), table_inputs, indexes)
        ) != canonical(local), path
    for path in leaves(table_inputs):
        assert canonical(
            pulumi_catalog_as_api(database_inputs, changed(table_inputs, path), indexes)
        ) != canonical(local), path
    for path in leaves(indexes):
        assert canonical(
            pulumi_catalog_as_api(database_inputs, table_inputs, changed(indexes, path))
        ) != canonical(local), path
    # A field only one side sets fails too, and so does an index only one side creates.
    with pytest.raises(AssertionError, match="unknown to this comparison"):
        pulumi_catalog_as_api(database_inputs, {**table_inputs, "newSetting": 1}, indexes)
    with pytest.raises(AssertionError, match="unknown to this comparison"):
        pulumi_catalog_as_api({**database_inputs, "newSetting": 1}, table_inputs, indexes)
    with pytest.raises(AssertionError, match="unknown to this comparison"):
        pulumi_catalog_as_api(database_inputs, table_inputs, [{**indexes[0], "newSetting": 1}])
    assert canonical(pulumi_catalog_as_api(database_inputs, table_inputs, [])) != canonical(local)
    assert canonical(pulumi_catalog_as_api(database_inputs, table_inputs, indexes * 2)) != canonical(local)
    table_input = local["create_table"]["TableInput"]
    assert canonical(deployed) != canonical(
        {**local, "create_table": {**local["create_table"], "TableInput": {**table_input, "NewSetting": 1}}}
    )


# --- claims table -----------------------------------------------------------------------------


def pulumi_claims_as_api(inputs: dict[str, Any]) -> dict[str, Any]:
    """The ``dynamodb.Table`` inputs as ``create_table`` and ``update_time_to_live`` arguments."""
    table = Fields("Table", inputs)
    name = table.take("name")
    attributes = []
    for i, attribute_inputs in enumerate(table.take("attributes")):
        attribute = Fields(f"attributes[{i}]", attribute_inputs)
        attributes.append({"AttributeName": attribute.take("name"), "AttributeType": attribute.take("type")})
        attribute.done()
    ttl = Fields("ttl", table.take("ttl"))
    sse = Fields("serverSideEncryption", table.take("serverSideEncryption"))
    recovery = Fields("pointInTimeRecovery", table.take("pointInTimeRecovery"))
    out = {
        "create_table": {
            "TableName": name,
            "KeySchema": [{"AttributeName": table.take("hashKey"), "KeyType": "HASH"}],
            "AttributeDefinitions": attributes,
            "BillingMode": table.take("billingMode"),
            # pulumi-aws's server_side_encryption with a key is DynamoDB's SSEType KMS.
            "SSESpecification": {
                "Enabled": sse.take("enabled"),
                "SSEType": "KMS",
                "KMSMasterKeyId": sse.take("kmsKeyArn"),
            },
            "DeletionProtectionEnabled": table.take("deletionProtectionEnabled"),
        },
        "update_continuous_backups": {
            "TableName": name,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": recovery.take("enabled")},
        },
        "update_time_to_live": {
            "TableName": name,
            "TimeToLiveSpecification": {
                "Enabled": ttl.take("enabled"),
                "AttributeName": ttl.take("attributeName"),
            },
        },
    }
    if "readCapacity" in table.left or "writeCapacity" in table.left:  # PROVISIONED: the starting capacity
        out["create_table"]["ProvisionedThroughput"] = {
            # Pulumi's wire form carries numbers as doubles; DynamoDB's are whole units.
            "ReadCapacityUnits": int(table.take("readCapacity")),
            "WriteCapacityUnits": int(table.take("writeCapacity")),
        }
    ttl.done()
    sse.done()
    recovery.done()
    table.done()
    return out


def embedded_claims(spec: ClaimsTableSpec, key_arn: str) -> dict[str, Any]:
    return {
        "create_table": claims_table_request(spec, key_arn),
        "update_continuous_backups": claims_backups_request(spec),
        "update_time_to_live": claims_ttl_request(spec),
    }


def lake_key(d: Deployment) -> str:
    return d.one("aws:kms/key:Key").state["arn"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pulumi_and_the_embedded_aws_create_the_same_claims_table(
    stack: str, request: pytest.FixtureRequest
) -> None:
    d: Deployment = request.getfixturevalue(stack)
    deployed = pulumi_claims_as_api(d.one(CLAIMS).inputs)
    local = embedded_claims(ClaimsTableSpec.from_settings(d.settings), lake_key(d))
    assert canonical(deployed) == canonical(local)
    assert local["create_table"]["TableName"] == d.settings.claims_table_name
    assert local["update_time_to_live"]["TimeToLiveSpecification"]["Enabled"] is True


def test_a_change_to_either_claims_rendering_alone_is_caught(dev: Deployment) -> None:
    inputs = dev.one(CLAIMS).inputs
    deployed = pulumi_claims_as_api(inputs)
    local = embedded_claims(ClaimsTableSpec.from_settings(dev.settings), lake_key(dev))
    local_paths = list(leaves(local))
    assert len(local_paths) >= 8
    for path in local_paths:
        assert canonical(deployed) != canonical(changed(local, path)), path
    for path in leaves(inputs):
        assert canonical(pulumi_claims_as_api(changed(inputs, path))) != canonical(local), path
    # A field only one side sets fails too.
    with pytest.raises(AssertionError, match="unknown to this comparison"):
        pulumi_claims_as_api({**inputs, "newSetting": 1})
    assert canonical(deployed) != canonical(
        {**local, "create_table": {**local["create_table"], "NewSetting": 1}}
    )
