"""DynamoDB's JSON 1.0 protocol, spoken directly: the claim store's calls without botocore's shape walking.

The claim store's work is CPU, not latency: ~1.3 ms per ``BatchExecuteStatement`` of 25 statements through
boto3, mostly botocore walking the model's shapes to serialise 100 typed parameters and to parse the answer,
its signer, and its per-request machinery, all under the GIL. The parameters are already DynamoDB's typed wire
form (``{"S": ...}``), so the body is just them as JSON
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html): ``orjson``
writes it, a small SigV4 signer (below) signs it, and ``orjson`` reads the answer.

Only botocore's public surface is used, so the Lambda runtime's unpinned botocore cannot break it by renaming
an internal: the client's ``meta`` (events, service model, endpoint URL, region, config), its modelled
exceptions, ``AWSPreparedRequest``/``AWSResponse``, and credentials the caller hands in (a session's
``get_credentials()``). The signer is the project's own because botocore's public ``SigV4Auth`` costs ~8x its
CPU per call (its headers are ``email.message`` objects, its key derived four HMACs a call), more than the
claim store's whole 10 % speed budget; the tests hold it to ``SigV4Auth``'s signature for the same request.

It stays a drop-in for whatever hooks the client, because it emits the client's own events, in botocore's
order, through the public ``client.meta.events``: ``provide-client-params`` and ``before-parameter-build``
(the IAM access check records calls there), ``before-call`` (``botocore.stub.Stubber`` and the local runner's
in-process handlers answer there with ``(http_response, parsed)``), ``before-send`` with the signed
``AWSPreparedRequest`` (moto and the bench's double answer there), then, if nobody answered, a ``Transport``
of its own (a ``botocore.httpsession.URLLib3Session`` built from the client's config: timeouts, pool size,
proxies; the tests swap it), and ``after-call``. Not emitted: ``request-created`` (botocore's signer hangs
there; this signs itself) and ``needs-retry``: one attempt per call. Nothing here sends a request twice: an
error raises, with ``ClientError`` shaped as botocore's (``Error.Code`` from ``__type``, ``Error.Message``,
modelled members such as ``Item`` at the top level), and the caller's one retry helper decides
(``claims.retried``).

The endpoint is the client's own ``meta.endpoint_url`` (the regional endpoint, or the one it was given), so
DynamoDB's optional account-based endpoints are not used, and a client configured to require them is called
through its methods. Answers keep the wire's values: an attribute of type ``B`` stays base64 text (botocore
would decode it). A client this cannot speak for (another service, protocol or signature version, no
credentials given, or not a botocore client) gets its calls through its own methods, decided once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.credentials import Credentials

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
# What the signer sets itself, replacing any given value (as SigV4Auth.add_auth does).
_REPLACED = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# hashlib hashes a buffer this long or longer with the GIL released (CPython's HASHLIB_GIL_MINSIZE).
_GIL_FREE_BYTES = 2048

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


class Transport(Protocol):
    """What sends a signed request when no hook answered it: ``URLLib3Session``'s ``send`` (one attempt, no
    retries of its own). The tests swap in their own."""

    def send(self, request: AWSPreparedRequest) -> AWSResponse: ...


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
    """The endpoint joined with the operation's path, ``/``, as botocore joins them."""
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(endpoint_url)
    return urlunsplit((p.scheme, p.netloc, p.path or "/", p.query, p.fragment))


def _timestamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def http_session(config: Any, endpoint_url: str, *, verify: bool | str | None = None) -> Transport:
    """A ``URLLib3Session`` as botocore builds the client's own from its config (connect and read timeouts,
    pool size, proxies, client certificate, TCP keep-alive). ``verify``: a CA bundle's path, or False; by
    default ``AWS_CA_BUNDLE``, else ``REQUESTS_CA_BUNDLE``, else the system's and certifi's, as botocore."""
    import os
    import socket

    from botocore.httpsession import URLLib3Session
    from botocore.utils import get_environ_proxies

    if verify is None:
        verify = os.environ.get("AWS_CA_BUNDLE") or os.environ.get("REQUESTS_CA_BUNDLE") or True
    socket_options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    if config.tcp_keepalive:
        socket_options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
    session: Transport = URLLib3Session(
        verify=verify,
        proxies=config.proxies or get_environ_proxies(endpoint_url),
        timeout=(config.connect_timeout, config.read_timeout),
        max_pool_connections=config.max_pool_connections,
        socket_options=socket_options,
        client_cert=config.client_cert,
        proxies_config=config.proxies_config,
    )
    return session


def _user_agent(config: Any) -> str:
    """botocore's user agent for this environment and config, through its public ``useragent`` module."""
    try:
        from botocore.useragent import UserAgentString
    except ImportError:  # a botocore older than its user agent module (2023)
        import botocore

        return f"Botocore/{botocore.__version__}"
    return str(UserAgentString.from_environment().with_client_config(config).to_string())


class JsonCalls:
    """A botocore DynamoDB client's operations called with wire-form parameters (see the module docstring).

    ``call(operation, params)`` returns what ``client.<operation>(**params)`` would (``ResponseMetadata``
    included), raises the client's modelled ``ClientError`` for an error answer, and the transport's
    exception for a failed send; it never sends twice. ``credentials`` must be the ones the client signs
    with (a session's ``get_credentials()``; refreshed as they near expiry). Thread-safe: nothing is shared
    between calls but caches and the transport's connection pool."""

    def __init__(
        self,
        client: Any,
        credentials: Credentials,
        *,
        transport: Transport | None = None,
        timestamp: Callable[[], str] = _timestamp,
    ) -> None:
        meta = client.meta
        self._exceptions = client.exceptions
        self._events = meta.events
        self._service = meta.service_model
        self._service_id = self._service.service_id.hyphenize()
        self._target = self._service.metadata["targetPrefix"]
        self._region = meta.region_name
        self._signing_name = self._service.signing_name
        self._config = meta.config
        self._url = _request_url(meta.endpoint_url)
        self._signing_credentials = credentials
        self._transport = transport or http_session(meta.config, meta.endpoint_url)
        self._user_agent = _user_agent(meta.config)
        self._timestamp = timestamp
        self._sigv4 = SigV4()
        self._models: dict[str, Any] = {}
        from botocore.awsrequest import AWSPreparedRequest, HeadersDict

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
            "client_region": self._region,
            "client_config": self._config,
            "has_streaming_input": False,
            "auth_type": getattr(model, "resolved_auth_type", None),
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
        request_dict = {
            "url_path": "/",
            "query_string": "",
            "method": "POST",
            "headers": {
                "X-Amz-Target": f"{self._target}.{operation}",
                "Content-Type": CONTENT_TYPE,
                "User-Agent": self._user_agent,
            },
            "body": orjson.dumps(params),
            "url": self._url,
            "context": context,
        }
        _, answered = events.emit_until_response(
            f"before-call.{service_id}.{operation}",
            model=model,
            params=request_dict,
            request_signer=None,  # botocore passes its signer; this client's is not public
            context=context,
        )
        if answered is not None:
            http, parsed = answered
        else:
            try:
                http, parsed = self._send(operation, request_dict)
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
            raise self._exceptions.from_code(code)(parsed, operation)
        return parsed

    def _send(self, operation: str, request_dict: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Sign, offer to ``before-send``, else send once through the transport; parse the answer."""
        context = request_dict["context"]
        frozen = self._signing_credentials.get_frozen_credentials()  # refreshes credentials about to expire
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
                region=self._region,
                service=self._signing_name,
                timestamp=timestamp,
            )
        )
        wire = self._headers({k: v.encode() if isinstance(v, str) else v for k, v in headers.items()})
        wire["Content-Length"] = str(len(body))
        request = self._prepared("POST", request_dict["url"], wire, body, False)
        request.context = context
        answers = self._events.emit(f"before-send.{self._service_id}.{operation}", request=request)
        http = next((r for _, r in answers if r is not None), None)
        if http is None:
            http = self._transport.send(request)
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


def speaks_for(client: Any) -> bool:
    """Whether ``JsonCalls`` can make ``client``'s calls as the client would: a botocore DynamoDB client of
    JSON 1.0 signing with SigV4, with a region, not required to use account-based endpoints."""
    try:
        meta = client.meta
        service = meta.service_model
        config = meta.config
        return (
            service.service_name == "dynamodb"
            and service.resolved_protocol == "json"
            and service.metadata.get("jsonVersion") == "1.0"
            and (config.signature_version or service.signature_version) == "v4"
            and bool(meta.region_name)
            and bool(meta.endpoint_url)
            and getattr(config, "account_id_endpoint_mode", None) != "required"
        )
    except AttributeError:
        return False


def calls(client: Any, credentials: Credentials | None = None, *, transport: Transport | None = None) -> Call:
    """``JsonCalls`` for a client it ``speaks_for``, given the client's ``credentials``; otherwise the
    client's own methods (``call("BatchGetItem", params)`` -> ``client.batch_get_item(**params)``): slower,
    never wrong. Decided here, once: a call never changes path after it may have been sent."""
    if credentials is not None and speaks_for(client):
        return JsonCalls(client, credentials, transport=transport)

    def through_methods(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from botocore import xform_name

        result: dict[str, Any] = getattr(client, xform_name(operation))(**params)
        return result

    return through_methods
