"""The bench's DynamoDB double answers as DynamoDB does (botocore parses it); the first writer wins."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from aws_contract import limits
from benchmarks.dynamodb_double import DynamoDouble

INSERT = "INSERT INTO \"t\" VALUE {'k': ?, 'v': ?}"


@pytest.fixture
def double() -> DynamoDouble:
    return DynamoDouble({"t": ("k",)}, latency_s=0)


@pytest.fixture
def client(double: DynamoDouble) -> Any:
    return double.client()


def _put(client: Any, key: str, value: str, **extra: Any) -> dict[str, Any]:
    return client.put_item(
        TableName="t",
        Item={"k": {"S": key}, "v": {"S": value}},
        ConditionExpression="attribute_not_exists(#k)",
        ExpressionAttributeNames={"#k": "k"},
        **extra,
    )


def test_conditional_put_lets_the_first_writer_win_and_names_it(double: DynamoDouble, client: Any) -> None:
    assert _put(client, "a", "first")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as failed:
        _put(client, "a", "second", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed.value.response["Item"] == {"k": {"S": "a"}, "v": {"S": "first"}}
    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as failed:
        _put(client, "a", "third")
    assert "Item" not in failed.value.response
    assert client.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["v"] == {"S": "first"}
    assert "Item" not in client.get_item(TableName="t", Key={"k": {"S": "b"}})
    # Every write request costs a write unit, failed conditional ones too; reads cost none here.
    assert double.requests == {"PutItem": 3, "GetItem": 2}
    assert double.write_units == 3


def test_partiql_insert_fails_only_the_statements_on_existing_keys(double: DynamoDouble, client: Any) -> None:
    _put(client, "a", "first")
    response = client.batch_execute_statement(
        Statements=[
            {"Statement": INSERT, "Parameters": [{"S": key}, {"S": "batch"}]} for key in ("a", "b", "b", "c")
        ]
    )
    assert [r.get("Error", {}).get("Code") for r in response["Responses"]] == [
        "DuplicateItem",
        None,
        "DuplicateItem",
        None,
    ]
    assert response["Responses"][1] == {"TableName": "t"}
    assert response["Responses"][0]["Error"]["Message"] == "Duplicate primary key exists in table"
    read = client.batch_get_item(
        RequestItems={"t": {"Keys": [{"k": {"S": k}} for k in ("a", "b", "z")], "ConsistentRead": True}}
    )
    assert sorted((i["k"]["S"], i["v"]["S"]) for i in read["Responses"]["t"]) == [
        ("a", "first"),
        ("b", "batch"),
    ]
    assert read["UnprocessedKeys"] == {}
    assert double.write_units == 1 + 4  # one per INSERT statement, won or not


def test_batches_over_the_aws_limits_are_refused(double: DynamoDouble) -> None:
    too_many = limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS + 1
    statements = [{"Statement": INSERT, "Parameters": [{"S": str(i)}, {"S": "v"}]} for i in range(too_many)]
    with pytest.raises(ClientError, match="ValidationException"):
        double.client().batch_execute_statement(Statements=statements)
    keys = [{"k": {"S": str(i)}} for i in range(limits.BATCH_GET_ITEM_MAX_KEYS + 1)]
    with pytest.raises(ClientError, match="ValidationException"):
        double.client().batch_get_item(RequestItems={"t": {"Keys": keys}})
    assert double.items["t"] == {}


def test_update_sets_attributes_and_delete_removes_the_item(client: Any) -> None:
    _put(client, "a", "first")
    client.update_item(
        TableName="t",
        Key={"k": {"S": "a"}},
        UpdateExpression="SET #s = :s, v = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "COMPLETED"}, ":v": {"S": "updated"}},
    )
    item = client.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]
    assert item == {"k": {"S": "a"}, "v": {"S": "updated"}, "status": {"S": "COMPLETED"}}
    with pytest.raises(ClientError, match="ValidationException"):
        client.update_item(TableName="t", Key={"k": {"S": "a"}}, UpdateExpression="REMOVE v")
    client.delete_item(TableName="t", Key={"k": {"S": "a"}})
    assert "Item" not in client.get_item(TableName="t", Key={"k": {"S": "a"}})


def test_unknown_tables_and_statements_are_errors_not_guesses(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_item(TableName="other", Key={"k": {"S": "a"}})
    response = client.batch_execute_statement(
        Statements=[
            {"Statement": 'UPDATE "t" SET v = ? WHERE k = ?', "Parameters": [{"S": "x"}, {"S": "a"}]},
            {"Statement": INSERT.replace('"t"', '"other"'), "Parameters": [{"S": "a"}, {"S": "x"}]},
        ]
    )
    assert [r["Error"]["Code"] for r in response["Responses"]] == ["ValidationError", "ResourceNotFound"]
