"""An in-process DynamoDB for benchmarks: a real boto3 client whose HTTP requests never leave the process.

A handler on botocore's ``before-send`` event takes each signed request, sleeps ``latency_s`` (5 ms by
default, with ``time.sleep``, so threads overlap as they do on a network), decodes the JSON body (the
``X-Amz-Target`` header names the operation), applies it to an in-memory table under a lock and answers with
an ``AWSResponse`` carrying the body DynamoDB would send. botocore serialises, signs, parses and raises
exactly as it does against AWS; only the wire is missing. The double's own CPU is kept small (it is
apparatus, not what is measured): each INSERT text is parsed once and its plan reused.

The model is first writer wins, which is exact for runs that never expire, delete or retry a claim:
- ``PutItem`` with any ``ConditionExpression`` succeeds only if the key is absent; otherwise it fails
  with ``ConditionalCheckFailedException`` (the stored item in ``Item`` when
  ``ReturnValuesOnConditionCheckFailure`` is ``ALL_OLD``). Without a condition it overwrites.
- ``UpdateItem`` applies ``SET path = :value`` clauses (upserting, as DynamoDB does); any other update
  expression, and any ``ConditionExpression`` on ``UpdateItem`` or ``DeleteItem``, is answered with a
  ``ValidationException`` rather than guessed.
- ``GetItem``, ``DeleteItem``, ``BatchGetItem`` (at most 100 keys) and ``BatchExecuteStatement`` (at most 25
  statements) of PartiQL ``INSERT INTO "t" VALUE {'a': ?, ...}``: an existing key fails that statement alone
  with ``DuplicateItem``, as documented for INSERT (no ``Item`` is returned with it).

Requests are counted per operation, and write units as DynamoDB bills items under 1 KB: one per
``PutItem``/``UpdateItem``/``DeleteItem`` request and one per ``INSERT`` statement, whether it succeeded or
not (a failed conditional write still consumes one); reads count none here.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

import orjson

from aws_contract import limits
from aws_contract.partiql import parse_insert

LATENCY_S = 0.005
TARGET_PREFIX = "DynamoDB_20120810."
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
Item = dict[str, Any]
_UNPLANNED = object()

_SET = re.compile(r"^\s*SET\s+(.+)$", re.I | re.S)
_ASSIGNMENT = re.compile(r"^\s*([#A-Za-z_][A-Za-z0-9_]*)\s*=\s*(:[A-Za-z0-9_]+)\s*$")


class DynamoError(Exception):
    """An error response: HTTP 400 with ``__type`` and ``message`` (and extra members, such as ``Item``)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"__type": ERROR_PREFIX + self.code, "message": str(self), **self.extra}


class _Body:
    """The ``raw`` an ``AWSResponse`` reads its content from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


class DynamoDouble:
    """First-writer-wins tables behind real boto3 clients (see the module docstring).

    ``tables`` maps each table name to its key attribute names (partition key, then sort key if any)."""

    def __init__(self, tables: Mapping[str, tuple[str, ...]], *, latency_s: float = LATENCY_S) -> None:
        self.key_schema = dict(tables)
        self.latency_s = latency_s
        self.items: dict[str, dict[tuple[Any, ...], Item]] = {name: {} for name in tables}
        self.requests: Counter[str] = Counter()
        self.write_units = 0
        self._lock = threading.Lock()
        self._plans: dict[str, Any] = {}  # INSERT text -> what ``_plan`` made of it

    # --- what a benchmark reads -------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())

    @property
    def credentials(self) -> Any:
        """What the double's clients sign with (fake), for a claim store that signs itself."""
        from botocore.credentials import Credentials

        return Credentials("bench", "bench")

    def client(self, *, max_pool_connections: int = 10, region: str = "eu-west-1", config: Any = None) -> Any:
        """A boto3 DynamoDB client (``credentials``) whose requests this double answers; ``config`` replaces
        the default botocore config (the claim store passes production's)."""
        import boto3
        from botocore.config import Config

        client = boto3.session.Session(
            aws_access_key_id=self.credentials.access_key,
            aws_secret_access_key=self.credentials.secret_key,
            region_name=region,
        ).client(
            "dynamodb",
            endpoint_url=f"https://dynamodb.{region}.amazonaws.com",
            config=config or Config(max_pool_connections=max_pool_connections, retries={"mode": "standard"}),
        )
        client.meta.events.register("before-send.dynamodb", self._on_send)
        return client

    # --- the wire -----------------------------------------------------------------------------------------

    def _on_send(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        time.sleep(self.latency_s)
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else str(target)
        operation = target.removeprefix(TARGET_PREFIX)
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        payload = orjson.loads(
            body or b"{}"
        )  # the harness's own JSON: as cheap as it gets, so it is not what is measured
        try:
            status, answer = 200, self.handle(operation, payload)
        except DynamoError as error:
            status, answer = 400, error.body()
        data = orjson.dumps(answer)
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "Content-Length": str(len(data)),
            "x-amz-crc32": str(zlib.crc32(data)),
            "x-amzn-RequestId": f"bench-{self.request_count}",
        }
        return AWSResponse(request.url, status, headers, _Body(data))

    def handle(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Apply one decoded request; return the response body or raise ``DynamoError``."""
        with self._lock:
            self.requests[operation] += 1
            if operation in WRITES:
                self.write_units += 1
            step = getattr(self, f"_op_{operation}", None)
            if step is None:
                raise DynamoError("UnknownOperationException", f"{operation} is not modelled by the double")
            return step(request)

    # --- operations (called under the lock) ---------------------------------------------------------------

    def _op_PutItem(self, request: dict[str, Any]) -> dict[str, Any]:
        table, key = self._table_key(request["TableName"], request["Item"])
        old = table.get(key)
        if old is not None and request.get("ConditionExpression"):
            raise self._condition_failed(request, old)
        table[key] = request["Item"]
        return {"Attributes": old} if old is not None and request.get("ReturnValues") == "ALL_OLD" else {}

    def _op_GetItem(self, request: dict[str, Any]) -> dict[str, Any]:
        table, key = self._table_key(request["TableName"], request["Key"])
        item = table.get(key)
        return {"Item": item} if item is not None else {}

    def _op_UpdateItem(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ConditionExpression"):
            raise DynamoError("ValidationException", "conditional UpdateItem is not modelled by the double")
        table, key = self._table_key(request["TableName"], request["Key"])
        names = request.get("ExpressionAttributeNames") or {}
        values = request.get("ExpressionAttributeValues") or {}
        match = _SET.match(request.get("UpdateExpression", ""))
        if match is None:
            raise DynamoError("ValidationException", "only SET update expressions are modelled")
        updates: Item = {}
        for clause in match.group(1).split(","):
            assignment = _ASSIGNMENT.match(clause)
            if assignment is None or assignment.group(2) not in values:
                raise DynamoError("ValidationException", f"unsupported SET clause: {clause.strip()!r}")
            path = assignment.group(1)
            updates[names.get(path, path) if path.startswith("#") else path] = values[assignment.group(2)]
        item = {**table.get(key, dict(request["Key"])), **updates}
        table[key] = item
        return {}

    def _op_DeleteItem(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("ConditionExpression"):
            raise DynamoError("ValidationException", "conditional DeleteItem is not modelled by the double")
        table, key = self._table_key(request["TableName"], request["Key"])
        old = table.pop(key, None)
        return {"Attributes": old} if old is not None and request.get("ReturnValues") == "ALL_OLD" else {}

    def _op_BatchGetItem(self, request: dict[str, Any]) -> dict[str, Any]:
        wanted = request.get("RequestItems") or {}
        if sum(len(spec.get("Keys") or []) for spec in wanted.values()) > limits.BATCH_GET_ITEM_MAX_KEYS:
            raise DynamoError("ValidationException", "Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        for name, spec in wanted.items():
            found = []
            for key_item in spec.get("Keys") or []:
                table, key = self._table_key(name, key_item)
                if key in table:
                    found.append(table[key])
            responses[name] = found
        return {"Responses": responses, "UnprocessedKeys": {}}

    def _op_BatchExecuteStatement(self, request: dict[str, Any]) -> dict[str, Any]:
        statements = request.get("Statements") or []
        if not 1 <= len(statements) <= limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS:
            raise DynamoError(
                "ValidationException",
                f"Member must have length between 1 and {limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS}",
            )
        self.write_units += len(statements)  # every INSERT consumes a write unit, won or not
        return {"Responses": [self._insert(s) for s in statements]}

    # --- helpers ------------------------------------------------------------------------------------------

    def _insert(self, statement: dict[str, Any]) -> dict[str, Any]:
        text = statement.get("Statement", "")
        plan = self._plans.get(text, _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._plans[text] = self._plan(text)
        parameters = statement.get("Parameters") or []
        if plan is not None and len(parameters) == len(plan[1]):
            # The fast path (the apparatus's own CPU is not what a bench measures): a statement parsed before,
            # of a known table with every key in it, and key values each one plain S, N or B string.
            name, fields, positions, table = plan
            key = []
            for at in positions:
                value = parameters[at]
                if len(value) != 1:
                    break
                ((kind, scalar),) = value.items()
                if kind not in ("S", "N", "B") or type(scalar) is not str:
                    break
                key.append((kind, scalar))
            else:
                found = tuple(key)
                if found in table:
                    return _statement_error("DuplicateItem", "Duplicate primary key exists in table")
                table[found] = dict(zip(fields, parameters, strict=True))
                return {"TableName": name}
        return self._insert_slowly(statement)

    def _plan(
        self, text: str
    ) -> tuple[str, tuple[str, ...], tuple[int, ...], dict[tuple[Any, ...], Item]] | None:
        """For an INSERT of a known table that names every key attribute: (table, fields, the key attributes'
        positions among the fields, the table's items); None: ``_insert_slowly`` answers it."""
        parsed = parse_insert(text)
        if parsed is None or parsed[0] not in self.items:
            return None
        name, fields = parsed
        if not all(a in fields for a in self.key_schema[name]):
            return None
        last = {field: at for at, field in enumerate(fields)}  # a repeated field: the item keeps the last
        return name, fields, tuple(last[a] for a in self.key_schema[name]), self.items[name]

    def _insert_slowly(self, statement: dict[str, Any]) -> dict[str, Any]:
        parsed = parse_insert(statement.get("Statement", ""))
        parameters = statement.get("Parameters") or []
        if parsed is None or len(parsed[1]) != len(parameters):
            return _statement_error("ValidationError", "Only INSERT ... VALUE {'a': ?, ...} is modelled")
        name, fields = parsed
        item = dict(zip(fields, parameters, strict=True))
        try:
            table, key = self._table_key(name, item)
        except DynamoError as error:
            code = "ResourceNotFound" if name not in self.items else "ValidationError"
            return _statement_error(code, str(error))
        if key in table:
            return _statement_error("DuplicateItem", "Duplicate primary key exists in table")
        table[key] = item
        return {"TableName": name}

    def _table_key(self, name: str, item: Mapping[str, Any]) -> tuple[dict[tuple[Any, ...], Item], tuple]:
        if name not in self.items:
            raise DynamoError("ResourceNotFoundException", "Requested resource not found")
        try:
            key = tuple(_scalar(item[a]) for a in self.key_schema[name])
        except (KeyError, ValueError, AttributeError) as missing:
            raise DynamoError(
                "ValidationException", f"One of the required keys was not given a value: {missing}"
            ) from None
        return self.items[name], key

    @staticmethod
    def _condition_failed(request: dict[str, Any], old: Item) -> DynamoError:
        extra = {"Item": old} if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else {}
        return DynamoError("ConditionalCheckFailedException", "The conditional request failed", **extra)


def _scalar(value: Mapping[str, Any]) -> tuple[str, Any]:
    """A key attribute's value (``{"S": "x"}``) as a hashable ``("S", "x")``."""
    ((kind, scalar),) = value.items()
    if kind not in ("S", "N", "B"):
        raise ValueError(f"a key attribute must be S, N or B, not {kind}")
    return kind, scalar


def _statement_error(code: str, message: str) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message}}


if __name__ == "__main__":  # apparatus, not a bench: say where the bench that uses it is
    sys.exit(
        "benchmarks.dynamodb_double is the in-process DynamoDB the dedupe bench runs on, not a bench: "
        "run python -m benchmarks --dedupe (python -m benchmarks --help lists every bench)"
    )
