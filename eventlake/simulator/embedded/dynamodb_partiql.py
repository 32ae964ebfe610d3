"""PartiQL ``INSERT`` in ``BatchExecuteStatement`` as DynamoDB documents it, for moto's DynamoDB backend.

The claim store relies on two things moto gets wrong (measured with moto 5.2): an ``INSERT`` whose key
exists must fail that statement alone with ``DuplicateItem`` (moto silently overwrites the item), and ``?``
parameters must be accepted inside ``VALUE {...}`` (moto rejects them); moto also re-serialises the whole
table for every statement. This module replaces moto's ``batch_execute_statement`` for statements of the
form ``INSERT INTO "table" VALUE {'attr': ?, ...}`` with a check-and-put that is atomic per key, as
DynamoDB's is, and hands every other statement to moto unchanged.

AWS's contract, from https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html
and https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html: at most 25
statements, all reads or all writes; a response per statement, in order; a failed statement carries
``Error: {Code, Message}`` (``DuplicateItem`` when "an item with the same primary key already exists") and
the others succeed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend

from aws_contract import limits
from aws_contract.partiql import parse_insert

DUPLICATE_MESSAGE = "Duplicate primary key exists in table"
# DynamoDB's per-item atomicity, for threads sharing one in-process backend (and dynamodb_direct's items).
LOCK = threading.Lock()


def batch_execute_statement(
    backend: DynamoDBBackend, statements: list[dict[str, Any]], original: Any
) -> list[dict[str, Any]]:
    if len(statements) > limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS:
        raise MockValidationException(
            "1 validation error detected: Value at 'statements' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS}"
        )
    parsed = [parse_insert(s.get("Statement", "")) for s in statements]
    if not parsed or any(p is None for p in parsed):
        return original(backend, statements)
    return [_insert(backend, p, s.get("Parameters") or []) for p, s in zip(parsed, statements, strict=True)]


def _insert(backend: DynamoDBBackend, parsed: tuple[str, list[str]] | None, parameters: list[Any]) -> dict:
    assert parsed is not None
    table_name, names = parsed
    if table_name not in backend.tables:
        return {"Error": {"Code": "ResourceNotFound", "Message": "Requested resource not found"}}
    if len(parameters) != len(names):
        message = "Number of parameters in request and statement don't match"
        return {"Error": {"Code": "ValidationError", "Message": message}}
    item = dict(zip(names, parameters, strict=True))
    table = backend.get_table(table_name)
    key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if any(name not in item for name in key_names):
        return {"Error": {"Code": "ValidationError", "Message": "One or more parameter values were invalid"}}
    keys = {name: item[name] for name in key_names}
    with LOCK:
        if backend.get_item(table_name, keys) is not None:
            return {"Error": {"Code": "DuplicateItem", "Message": DUPLICATE_MESSAGE}}
        backend.put_item(table_name, item)
    return {"TableName": table_name}


@contextmanager
def installed() -> Iterator[None]:
    """moto's DynamoDB with this ``BatchExecuteStatement``, for the duration."""
    original = DynamoDBBackend.batch_execute_statement

    def patched(self: DynamoDBBackend, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return batch_execute_statement(self, statements, original)

    with mock.patch.object(DynamoDBBackend, "batch_execute_statement", patched):
        yield
