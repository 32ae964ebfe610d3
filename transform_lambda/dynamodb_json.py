"""DynamoDB's JSON 1.0 protocol, spoken directly: the claim store's calls without botocore's shape walking.

The claim store's work is CPU, not latency: ~1.3 ms per ``BatchExecuteStatement`` of 25 statements through
boto3, mostly botocore walking the model's shapes to serialise 100 typed parameters and to parse the answer,
its signer, and its per-request machinery, all under the GIL. The parameters are already DynamoDB's typed wire
form (``{"S": ...}``), so the body is just them as JSON
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html): ``orjson``
writes it, a small SigV4 signer (below, checked against ``botocore.auth.SigV4Auth`` by the tests) signs it,
and ``orjson`` reads the answer.

It stays a drop-in for whatever hooks the client, because it emits the client's own events in botocore's
order, with botocore's keyword arguments (``botocore.client.BaseClient._make_api_call``, ``endpoint.py``):
``provide-client-params`` and ``before-parameter-build`` (the IAM access check records calls there),
``before-call`` (``botocore.stub.Stubber`` and the local runner's in-process handlers answer there with
``(http_response, parsed)``), ``before-send`` with the signed ``AWSPreparedRequest`` (moto and the bench's
double answer there), then, if nobody answered, the client's own HTTP session (its pool, proxies, timeouts),
and ``after-call``. Not emitted: ``request-created`` (botocore's signer hangs there; this signs itself) and
``needs-retry``: one attempt per call, and an error raises, with ``ClientError`` shaped as botocore's
(``Error.Code`` from ``__type``, ``Error.Message``, modelled members such as ``Item`` at the top level), for
the caller's own backoff (``DynamoClaims`` retries every call).

Answers keep the wire's values: an attribute of type ``B`` stays base64 text (botocore would decode it). The
endpoint comes from the client's ruleset once per operation and table names. A client this cannot speak for
(another protocol or signature version, or not a botocore client) gets its calls through its own methods.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

CONTENT_TYPE = "application/x-amz-json-1.0"
ALGORITHM = "AWS4-HMAC-SHA256"
# Headers botocore's SigV4 never signs (botocore.auth.SIGNED_HEADERS_BLACKLIST).
UNSIGNED_HEADERS = frozenset(
    {
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
# What the signer sets itself, replacing any given value (botocore's _modify_request_before_signing).
_REPLACED = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# hashlib hashes a buffer this long or longer with the GIL released (CPython's HASHLIB_GIL_MINSIZE).
_GIL_FREE_BYTES = 2048

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


class SigV4:
    """AWS Signature Version 4 for a request with its body in hand
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), as botocore's
    ``SigV4Auth`` signs a non-S3 request: every header but the unsigned ones, plus ``host``, the body's
    SHA-256 in the canonical request, no ``X-Amz-Content-SHA256`` header. The derived key is cached per date,
    region, service and secret: four HMACs saved per request."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str, str, str], bytes] = {}
        self._urls: dict[str, tuple[str, str, str]] = {}

    def headers(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        access_key: str,
        secret_key: str,
        token: str | None,
        region: str,
        service: str,
        timestamp: str,
    ) -> dict[str, str]:
        """The headers to add to ``headers`` (``X-Amz-Date``, the token if any, ``Authorization``) for a
        request signed at ``timestamp`` (``YYYYMMDDTHHMMSSZ``, UTC)."""
        host, path, query = self._url_parts(url)
        added = {"X-Amz-Date": timestamp}
        if token:
            added["X-Amz-Security-Token"] = token
        signed: dict[str, list[str]] = {}
        for name, value in headers.items():
            lower = name.lower()
            if lower not in UNSIGNED_HEADERS and lower not in _REPLACED:
                signed.setdefault(lower, []).append(" ".join(str(value).split()))
        for name, value in added.items():
            signed[name.lower()] = [value]
        signed.setdefault("host", [host])
        names = sorted(signed)
        canonical_headers = "".join(f"{n}:{','.join(signed[n])}\n" for n in names)
        signed_names = ";".join(names)
        canonical = "\n".join(
            (
                method.upper(),
                path,
                query,
                canonical_headers,
                signed_names,
                _sha256(body),
            )
        )
        date = timestamp[:8]
        scope = f"{date}/{region}/{service}/aws4_request"
        to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(secret_key, date, region, service), to_sign.encode(), "sha256")
        added["Authorization"] = (
            f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={signed_names}, "
            f"Signature={signature.hexdigest()}"
        )
        return added

    def _key(self, secret_key: str, date: str, region: str, service: str) -> bytes:
        cache_key = (date, region, service, secret_key)
        key = self._keys.get(cache_key)
        if key is None:
            key = f"AWS4{secret_key}".encode()
            for part in (date, region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), "sha256").digest()
            if len(self._keys) > 16:  # old dates and rotated secrets
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    def _url_parts(self, url: str) -> tuple[str, str, str]:
        """(host header, canonical URI, canonical query string) as botocore derives them."""
        parts = self._urls.get(url)
        if parts is None:
            from urllib.parse import quote, urlsplit

            split = urlsplit(url)
            host = split.hostname or ""
            if ":" in host:
                host = f"[{host}]"  # IPv6
            if split.port is not None and split.port != _DEFAULT_PORTS.get(split.scheme):
                host = f"{host}:{split.port}"
            path = quote(_normalize_path(split.path), safe="/~")
            pairs = sorted(pair.partition("=")[::2] for pair in split.query.split("&") if split.query)
            parts = self._urls[url] = (host, path, "&".join(f"{k}={v}" for k, v in pairs))
        return parts


def _sha256(body: bytes) -> str:
    """The body's SHA-256, fed in pieces under 2 KiB: for a larger piece hashlib releases the GIL, and with
    the claim store's threads each release is a wait for every other thread's turn (a convoy), not a gain."""
    if len(body) < _GIL_FREE_BYTES:
        return hashlib.sha256(body).hexdigest()
    digest = hashlib.sha256()
    view = memoryview(body)
    for start in range(0, len(body), _GIL_FREE_BYTES - 1):
        digest.update(view[start : start + _GIL_FREE_BYTES - 1])
    return digest.hexdigest()


def _normalize_path(path: str) -> str:
    """RFC 3986's remove_dot_segments, as botocore.utils.normalize_url_path (the endpoint's own path)."""
    if not path:
        return "/"
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
        else:
            out.append(part)
    normalized = "/" + "/".join(out)
    return normalized + "/" if path.endswith("/") and normalized != "/" else normalized


def _request_url(endpoint_url: str) -> str:
    """The endpoint joined with the operation's path, ``/``, as botocore's ``_urljoin`` does."""
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(endpoint_url)
    return urlunsplit((p.scheme, p.netloc, p.path or "/", p.query, p.fragment))


def _timestamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


class JsonCalls:
    """A botocore DynamoDB client's operations called with wire-form parameters (see the module docstring).

    ``call(operation, params)`` returns what ``client.<operation>(**params)`` would (``ResponseMetadata``
    included), raises the client's modelled ``ClientError`` for an error answer, and the transport's
    exception for a failed send. Thread-safe: nothing is shared between calls but caches."""

    def __init__(self, client: Any, *, timestamp: Callable[[], str] = _timestamp) -> None:
        from botocore.awsrequest import AWSPreparedRequest, HeadersDict

        self._client = client
        self._events = client.meta.events
        self._service = client.meta.service_model
        self._service_id = self._service.service_id.hyphenize()
        self._target = self._service.metadata["targetPrefix"]
        self._signer = client._request_signer
        self._config = client.meta.config
        self._http = client._endpoint.http_session
        self._user_agent = client._user_agent_creator.to_string()
        self._timestamp = timestamp
        self._sigv4 = SigV4()
        self._models: dict[str, Any] = {}
        self._endpoints: dict[tuple[Any, ...], tuple[str, dict[str, Any], dict[str, Any]]] = {}
        self._prepared = AWSPreparedRequest
        self._headers = HeadersDict

    def __call__(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        return self.call(operation, params)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        model = self._models.get(operation)
        if model is None:
            model = self._models[operation] = self._service.operation_model(operation)
        service_id, events = self._service_id, self._events
        context: dict[str, Any] = {
            "client_region": self._client.meta.region_name,
            "client_config": self._config,
            "has_streaming_input": False,
            "auth_type": model.resolved_auth_type,
            "unsigned_payload": model.unsigned_payload,
            "auth_options": self._service.metadata.get("auth"),
        }
        provided = events.emit(
            f"provide-client-params.{service_id}.{operation}", params=params, model=model, context=context
        )
        params = next((r for _, r in provided if r is not None), params)
        events.emit(
            f"before-parameter-build.{service_id}.{operation}", params=params, model=model, context=context
        )
        url, endpoint_headers = self._endpoint(model, params, context)
        headers = {
            "X-Amz-Target": f"{self._target}.{operation}",
            "Content-Type": CONTENT_TYPE,
            "User-Agent": self._user_agent,
            **endpoint_headers,
        }
        request_dict = {
            "url_path": "/",
            "query_string": "",
            "method": "POST",
            "headers": headers,
            "body": orjson.dumps(params),
            "url": url,
            "context": context,
        }
        _, answered = events.emit_until_response(
            f"before-call.{service_id}.{operation}",
            model=model,
            params=request_dict,
            request_signer=self._signer,
            context=context,
        )
        if answered is not None:
            http, parsed = answered
        else:
            try:
                http, parsed = self._send(operation, model, request_dict)
            except Exception as exc:
                events.emit(f"after-call-error.{service_id}.{operation}", exception=exc, context=context)
                raise
        events.emit(
            f"after-call.{service_id}.{operation}",
            http_response=http,
            parsed=parsed,
            model=model,
            context=context,
        )
        if http.status_code >= 300:
            code = context.get("error_code_override") or parsed.get("Error", {}).get("Code")
            raise self._client.exceptions.from_code(code)(parsed, operation)
        return parsed

    def _endpoint(
        self, model: Any, params: Mapping[str, Any], context: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The request URL and extra headers from the client's own endpoint resolution (its ruleset: region,
        FIPS, dual-stack, account-based endpoints), with what it sets in the request context (auth type,
        signing region and name); resolved once per operation and the table names it may depend on (~45 µs
        a call otherwise)."""
        key = (model.name, params.get("TableName"), tuple(params.get("RequestItems") or ()))
        resolved = self._endpoints.get(key)
        if resolved is None:
            before = dict(context)
            url, headers, properties = self._client._resolve_endpoint_ruleset(model, params, context)
            if properties:
                context["endpoint_properties"] = properties
            changes = {k: v for k, v in context.items() if k not in before or before[k] is not v}
            resolved = self._endpoints[key] = (_request_url(url), dict(headers), changes)
        url, headers, changes = resolved
        for name, value in changes.items():
            context[name] = dict(value) if isinstance(value, dict) else value
        return url, headers

    def _send(self, operation: str, model: Any, request_dict: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Sign, offer to ``before-send``, else send with the client's HTTP session; parse the answer."""
        context = request_dict["context"]
        credentials = self._signer._credentials
        if credentials is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        frozen = credentials.get_frozen_credentials()  # refreshes credentials about to expire
        signing = context.get("signing", {})
        headers: dict[str, Any] = request_dict["headers"]
        body: bytes = request_dict["body"]
        timestamp = self._timestamp()
        context["timestamp"] = timestamp
        headers.update(
            self._sigv4.headers(
                "POST",
                request_dict["url"],
                headers,
                body,
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                token=frozen.token,
                region=signing.get("region") or self._signer.region_name,
                service=signing.get("signing_name") or self._signer.signing_name,
                timestamp=timestamp,
            )
        )
        wire = self._headers({k: v.encode() if isinstance(v, str) else v for k, v in headers.items()})
        wire["Content-Length"] = str(len(body))
        request = self._prepared("POST", request_dict["url"], wire, body, False, context)
        answers = self._events.emit(f"before-send.{self._service_id}.{operation}", request=request)
        http = next((r for _, r in answers if r is not None), None)
        if http is None:
            http = self._http.send(request)
        return http, _parse(http)


def _parse(http: Any) -> dict[str, Any]:
    """The response as botocore's JSON parser leaves it, from the wire's JSON as is."""
    content: bytes = http.content
    response_headers = http.headers
    crc = response_headers.get("x-amz-crc32")
    if crc is not None:
        import zlib

        if int(crc) != zlib.crc32(content):  # what botocore's DynamoDB retry checker verifies
            from botocore.exceptions import ChecksumError

            raise ChecksumError(
                checksum_type="crc32", expected_checksum=crc, actual_checksum=zlib.crc32(content)
            )
    status = http.status_code
    metadata: dict[str, Any] = {}
    request_id = response_headers.get("x-amzn-requestid")
    if request_id is not None:
        metadata["RequestId"] = request_id
    metadata["HTTPStatusCode"] = status
    metadata["HTTPHeaders"] = {k.lower(): v for k, v in response_headers.items()}
    metadata["RetryAttempts"] = 0
    if status < 300:
        parsed = orjson.loads(content) if content else {}
        parsed["ResponseMetadata"] = metadata
        return parsed
    if status >= 500 and (not content.strip() or content.strip().startswith(b"<html>")):
        # A proxy's or load balancer's page, not DynamoDB's JSON: botocore's generic error.
        from http.client import responses

        generic = {"Code": str(status), "Message": responses.get(status, "")}
        return {"Error": generic, "ResponseMetadata": metadata}
    try:
        body = orjson.loads(content) if content else {}
    except orjson.JSONDecodeError:
        body = {"message": content.decode("utf-8", "replace")}
    if not isinstance(body, dict):
        body = {"message": content.decode("utf-8", "replace")}
    code = str(body.get("__type", status))
    code = code.split(":", 1)[0].rsplit("#", 1)[-1]
    parsed = {k: v for k, v in body.items() if k != "__type"}
    parsed["Error"] = {"Message": body.get("message", body.get("Message", "")), "Code": code}
    parsed["ResponseMetadata"] = metadata
    return parsed


def calls(client: Any) -> Call:
    """``JsonCalls`` for a botocore DynamoDB client that speaks JSON 1.0 with SigV4; otherwise the client's
    own methods (``call("BatchGetItem", params)`` -> ``client.batch_get_item(**params)``)."""
    try:
        service = client.meta.service_model
        eligible = (
            service.service_name == "dynamodb"
            and service.resolved_protocol == "json"
            and service.metadata.get("jsonVersion") == "1.0"
            and client._request_signer.signature_version == "v4"
        )
    except AttributeError:
        eligible = False

    def through_methods(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from botocore import xform_name

        return getattr(client, xform_name(operation))(**params)

    if not eligible:
        return through_methods
    try:
        direct: JsonCalls | None = JsonCalls(client)
    except AttributeError:  # a botocore without the internals read here (the Lambda runtime ships its own)
        return through_methods

    def guarded(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """The direct path, and the client's methods for good once it meets a botocore whose internals it
        does not know (an attribute gone, a signature changed): slower, never wrong."""
        nonlocal direct
        if direct is not None:
            try:
                return direct.call(operation, params)
            except (AttributeError, TypeError):
                direct = None
        return through_methods(operation, params)

    return guarded
