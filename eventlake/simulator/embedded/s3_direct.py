"""S3 ``PutObject`` and ``GetObject`` answered in-process from moto's S3 backend (``direct_calls``).

A production hour writes and mirrors about 6,000 objects a run. Through moto each call went through its
request parsing, its URL dispatch (which reloads a module per request) and the XML and header round trip:
about 7 ms per object. Here the plain form of each call (``Bucket``, ``Key`` and, for a put, ``Body`` bytes:
what the Firehose model and the mirror send) is answered by the same backend methods moto's S3 responses call,
in the order moto calls them, and the response headers moto would send are parsed by botocore's own parser:
what the caller gets is what moto's answer parses to, and the object in moto's bucket is the one moto would
have stored (its checksum, ACL, metadata, storage class). Anything else (other parameters, a missing bucket
or key, object lock, a checksum other than botocore's default CRC32 trailer) is left to moto.

AWS's contract: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html and API_GetObject.html.
"""

from __future__ import annotations

import base64
import io
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any

from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from botocore.response import StreamingBody
from moto.s3.models import S3Backend, s3_backends
from moto.s3.utils import metadata_from_headers

from eventlake.simulator.embedded import direct_calls

_PUT_PARAMS = frozenset({"Bucket", "Key", "Body"})
_GET_PARAMS = frozenset({"Bucket", "Key"})
_CHECKSUM_MODE = "ChecksumMode"  # botocore adds ChecksumMode=ENABLED to every GetObject (it validates them)
# botocore's default request checksum for a streaming body over HTTPS: CRC32, sent as an aws-chunked trailer.
_CRC32 = {"algorithm": "crc32", "in": "trailer", "name": "x-amz-checksum-crc32"}
# The headers of such a request that moto keeps as the object's metadata (``metadata_from_headers``).
_TRAILER_REQUEST_HEADERS = {
    "Content-Type": "binary/octet-stream",
    "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
}
_ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def _crc32(body: bytes) -> str:
    return base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode("ascii")


def _bytes(body: Any) -> bytes | None:
    """The body botocore would send: bytes as given (its S3 handlers wrap them in a ``BytesIO`` first)."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, io.BytesIO) and body.tell() == 0:
        return body.getvalue()
    return None


def put_object(
    backend: S3Backend, client: Any, params: Mapping[str, Any], context: Mapping[str, Any]
) -> dict[str, Any] | None:
    """moto's ``S3Response.put_object`` for a plain put, or None to let moto answer."""
    body = _bytes(params.get("Body"))
    if set(params) - _PUT_PARAMS or body is None:
        return None
    checksum = context.get("checksum", {}).get("request_algorithm")
    if checksum is not None and checksum != _CRC32:
        return None
    bucket = backend.buckets.get(params["Bucket"])
    if bucket is None or bucket.object_lock_enabled:
        return None
    headers: dict[str, Any] = {}
    value = None
    if checksum is not None:
        value = _crc32(body)
        headers[checksum["name"]] = value
    key = backend.put_object(
        bucket.name,
        params["Key"],
        body,
        storage="STANDARD",
        encryption=None,
        kms_key_id=None,
        bucket_key_enabled=None,
        lock_mode=None,
        lock_legal_status=None,
        lock_until=None,
        checksum_value=value,
    )
    key.set_metadata(metadata_from_headers(_TRAILER_REQUEST_HEADERS if checksum else {}))
    key.set_acl(bucket.acl)
    key.website_redirect_location = None
    if checksum is not None:
        key.checksum_algorithm = "CRC32"
    backend.put_object_tagging(key, {})
    headers.update(key.response_dict)
    headers.pop("content-length", None)
    return _parsed(client, "PutObject", headers, b"")


def get_object(backend: S3Backend, client: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """moto's ``S3Response.get_object`` for a plain get of an existing object, or None to let moto answer."""
    mode = params.get(_CHECKSUM_MODE)
    if set(params) - {_CHECKSUM_MODE} != _GET_PARAMS or mode not in (None, "ENABLED"):
        return None
    bucket = backend.buckets.get(params["Bucket"])
    key = bucket.keys.get(params["Key"]) if bucket is not None else None
    if key is None or key.storage_class in _ARCHIVED or getattr(key, "is_deleted", False):
        return None
    headers: dict[str, Any] = {}
    if key.version_id != "null":
        headers["x-amz-version-id"] = key.version_id
    headers.update(key.response_dict)
    if mode == "ENABLED" and key.checksum_algorithm:
        checksum = key.checksum_value
        if key.checksum_type == "COMPOSITE":
            checksum = f"{key.checksum_value}-{key.checksum_parts}"
        headers[f"x-amz-checksum-{key.checksum_algorithm.lower()}"] = checksum
        if key.checksum_type:
            headers["x-amz-checksum-type"] = key.checksum_type
    headers.update(key.metadata)
    headers["Accept-Ranges"] = "bytes"
    body = key.value
    return _parsed(client, "GetObject", headers, StreamingBody(io.BytesIO(body), len(body)))


def _parsed(client: Any, operation: str, headers: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """What botocore's parser makes of a 200 response with these headers and body."""
    http = HeadersDict()
    for name, value in headers.items():
        http[name] = str(value)
    shape = client.meta.service_model.operation_model(operation).output_shape
    parser = create_parser(client.meta.service_model.protocol)
    parsed: dict[str, Any] = parser.parse({"status_code": 200, "headers": http, "body": body}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


@contextmanager
def attached(client: Any, account_id: str) -> Iterator[None]:
    """``client`` (an S3 client of the embedded AWS) has its plain puts and gets answered in-process."""
    backend = s3_backends[account_id]["aws"]
    handlers = {
        "PutObject": direct_calls.with_context(partial(put_object, backend, client)),
        "GetObject": partial(get_object, backend, client),
    }
    with direct_calls.attached(client, handlers):
        yield
