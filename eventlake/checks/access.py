"""Do the policies fit the work? Record the API calls a piece of the project makes, then check each against
the identity policy its principal gets.

The embedded AWS (moto) does not enforce IAM, so a grant the producer or a reader lacks would only show on a
real deploy. Here a ``CallRecorder`` hooks a boto3 client's ``before-parameter-build`` event (emitted once per
API call, before serialization, with the caller's parameters) and turns each call into the IAM action it needs
and the resource ARN(s) AWS authorizes it against; ``audit`` checks every one with ``allowed``, a small
evaluator for identity policies.

- Only the operations the project calls are mapped (``OPERATIONS``). A call the recorder cannot map, or whose
  resource it cannot tell from the parameters, is itself a finding (``UnmappedCall``): never skipped.
- Glue checks the catalog, the database and the table for a table-level call
  (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html): such a call carries the
  three ARNs and is allowed only if each is.
- KMS: the client never calls KMS itself; Kinesis and S3 do, on the caller's behalf, when the stream or the
  object is encrypted with a customer managed key (the lake key, as deployed; the embedded AWS encrypts
  nothing). The recorder cannot see those calls. ``CallRecorder.key_calls`` derives them from the recorded
  calls (``KEY_USE``), with ``kms:ViaService`` set to the service that makes them, so the policies'
  ``kms:ViaService``-conditioned key statements are checked too.
- An operation AWS authorizes as more than one action is recorded as one ``ApiCall`` per action
  (S3 ``CopyObject``: ``s3:GetObject`` on the source, ``s3:PutObject`` on the target).
- An S3 list carries its ``Prefix`` as the ``s3:prefix`` condition key, so a listing limited by prefix is
  checked too.

Plugging in a command (as ``eventlake reprocess`` is): record its clients with a ``CallRecorder`` while it
runs, add any operation it calls that ``OPERATIONS`` lacks (an unmapped one shows as a finding until then),
and ``audit`` the calls against the policy its principal will get.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import unquote

from infra.account import Account

Policy = Mapping[str, Any]
Params = Mapping[str, Any]
# From a call's parameters and where the client points (partition, region, account): the resource ARNs.
Resolver = Callable[[Params, Account], tuple[str, ...]]

VIA_SERVICE = "kms:ViaService"
S3_PREFIX = "s3:prefix"
# The condition operators and keys the evaluator models; anything else raises ``PolicyNotEvaluable``.
_OPERATORS = {"StringEquals", "StringLike"}
_CONDITION_KEYS = {VIA_SERVICE.lower(), S3_PREFIX.lower()}


@dataclass(frozen=True)
class ApiCall:
    """One authorization an API call needs: an IAM action on resources, all of which must be allowed."""

    service: str  # botocore's service name: kinesis, s3, glue, kms
    operation: str  # the API operation: PutRecords, ListObjectsV2, ...
    action: str  # the IAM action: kinesis:PutRecords, s3:ListBucket, ...
    resources: tuple[str, ...]
    region: str  # the client's (the region whose service host ``kms:ViaService`` would name)
    # Set for a call an AWS service makes on the caller's behalf (the host ``kms:ViaService`` compares).
    via_service: str | None = None
    detail: str = ""  # what else identifies the call in a report (an S3 list's prefix)
    # Condition keys the request sets, as (key, value) pairs: an S3 list's ``s3:prefix``.
    context: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UnmappedCall:
    """A call the recorder could not turn into an action and resources: a finding of its own."""

    service: str
    operation: str
    reason: str

    def __str__(self) -> str:
        return f"unmapped: {self.service} {self.operation}: {self.reason}"


@dataclass(frozen=True)
class Refusal:
    """A recorded call the policy does not allow, with the resources it is refused on."""

    call: ApiCall
    refused: tuple[str, ...]

    def __str__(self) -> str:
        via = f" through {self.call.via_service}" if self.call.via_service else ""
        detail = f" ({self.call.detail})" if self.call.detail else ""
        return (
            f"refused: {self.call.action} on {', '.join(self.refused)}{via}{detail}"
            f" [{self.call.service} {self.call.operation}]"
        )


@dataclass(frozen=True)
class AccessReport:
    """What a policy does not cover of the recorded work."""

    policy_name: str
    checked: int  # distinct calls checked
    refused: tuple[Refusal, ...]
    unmapped: tuple[UnmappedCall, ...]

    @property
    def ok(self) -> bool:
        return not self.refused and not self.unmapped

    def lines(self) -> list[str]:
        return [f"{self.policy_name}: {finding}" for finding in (*self.refused, *self.unmapped)]


class PolicyNotEvaluable(ValueError):
    """The policy uses something the evaluator does not model (a condition other than ``kms:ViaService``,
    ``NotAction``, ...): refused loudly rather than guessed."""


# --- what each call needs --------------------------------------------------------------------------------


def _stream(params: Params, account: Account) -> tuple[str, ...]:
    if params.get("StreamARN"):
        return (str(params["StreamARN"]),)
    if params.get("StreamName"):
        return (account.kinesis_stream_arn(str(params["StreamName"])),)
    raise LookupError("neither StreamARN nor StreamName in the request")


def _bucket(params: Params, account: Account) -> tuple[str, ...]:
    return (account.bucket_arn(str(params["Bucket"])),)


def _object(params: Params, account: Account) -> tuple[str, ...]:
    return (f"{account.bucket_arn(str(params['Bucket']))}/{params['Key']}",)


def _copy_source(params: Params, account: Account) -> tuple[str, ...]:
    """``CopySource`` as botocore takes it: ``{"Bucket", "Key"}`` or ``bucket/key`` (URL-encoded)."""
    source = params["CopySource"]
    if isinstance(source, Mapping):
        bucket, key = str(source["Bucket"]), str(source["Key"])
    else:
        bucket, _, key = unquote(str(source).split("?versionId=", 1)[0]).lstrip("/").partition("/")
        if not key:
            raise ValueError(f"CopySource {source!r} names no key")
    return (f"{account.bucket_arn(bucket)}/{key}",)


def _table(params: Params, account: Account) -> tuple[str, ...]:
    name = str(params["TableName"])
    if name.startswith("arn:"):
        return (name,)
    return (f"arn:{account.partition}:dynamodb:{account.region}:{account.account_id}:table/{name}",)


def _glue_catalog(params: Params, account: Account) -> str:
    catalog_id = str(params.get("CatalogId") or account.account_id)
    return f"arn:{account.partition}:glue:{account.region}:{catalog_id}:catalog"


def _glue_database(params: Params, account: Account) -> tuple[str, ...]:
    catalog = _glue_catalog(params, account)
    name = params.get("Name") or params.get("DatabaseName")
    if not name:
        raise LookupError("no database name in the request")
    return catalog, f"{catalog.removesuffix(':catalog')}:database/{name}"


def _glue_table(table_param: str) -> Resolver:
    def resolve(params: Params, account: Account) -> tuple[str, ...]:
        catalog = _glue_catalog(params, account)
        database, table = params["DatabaseName"], params[table_param]
        base = catalog.removesuffix(":catalog")
        return catalog, f"{base}:database/{database}", f"{base}:table/{database}/{table}"

    return resolve


# (botocore service name, operation) -> (IAM action, resources). Only what the project calls: the producer
# (PutRecords), the reader's query path (Glue table and partitions, S3 list and get), ``eventlake reprocess``
# (S3 list, get, put, copy and delete, DynamoDB get and delete of claims, PutRecords), and the other calls
# the local runner makes with the same clients (the Firehose model's stream reads and object writes, the
# registrar's partition writes), so recording them too names their actions instead of "unmapped".
OPERATIONS: dict[tuple[str, str], tuple[str, Resolver]] = {
    ("kinesis", "PutRecord"): ("kinesis:PutRecord", _stream),
    ("kinesis", "PutRecords"): ("kinesis:PutRecords", _stream),
    ("kinesis", "DescribeStream"): ("kinesis:DescribeStream", _stream),
    ("kinesis", "DescribeStreamSummary"): ("kinesis:DescribeStreamSummary", _stream),
    ("kinesis", "ListShards"): ("kinesis:ListShards", _stream),
    ("kinesis", "GetShardIterator"): ("kinesis:GetShardIterator", _stream),
    ("kinesis", "GetRecords"): ("kinesis:GetRecords", _stream),  # only with StreamARN: else unmapped
    ("s3", "ListObjectsV2"): ("s3:ListBucket", _bucket),
    ("s3", "ListObjects"): ("s3:ListBucket", _bucket),
    ("s3", "GetBucketLocation"): ("s3:GetBucketLocation", _bucket),
    ("s3", "GetObject"): ("s3:GetObject", _object),
    ("s3", "HeadObject"): ("s3:GetObject", _object),  # HEAD is authorized as GetObject
    ("s3", "PutObject"): ("s3:PutObject", _object),
    ("s3", "DeleteObject"): ("s3:DeleteObject", _object),
    ("dynamodb", "GetItem"): ("dynamodb:GetItem", _table),
    ("dynamodb", "DeleteItem"): ("dynamodb:DeleteItem", _table),
    ("glue", "GetDatabase"): ("glue:GetDatabase", _glue_database),
    ("glue", "GetTable"): ("glue:GetTable", _glue_table("Name")),
    ("glue", "GetPartition"): ("glue:GetPartition", _glue_table("TableName")),
    ("glue", "GetPartitions"): ("glue:GetPartitions", _glue_table("TableName")),
    ("glue", "BatchGetPartition"): ("glue:BatchGetPartition", _glue_table("TableName")),
    ("glue", "BatchCreatePartition"): ("glue:BatchCreatePartition", _glue_table("TableName")),
}

# Operations AWS authorizes as several actions, each on its own resources: all must be allowed
# (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html: read the source, write the target).
MULTI_ACTION_OPERATIONS: dict[tuple[str, str], tuple[tuple[str, Resolver], ...]] = {
    ("s3", "CopyObject"): (("s3:GetObject", _copy_source), ("s3:PutObject", _object)),
}

# Operations that need no permission: recorded apart (``CallRecorder.needing_none``), never refused. The CLI
# asks STS who the caller is to name the stack's bucket (https://docs.aws.amazon.com/STS/latest/APIReference/
# API_GetCallerIdentity.html: "No permissions are required to perform this operation").
NO_PERMISSION_OPERATIONS: frozenset[tuple[str, str]] = frozenset({("sts", "GetCallerIdentity")})

# The KMS call a service makes for the caller when the resource is encrypted with the lake key, as deployed
# (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html): action -> (KMS action, the
# service whose host is ``kms:ViaService``).
KEY_USE: dict[str, tuple[str, str]] = {
    "kinesis:PutRecord": ("kms:GenerateDataKey", "kinesis"),
    "kinesis:PutRecords": ("kms:GenerateDataKey", "kinesis"),
    "s3:GetObject": ("kms:Decrypt", "s3"),
    "s3:PutObject": ("kms:GenerateDataKey", "s3"),
    # DynamoDB decrypts the table key with the lake key to read or write an item of a table encrypted with it
    # (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html).
    "dynamodb:GetItem": ("kms:Decrypt", "dynamodb"),
    "dynamodb:DeleteItem": ("kms:Decrypt", "dynamodb"),
}


def _is_list(service: str, operation: str) -> bool:
    return service == "s3" and operation in ("ListObjectsV2", "ListObjects")


def _detail(service: str, operation: str, params: Params) -> str:
    if _is_list(service, operation):
        return f"prefix={params.get('Prefix', '')!r}"
    return ""


def _context(service: str, operation: str, params: Params) -> tuple[tuple[str, str], ...]:
    """The condition keys the request sets: ``s3:prefix`` for a list that names a prefix."""
    if _is_list(service, operation) and params.get("Prefix"):
        return ((S3_PREFIX, str(params["Prefix"])),)
    return ()


# --- the recorder ----------------------------------------------------------------------------------------


@dataclass
class CallRecorder:
    """Records what the clients it is attached to call: ``calls`` (mapped, in order), ``unmapped``, and
    ``needing_none`` (operations AWS authorizes without any permission).

    ``account`` gives the partition and account ID of the ARNs; the region is each client's own."""

    account: Account
    calls: list[ApiCall] = field(default_factory=list)
    unmapped: list[UnmappedCall] = field(default_factory=list)
    needing_none: list[tuple[str, str]] = field(default_factory=list)

    @property
    def _handler_id(self) -> str:
        return f"eventlake-access-{id(self)}"

    def attach(self, client: Any) -> None:
        account = dataclasses.replace(self.account, region=client.meta.region_name)

        def on_call(params: Params, model: Any, **_: Any) -> None:
            self._record(model.service_model.service_name, model.name, params, account)

        client.meta.events.register("before-parameter-build", on_call, unique_id=self._handler_id)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("before-parameter-build", unique_id=self._handler_id)

    @contextmanager
    def recording(self, *clients: Any) -> Iterator[CallRecorder]:
        """Record the clients' calls for the duration of the block only."""
        for client in clients:
            self.attach(client)
        try:
            yield self
        finally:
            for client in clients:
                self.detach(client)

    def _record(self, service: str, operation: str, params: Params, account: Account) -> None:
        # Never raises: an exception here would fail the caller's API call.
        if (service, operation) in NO_PERMISSION_OPERATIONS:
            self.needing_none.append((service, operation))
            return
        single = OPERATIONS.get((service, operation))
        grants = (single,) if single is not None else MULTI_ACTION_OPERATIONS.get((service, operation))
        if grants is None:
            self.unmapped.append(UnmappedCall(service, operation, "no IAM action mapped for this operation"))
            return
        try:
            resolved = [(action, resolve(params, account)) for action, resolve in grants]
        except (LookupError, TypeError, ValueError) as exc:
            self.unmapped.append(
                UnmappedCall(service, operation, f"resource not found in the request: {exc}")
            )
            return
        detail = _detail(service, operation, params)
        context = _context(service, operation, params)
        for action, resources in resolved:
            self.calls.append(
                ApiCall(service, operation, action, resources, account.region, detail=detail, context=context)
            )

    def key_calls(self, key_arn: str) -> list[ApiCall]:
        """The KMS calls AWS services make for the recorded calls, had their resources been encrypted with
        ``key_arn`` (the lake key, as deployed): derived, since no client makes them."""
        derived: list[ApiCall] = []
        for call in self.calls:
            if call.action in KEY_USE:
                kms_action, through = KEY_USE[call.action]
                host = dataclasses.replace(self.account, region=call.region).service_host(through)
                operation = kms_action.split(":", 1)[1]
                derived.append(
                    ApiCall("kms", operation, kms_action, (key_arn,), call.region, via_service=host)
                )
        return derived

    def audit(self, policy: Policy, *, name: str, key_arn: str | None = None) -> AccessReport:
        """Check everything recorded (and, with ``key_arn``, the key calls services make for it)."""
        calls = [*self.calls, *(self.key_calls(key_arn) if key_arn else [])]
        return audit(policy, calls, self.unmapped, name=name)


def audit(
    policy: Policy, calls: Iterable[ApiCall], unmapped: Iterable[UnmappedCall] = (), *, name: str = "policy"
) -> AccessReport:
    """Each distinct call checked once: refused on every resource the policy does not allow it on."""
    distinct = list(dict.fromkeys(calls))
    refused = []
    for call in distinct:
        missing = tuple(
            r
            for r in call.resources
            if not allowed(policy, call.action, r, via_service=call.via_service, context=dict(call.context))
        )
        if missing:
            refused.append(Refusal(call, missing))
    return AccessReport(name, len(distinct), tuple(refused), tuple(dict.fromkeys(unmapped)))


# --- the evaluator ---------------------------------------------------------------------------------------


def allowed(
    policy: Policy,
    action: str,
    resource: str,
    *,
    via_service: str | None = None,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Whether an identity policy allows ``action`` on ``resource``: some Allow statement matches and no
    Deny does (an explicit Deny wins; nothing matching is an implicit deny).

    Actions match case-insensitively, resources case-sensitively, both with ``*`` and ``?`` wildcards
    (an ARN's segments are matched one by one; ``*`` alone is every resource). The conditions modelled are
    ``StringEquals`` and ``StringLike`` (``*`` and ``?`` wildcards) on two keys: ``kms:ViaService``, whose
    statement applies only to a call made through one of the named service hosts (``via_service``), which is
    how services call KMS for the caller (a call the client makes itself has none); and ``s3:prefix``, the
    prefix an S3 list asks for (``context``). A key the request does not set makes its condition false, as
    in IAM; the keys of one condition must all hold, one of each key's values must match. Anything else
    raises ``PolicyNotEvaluable``."""
    values = {k.lower(): v for k, v in (context or {}).items()}
    if via_service is not None:
        values[VIA_SERVICE.lower()] = via_service
    verdict = False
    for statement in _statements(policy):
        if not _applies(statement, action, resource, values):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


_KNOWN_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _applies(statement: Mapping[str, Any], action: str, resource: str, values: Mapping[str, str]) -> bool:
    sid = statement.get("Sid", "<no Sid>")
    unknown = set(statement) - _KNOWN_KEYS
    if unknown:
        raise PolicyNotEvaluable(f"statement {sid}: {sorted(unknown)} not modelled (identity policies only)")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise PolicyNotEvaluable(f"statement {sid}: Effect {statement.get('Effect')!r}")
    if not any(_pattern(p.lower()).fullmatch(action.lower()) for p in _as_list(statement["Action"])):
        return False
    if not any(_resource_matches(p, resource) for p in _as_list(statement["Resource"])):
        return False
    return _condition_holds(sid, statement.get("Condition"), values)


def _condition_holds(sid: str, condition: Mapping[str, Any] | None, values: Mapping[str, str]) -> bool:
    if not condition:
        return True
    holds = True
    for operator, tests in dict(condition).items():
        keys = {k.lower(): v for k, v in dict(tests or {}).items()}
        if operator not in _OPERATORS or not keys or not set(keys) <= _CONDITION_KEYS:
            raise PolicyNotEvaluable(
                f"statement {sid}: condition {condition} not modelled (only {VIA_SERVICE} and {S3_PREFIX},"
                f" with {' or '.join(sorted(_OPERATORS))})"
            )
        for key, wanted in keys.items():
            actual = values.get(key)
            if actual is None:
                holds = False
            elif operator == "StringEquals":
                holds = holds and actual in _as_list(wanted)
            else:
                holds = holds and any(_pattern(w).fullmatch(actual) for w in _as_list(wanted))
    return holds


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    wanted, actual = pattern.split(":", 5), resource.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return _pattern(pattern).fullmatch(resource) is not None
    return all(_pattern(w).fullmatch(a) for w, a in zip(wanted, actual, strict=True))


@cache
def _pattern(glob: str) -> re.Pattern[str]:
    """``*``: any run of characters, ``?``: any one; everything else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob), re.S)
