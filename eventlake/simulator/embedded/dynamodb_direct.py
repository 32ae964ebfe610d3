"""The claim store's DynamoDB calls answered in-process: PartiQL ``INSERT`` batches and ``BatchGetItem``.

Every Firehose batch makes one ``BatchExecuteStatement`` per 25 distinct ids and one ``BatchGetItem`` for the
ids it lost. Through moto each statement cost its request parsing and response serialisation plus ~70 µs to
build and validate moto's item model, and each stored item ~800 bytes: a production hour (a million claims)
would spend minutes and gigabytes there. While a client is ``attached``:

- an ``INSERT`` (``aws_contract.partiql.parse_insert``'s form, scalar parameters) goes into a lean
  ``_Overlay`` of its table (a tuple of strings per item), atomic per key under ``dynamodb_partiql``'s lock,
  with the same per-statement results as ``dynamodb_partiql``: ``DuplicateItem`` when the key exists (in the
  overlay or in moto's table), the rest succeeding;
- ``BatchGetItem`` of one such table by key reads the overlay, then moto's table;
- before moto handles *any* DynamoDB request (any client, any operation, moto's server too), the overlays
  are written into moto's tables (``installed`` hooks moto's request dispatch), so moto always answers from
  every item: a ``GetItem``, ``DeleteItem``, ``Scan`` or ``PutItem`` after a run sees each claim.

Anything else (other statements, nested parameter values, projections, tables with a sort key, several
tables, more than the documented 25 statements or 100 keys) is left to moto (with ``dynamodb_partiql``), so
its errors stay moto's. AWS's contract: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
API_BatchExecuteStatement.html and API_BatchGetItem.html (``Responses`` by table, ``UnprocessedKeys``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any
from unittest import mock

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.responses import DynamoHandler

from aws_contract import limits
from aws_contract.partiql import parse_insert
from eventlake.simulator.embedded import direct_calls, dynamodb_partiql

_SCALAR_TYPES = frozenset({"S", "N", "B", "BOOL"})
_BATCH_GET_OPTIONS = frozenset({"Keys", "ConsistentRead"})


class _Overlay:
    """Items of one table written in-process and not yet handed to moto: key -> (shape, values)."""

    def __init__(self, backend: DynamoDBBackend, table_name: str, key_name: str) -> None:
        self.backend = backend
        self.table_name = table_name
        self.key_name = key_name
        self.items: dict[Any, tuple[tuple[tuple[str, str], ...], tuple[Any, ...]]] = {}
        self._shapes: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}

    def shape(self, names: list[str], types: list[str]) -> tuple[tuple[str, str], ...]:
        """One shared (name, type) tuple per item shape: items keep only their values."""
        shape = tuple(zip(names, types, strict=True))
        return self._shapes.setdefault(shape, shape)

    def flush(self) -> None:
        """Hand every item to moto's table (if it still exists) and forget them."""
        items, self.items = self.items, {}
        if self.table_name not in self.backend.tables:
            return
        for shape, values in items.values():
            self.backend.put_item(self.table_name, _typed(shape, values))


_OVERLAYS: dict[tuple[int, str], _Overlay] = {}  # by (id(backend), table name)


def _typed(shape: tuple[tuple[str, str], ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return {name: {kind: value} for (name, kind), value in zip(shape, values, strict=True)}


def flush_all() -> None:
    """Every in-process item into moto's tables: moto is about to answer a request."""
    with dynamodb_partiql.LOCK:
        for overlay in list(_OVERLAYS.values()):
            overlay.flush()


def _overlay(backend: DynamoDBBackend, table_name: str) -> _Overlay | None:
    """The table's overlay (created on first use), or None when the table is not one handled here."""
    overlay = _OVERLAYS.get((id(backend), table_name))
    if overlay is not None and table_name in backend.tables:
        return overlay
    table = backend.tables.get(table_name)
    if table is None or table.range_key_attr:
        return None
    overlay = _OVERLAYS[(id(backend), table_name)] = _Overlay(backend, table_name, table.hash_key_attr)
    return overlay


def _in_moto(overlay: _Overlay, key_value: dict[str, Any]) -> dict[str, Any] | None:
    """The item moto's table holds for the key (only looked up when the table holds any)."""
    table = overlay.backend.tables.get(overlay.table_name)
    if table is None or not table.items:
        return None
    item = overlay.backend.get_item(overlay.table_name, {overlay.key_name: key_value})
    return None if item is None else item.to_json()["Attributes"]


def batch_execute_statement(backend: DynamoDBBackend, params: Mapping[str, Any]) -> dict[str, Any] | None:
    statements = params.get("Statements") or []
    if not statements or len(statements) > limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS:
        return None
    planned = []
    for statement in statements:
        parsed = parse_insert(statement.get("Statement", ""))
        parameters = statement.get("Parameters") or []
        if parsed is None or len(parameters) != len(parsed[1]):
            return None
        overlay = _overlay(backend, parsed[0])
        if overlay is None or overlay.key_name not in parsed[1]:
            return None
        if any(len(p) != 1 or next(iter(p)) not in _SCALAR_TYPES for p in parameters):
            return None
        planned.append((overlay, parsed[1], parameters))
    responses = []
    for overlay, names, parameters in planned:
        types = [next(iter(p)) for p in parameters]
        values = tuple(next(iter(p.values())) for p in parameters)
        at = names.index(overlay.key_name)
        key = (types[at], values[at])
        with dynamodb_partiql.LOCK:
            if key in overlay.items or _in_moto(overlay, parameters[at]) is not None:
                responses.append(
                    {"Error": {"Code": "DuplicateItem", "Message": dynamodb_partiql.DUPLICATE_MESSAGE}}
                )
                continue
            overlay.items[key] = (overlay.shape(names, types), values)
        responses.append({"TableName": overlay.table_name})
    return {"Responses": responses}


def batch_get_item(backend: DynamoDBBackend, params: Mapping[str, Any]) -> dict[str, Any] | None:
    request = params.get("RequestItems") or {}
    if len(request) != 1 or params.get("ReturnConsumedCapacity") not in (None, "NONE"):
        return None
    ((table_name, wanted),) = request.items()
    overlay = _overlay(backend, table_name)
    keys = wanted.get("Keys") or []
    if overlay is None or set(wanted) - _BATCH_GET_OPTIONS:
        return None
    if not 1 <= len(keys) <= limits.BATCH_GET_ITEM_MAX_KEYS:
        return None
    found = []
    for key in keys:
        if set(key) != {overlay.key_name} or len(key[overlay.key_name]) != 1:
            return None
        ((kind, value),) = key[overlay.key_name].items()
        with dynamodb_partiql.LOCK:
            held = overlay.items.get((kind, value))
            item = _typed(*held) if held is not None else _in_moto(overlay, key[overlay.key_name])
        if item is not None:
            found.append(item)
    return {"Responses": {table_name: found}, "UnprocessedKeys": {}}


@contextmanager
def installed() -> Iterator[None]:
    """moto hands its tables every in-process item before it answers any DynamoDB request."""
    original = DynamoHandler.call_action

    def call_action(self: DynamoHandler) -> Any:
        flush_all()
        return original(self)

    try:
        with mock.patch.object(DynamoHandler, "call_action", call_action):
            yield
    finally:
        _OVERLAYS.clear()


@contextmanager
def attached(client: Any, account_id: str) -> Iterator[None]:
    """``client`` (a DynamoDB client of the embedded AWS) has its claim-store calls answered in-process."""
    backend = dynamodb_backends[account_id][client.meta.region_name]
    handlers = {
        "BatchExecuteStatement": partial(batch_execute_statement, backend),
        "BatchGetItem": partial(batch_get_item, backend),
    }
    with direct_calls.attached(client, handlers):
        yield
