"""Where duplicates are decided across batches: a table of claims, ``event_uuid -> (holder, fingerprint)``.

The handler settles repeats inside one batch in memory and asks a ``ClaimStore`` once per distinct id: "claim
this id for this record, and tell me who holds it now". The holder is the Kinesis record that first carried
the id (shard, sequence number, subsequence number), stable across Firehose's retries of that record, so a
retried batch finds its own claims and marks nothing. The fingerprint (by default a hash of ``event_name``
and ``created_at``, which a re-send keeps) tells a repeat of the same event from a different event that
reuses its id.

``DynamoClaims`` claims 25 ids per PartiQL ``BatchExecuteStatement`` of ``INSERT`` statements, from a
bounded pool of threads: an ``INSERT`` on an existing key fails that statement alone with ``DuplicateItem``
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html), so the winner
needs one write unit and the losers are read back (from the error's ``Item`` when DynamoDB returns it,
else one consistent ``BatchGetItem`` per 100 losers). A claim past its ``expires_at`` is free even before
DynamoDB's lazy TTL deletes it: it is taken over with a conditional ``PutItem``. Throttled statements and
failed requests are retried by one helper (``retried``) with capped exponential backoff and full jitter;
whatever the store still cannot answer is left out of the result ("not checked"), with the cause beside it
(``Owners.failures``: the call, AWS's error code and message or the exception's type and text, the retries
made, the ids it left), and the handler decides what that means and logs why. The calls are made through
``dynamodb_json`` (DynamoDB's JSON protocol over botocore's public APIs, without its shape walking, which was
most of the store's CPU, and CPU under the GIL is what bounds it, not latency).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from aws_contract import limits
from glue.claim_items import EXPIRES_ATTRIBUTE, FINGERPRINT_ATTRIBUTE, HOLDER_ATTRIBUTE, KEY_ATTRIBUTE

if TYPE_CHECKING:
    import random

    from botocore.credentials import Credentials

    from transform_lambda.dynamodb_json import Transport

# Request errors not worth retrying: the same call gets the same answer until someone changes the policy or
# the table (AccessDenied, a missing table); retrying them only spends the invocation's time in backoff.
NON_RETRYABLE_ERRORS = frozenset({"AccessDeniedException", "ResourceNotFoundException"})
_MESSAGE_CHARS = 300  # an error message kept in a log line, at most
# Statement errors worth retrying (BatchStatementError codes,
# https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchStatementError.html).
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceeded",
        "ThrottlingError",
        "RequestLimitExceeded",
        "InternalServerError",
        "TransactionConflict",
    }
)


class Claim(NamedTuple):
    """One record's claim on an id (``key`` is the lower-cased ``event_uuid``). Tuples, not dataclasses, in
    the Lambda: importing ``dataclasses`` (and ``inspect``) would cost more than a tenth of its cold start."""

    key: str
    holder: str
    fingerprint: str


class StoreFailure(NamedTuple):
    """Why the store left ids unchecked, for the log line an operator reads: the DynamoDB operation, AWS's
    error code and message (or the exception's type and text), the retries made before giving up (0: the
    first try was the only one; None: the store did not say) and how many ids it left unchecked."""

    operation: str
    code: str
    message: str
    retries: int | None
    ids: int


class Owners(dict[str, Claim]):
    """``claim``'s answer: the owners by key, and ``failures``, why any asked key is missing. A dict, so a
    store's answer is still just its owners to whoever does not ask why (the protocol is unchanged)."""

    failures: tuple[StoreFailure, ...] = ()


def cause_of(exc: BaseException) -> tuple[str, str]:
    """(code, message): AWS's error code and message from a botocore ``ClientError``, else the exception's
    type and text. Without it an operator cannot tell throttling from AccessDenied from a bad table name."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("Code"):
        return str(error["Code"]), str(error.get("Message") or "")[:_MESSAGE_CHARS]
    return type(exc).__name__, str(exc)[:_MESSAGE_CHARS]


def merged(failures: Iterable[StoreFailure]) -> tuple[StoreFailure, ...]:
    """One failure per (operation, code), its ids summed and its most retries kept (each of 400 throttled
    chunks is one cause, not 400), the cause that left the most ids first."""
    out: dict[tuple[str, str], StoreFailure] = {}
    for f in failures:
        seen = out.get((f.operation, f.code))
        if seen is not None:
            retries = max((r for r in (seen.retries, f.retries) if r is not None), default=None)
            f = seen._replace(ids=seen.ids + f.ids, retries=retries)
        out[(f.operation, f.code)] = f
    return tuple(sorted(out.values(), key=lambda f: -f.ids))


class ClaimStore(Protocol):
    """``remembers`` (optional, default true): false for a store that keeps nothing, so the handler does not
    build claims for it."""

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        """Claim every key (one claim per key); return, by key, the claim that holds it now: the given one
        if it won (or already held it), another if an earlier record did. A key left out of the result could
        not be checked; an ``Owners`` answer also says why (``failures``)."""
        ...


class NoClaims:
    """Within-invocation de-duplication only: nothing is remembered between batches."""

    remembers = False  # the handler then skips building claims nobody reads

    def claim(self, claims: Sequence[Claim]) -> dict[str, Claim]:
        return {c.key: c for c in claims}


class ClaimStoreError(RuntimeError):
    """The store could not answer and the stack chose to fail the invocation (Firehose retries it)."""


# The scalar types JSON gives, each with its fingerprint prefix (its type's name).
_SCALAR_PREFIXES: dict[type, str] = {t: f"{t.__name__}:" for t in (str, int, float, bool, type(None))}


def fingerprint(values: Iterable[Any]) -> str:
    """A short, stable digest of the fields that identify an event beyond its id. Scalars (the default
    fields, ``event_name`` and ``created_at``) are typed and written with ``repr``, so ``1`` and ``1.0``
    differ as they do in JSON; anything else as canonical JSON. It runs once per record: no JSON encoder on
    the common path, the prefix found by the value's exact type (JSON's values are never subclasses)."""
    parts = []
    for value in values:
        prefix = _SCALAR_PREFIXES.get(type(value))
        parts.append(prefix + repr(value) if prefix is not None else _fingerprint_text(value))
    return _blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def _fingerprint_text(value: Any) -> str:
    if isinstance(value, tuple(_SCALAR_PREFIXES)):  # a subclass: written as its base type was
        return f"{type(value).__name__}:{value!r}"
    return "json:" + json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def _blake2b(data: bytes, *, digest_size: int) -> Any:
    """hashlib on first use: importing it loads OpenSSL, a few ms of every cold start otherwise. The first
    call puts hashlib's own function in this one's place."""
    import hashlib

    global _blake2b
    _blake2b = hashlib.blake2b
    return hashlib.blake2b(data, digest_size=digest_size)


class Backoff(NamedTuple):
    """Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
    Jitter"); ``attempts`` counts the first try."""

    attempts: int = 5
    base_s: float = 0.025
    cap_s: float = 1.0

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_s, self.base_s * 2**retry))


DEFAULT_BACKOFF = Backoff()
NO_ATTEMPT = ("NoAttempt", "no call was made")
T = TypeVar("T")


def retried(
    operation: str,
    pending: list[T],
    attempt: Callable[[list[T], int], tuple[list[T], tuple[str, str]]],
    *,
    backoff: Backoff,
    sleep: Callable[[float], None],
    rng: random.Random,
) -> StoreFailure | None:
    """The claim store's one retry policy; the only place a call is ever made again.

    ``attempt(pending, retry)`` makes one call for ``pending`` and returns what is still pending (statements
    throttled, keys left unprocessed) and why. Up to ``backoff.attempts`` calls in all, with a jittered
    sleep before each retry. An exception is retried too, even one raised after the request may have
    reached DynamoDB (a timeout, a dropped connection), because every call the store makes is safe to
    repeat: an ``INSERT`` that already won finds its own holder, the take-over's condition accepts its own
    holder, and a read is a read. Not retried: ``NON_RETRYABLE_ERRORS`` (the same call gets the same answer
    until the policy or the table changes). Returns why anything is still pending (None: nothing is), with
    the last cause and the retries made."""
    cause, tried = NO_ATTEMPT, 0
    for retry in range(backoff.attempts):
        if not pending:
            break
        if retry:
            sleep(backoff.delay(retry, rng))
        tried = retry
        try:
            pending, cause = attempt(pending, retry)
        except Exception as exc:  # throttled, a 5xx, the network: see above
            cause = cause_of(exc)
            if cause[0] in NON_RETRYABLE_ERRORS:
                break
    return StoreFailure(operation, *cause, tried, len(pending)) if pending else None


class DynamoClaims:
    """First writer wins, 25 ids per PartiQL batch of ``INSERT`` statements, from ``concurrency`` threads.

    The calls go through ``dynamodb_json`` on the given client: DynamoDB's JSON protocol written, signed and
    read directly (~90 µs of CPU per 25-statement call, was ~1.3 ms through botocore's shape walking), with
    the client's events, endpoint and config, so Stubber, moto and the access check see them as before.
    ``credentials`` are the ones the client signs with (``dynamo_claims`` passes its session's); without
    them the calls go through the client's methods (slower, same answers). ``transport`` replaces the HTTP
    session built from the client's config (the tests swap it). The work is CPU under the GIL, so the
    threads are one pool kept for the store's life, each taking chunks until none are left. The client's
    config sizes the connection pool: it must hold ``concurrency`` connections (``claims_client_config``).
    Up to five Lambda invocations per shard run at once, and ``INSERT`` is atomic per key, so exactly one of
    them wins each id.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        ttl_seconds: int,
        credentials: Credentials | None = None,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
        concurrency: int = 8,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        # The client's DynamoDB operations through dynamodb_json (its events, an HTTP session of its config,
        # not its shape walking). Imported here: only a table needs it, and the cold import stays small.
        from transform_lambda import dynamodb_json

        self._call = dynamodb_json.calls(client, credentials, transport=transport)
        self._table = table_name
        self._ttl = ttl_seconds
        self._clock = clock
        self._concurrency = concurrency
        # One pool for the store's life (a warm Lambda's invocations share it): its threads start on first
        # use and stay, instead of starting and joining per batch. Imported here: only a table needs it.
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="claims")
        self._backoff = backoff
        self._sleep = sleep
        if rng is None:
            import random  # here, not at the top: the module's cold import stays small

            rng = random.Random()
        self._rng = rng
        self._insert = (
            f'INSERT INTO "{table_name}" VALUE '
            f"{{'{KEY_ATTRIBUTE}': ?, '{HOLDER_ATTRIBUTE}': ?, '{FINGERPRINT_ATTRIBUTE}': ?, "
            f"'{EXPIRES_ATTRIBUTE}': ?}}"
        )

    def claim(self, claims: Sequence[Claim]) -> Owners:
        """Claim every key; keys left out of the answer are unchecked, and ``Owners.failures`` says why.

        AccessDenied and ResourceNotFound (the request's ``...Exception`` or a statement's code) are not
        retried: the same call gets the same answer until the policy or the table changes. Every other
        failure is retried (``retried``), up to ``backoff.attempts`` tries."""
        owners = Owners()
        if not claims:
            return owners
        now = int(self._clock())
        failures: list[StoreFailure] = []  # appended from the pool's threads (list.append is atomic)
        pending = list(claims)
        for _round in range(2):  # a second round only for ids whose claim vanished (TTL) under us
            won, lost, found = self._insert_chunks(pending, now, failures)
            owners.update({c.key: c for c in won})
            owners.update(found)
            # Every loser of every chunk read back at once: one BatchGetItem per 100, not one per chunk.
            stored = self._read(lost, failures) if lost else {}
            pending = []
            for mine in lost:
                if mine.key not in stored:
                    continue  # the read failed: unchecked
                held = stored[mine.key]
                if held is None:
                    pending.append(mine)  # deleted (TTL) since the INSERT failed: try again
                    continue
                owner, expires = held
                if owner.holder == mine.holder:
                    owners[mine.key] = mine  # our own earlier claim (a retried record)
                elif expires < now:
                    taken = self._take_over(mine, now, failures)
                    if taken is not None:
                        owners[mine.key] = taken
                else:
                    owners[mine.key] = owner
            if not pending:
                break
        if pending:
            message = "the claim was deleted (TTL) while being read back, in both rounds"
            failures.append(StoreFailure("BatchGetItem", "ClaimVanished", message, 1, len(pending)))
        owners.failures = merged(failures)
        return owners

    def _retried(
        self,
        operation: str,
        pending: list[T],
        attempt: Callable[[list[T], int], tuple[list[T], tuple[str, str]]],
        failures: list[StoreFailure],
    ) -> None:
        """``retried`` with this store's backoff; why anything stayed pending is added to ``failures``."""
        failure = retried(
            operation, pending, attempt, backoff=self._backoff, sleep=self._sleep, rng=self._rng
        )
        if failure is not None:
            failures.append(failure)

    def _insert_chunks(
        self, claims: list[Claim], now: int, failures: list[StoreFailure]
    ) -> tuple[list[Claim], list[Claim], dict[str, Claim]]:
        """INSERT every claim, 25 a call, the calls from the pool; (won, lost, owners the errors named)."""
        size = limits.BATCH_EXECUTE_STATEMENT_MAX_STATEMENTS
        chunks = [claims[i : i + size] for i in range(0, len(claims), size)]
        if len(chunks) == 1:
            results = [self._insert_all(chunks[0], now, failures)]
        else:
            # One task per thread, each taking chunks until none are left (next() on a list's iterator is
            # atomic): a handful of futures and wake-ups per batch rather than one per chunk.
            todo = iter(chunks)

            def work() -> list[tuple[list[Claim], list[Claim], dict[str, Claim]]]:
                return [self._insert_all(chunk, now, failures) for chunk in todo]

            tasks = [self._pool.submit(work) for _ in range(min(self._concurrency, len(chunks)))]
            results = [result for task in tasks for result in task.result()]
        won: list[Claim] = []
        lost: list[Claim] = []
        found: dict[str, Claim] = {}
        for chunk_won, chunk_lost, chunk_found in results:
            won += chunk_won
            lost += chunk_lost
            found.update(chunk_found)
        return won, lost, found

    def _insert_all(
        self, claims: list[Claim], now: int, failures: list[StoreFailure]
    ) -> tuple[list[Claim], list[Claim], dict[str, Claim]]:
        """INSERT each claim; return (won, lost to an existing item, owners the errors named). What stays
        unanswered is added to ``failures`` with its last cause."""
        won: list[Claim] = []
        lost: list[Claim] = []
        found: dict[str, Claim] = {}
        refused: dict[tuple[str, str], list[int]] = {}  # not retried: (code, message) -> [retry, statements]

        def attempt(todo: list[Claim], retry: int) -> tuple[list[Claim], tuple[str, str]]:
            again: list[Claim] = []
            cause = NO_ATTEMPT
            for mine, response in zip(todo, self._batch_insert(todo, now), strict=True):
                error = response.get("Error")
                if not error:
                    won.append(mine)
                    continue
                code = error.get("Code")
                if code == "DuplicateItem" or code == "ConditionalCheckFailed":
                    owner = _from_item(error.get("Item") or {})
                    if owner is None or owner[1] < now:
                        lost.append(mine)  # read it back (an expired claim is taken over there)
                    elif owner[0].holder == mine.holder:
                        won.append(mine)  # our own earlier claim: a retried record
                    else:
                        found[mine.key] = owner[0]
                elif code in RETRYABLE_CODES:
                    again.append(mine)
                    cause = (str(code), str(error.get("Message") or "")[:_MESSAGE_CHARS])
                else:  # ValidationError, AccessDenied, ResourceNotFound: not retried, left unchecked
                    key = (str(code), str(error.get("Message") or "")[:_MESSAGE_CHARS])
                    refused.setdefault(key, [retry, 0])[1] += 1
            return again, cause

        self._retried("BatchExecuteStatement", claims, attempt, failures)
        for (code, message), (retry, count) in refused.items():
            failures.append(StoreFailure("BatchExecuteStatement", code, message, retry, count))
        return won, lost, found

    def _batch_insert(self, claims: list[Claim], now: int) -> list[dict[str, Any]]:
        expires = str(now + self._ttl)
        response = self._call(
            "BatchExecuteStatement",
            {
                "Statements": [
                    {
                        "Statement": self._insert,
                        "Parameters": [{"S": c.key}, {"S": c.holder}, {"S": c.fingerprint}, {"N": expires}],
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                    for c in claims
                ]
            },
        )
        responses = list(response.get("Responses") or [])
        if len(responses) != len(claims):
            raise RuntimeError(f"BatchExecuteStatement answered {len(responses)} of {len(claims)} statements")
        return responses

    def _read(self, claims: list[Claim], failures: list[StoreFailure]) -> dict[str, tuple[Claim, int] | None]:
        """The stored claims by key (None: no item). Keys the store could not read are absent, and added to
        ``failures`` with their last cause."""
        out: dict[str, tuple[Claim, int] | None] = {}

        def attempt(keys: list[dict[str, Any]], _retry: int) -> tuple[list[dict[str, Any]], tuple[str, str]]:
            response = self._call(
                "BatchGetItem", {"RequestItems": {self._table: {"Keys": keys, "ConsistentRead": True}}}
            )
            for item in response.get("Responses", {}).get(self._table, []):
                parsed = _from_item(item)
                if parsed is not None:
                    out[parsed[0].key] = parsed
            unprocessed = response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
            pending = {k[KEY_ATTRIBUTE]["S"] for k in unprocessed}
            for key in {k[KEY_ATTRIBUTE]["S"] for k in keys} - pending:
                out.setdefault(key, None)
            return unprocessed, ("UnprocessedKeys", f"BatchGetItem left {len(unprocessed)} keys unprocessed")

        size = limits.BATCH_GET_ITEM_MAX_KEYS
        for start in range(0, len(claims), size):
            keys = [{KEY_ATTRIBUTE: {"S": c.key}} for c in claims[start : start + size]]
            self._retried("BatchGetItem", keys, attempt, failures)
        return out

    def _take_over(self, mine: Claim, now: int, failures: list[StoreFailure]) -> Claim | None:
        """Replace an expired claim; return whoever holds the id afterwards (None: unchecked, and why is
        added to ``failures``)."""
        holder: list[Claim] = []

        def attempt(todo: list[Claim], retry: int) -> tuple[list[Claim], tuple[str, str]]:
            try:
                self._call(
                    "PutItem",
                    {
                        "TableName": self._table,
                        "Item": _to_item(mine, now + self._ttl),
                        "ConditionExpression": "attribute_not_exists(#k) OR #e < :now OR #h = :me",
                        "ExpressionAttributeNames": {
                            "#k": KEY_ATTRIBUTE,
                            "#e": EXPIRES_ATTRIBUTE,
                            "#h": HOLDER_ATTRIBUTE,
                        },
                        "ExpressionAttributeValues": {":now": {"N": str(now)}, ":me": {"S": mine.holder}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    },
                )
            except Exception as exc:
                cause = cause_of(exc)
                if cause[0] != "ConditionalCheckFailedException":
                    raise  # retried() decides
                response = getattr(exc, "response", {}) or {}
                parsed = _from_item(response.get("Item") or {})
                if parsed:
                    holder.append(parsed[0])  # another invocation took it over first
                else:
                    failures.append(StoreFailure("PutItem", *cause, retry, 1))  # but did not say who
                return [], cause
            holder.append(mine)
            return [], NO_ATTEMPT

        self._retried("PutItem", [mine], attempt, failures)
        return holder[0] if holder else None


def _to_item(claim: Claim, expires_at: int) -> dict[str, Any]:
    return {
        KEY_ATTRIBUTE: {"S": claim.key},
        HOLDER_ATTRIBUTE: {"S": claim.holder},
        FINGERPRINT_ATTRIBUTE: {"S": claim.fingerprint},
        EXPIRES_ATTRIBUTE: {"N": str(expires_at)},
    }


def _from_item(item: Mapping[str, Any]) -> tuple[Claim, int] | None:
    try:
        return (
            Claim(
                key=item[KEY_ATTRIBUTE]["S"],
                holder=item[HOLDER_ATTRIBUTE]["S"],
                fingerprint=item.get(FINGERPRINT_ATTRIBUTE, {}).get("S", ""),
            ),
            int(item[EXPIRES_ATTRIBUTE]["N"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def claims_client_config(concurrency: int) -> Any:
    """The botocore config of the claims client: a connection pool that fits ``concurrency`` threads
    (botocore keeps 10 by default; ``dynamodb_json`` builds its HTTP session from this config), region and
    credentials as usual. One attempt per call and no botocore retries, on either path: ``retried`` is the
    store's one retry policy, so nothing else sends a request again. The disabled client-side validation
    serves calls made through the client's methods (``dynamodb_json``'s fallback for a client it cannot
    speak for), where validating the typed requests built here was a third of the CPU."""
    from botocore.config import Config  # provided by the Lambda runtime

    return Config(
        max_pool_connections=concurrency,
        retries={"mode": "standard", "total_max_attempts": 1},
        parameter_validation=False,
    )


def dynamo_claims(table_name: str, *, ttl_seconds: int, concurrency: int) -> DynamoClaims:
    """The Lambda's claim store: its client and the credentials that client signs with, from one boto3
    session (the function's role, from its environment), so ``dynamodb_json`` signs as the client would."""
    import boto3  # provided by the Lambda runtime

    session = boto3.session.Session()
    return DynamoClaims(
        session.client("dynamodb", config=claims_client_config(concurrency)),
        table_name,
        ttl_seconds=ttl_seconds,
        credentials=session.get_credentials(),
        concurrency=concurrency,
    )
