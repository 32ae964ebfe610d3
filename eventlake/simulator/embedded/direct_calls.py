"""Answer a client's hottest calls in-process, at botocore's ``before-call`` event, from moto's own backends.

moto answers every call by serialising the request, dispatching it through its generic request parser and
serialising a response that botocore then parses again: for a ``PutRecords`` of 500 records that was ~190 µs
per record, more than the pipeline's own work. botocore emits ``before-call`` after it has validated and
serialised the request and before it sends it; a handler that returns ``(http_response, parsed)`` ends the
call there, exactly as ``botocore.stub.Stubber`` does. The calling code is unchanged (the same client, the
same method, the same validation and ``before-parameter-build`` hooks, e.g. ``eventlake.checks.access``);
only the transport behind it is shorter. A handler answers the common, well-formed case and returns ``None``
for anything else (an unknown resource, a limit crossed, an option it does not model), which hands the call
to moto unchanged: errors stay moto's, state stays in moto's backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

# The API parameters of the call in flight, kept in botocore's per-request context.
_PARAMS = "eventlake.direct_params"
HTTP_OK = 200

# API params -> the parsed response (what botocore's parser would have produced), or None: let moto answer.
DirectHandler = Callable[[Mapping[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class DirectContextHandler:
    """A handler that also reads botocore's request context (API params, context): e.g. the request checksum
    botocore resolved for the call, which it would otherwise compute and send."""

    answer: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any] | None]


def with_context(
    handler: Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any] | None],
) -> DirectContextHandler:
    return DirectContextHandler(handler)


def parsed(body: dict[str, Any]) -> dict[str, Any]:
    """A response as botocore hands it back: the body's fields and the metadata every response carries."""
    body["ResponseMetadata"] = {"HTTPStatusCode": HTTP_OK, "HTTPHeaders": {}, "RetryAttempts": 0}
    return body


@contextmanager
def attached(client: Any, handlers: Mapping[str, DirectHandler | DirectContextHandler]) -> Iterator[None]:
    """Answer ``handlers``' operations (by API name, e.g. ``PutRecords``) of ``client`` in-process."""
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    registered: list[tuple[str, str]] = []

    def keep(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = params

    for operation, handler in handlers.items():

        def answer(
            context: dict[str, Any], handler: DirectHandler | DirectContextHandler = handler, **_: Any
        ) -> tuple[AWSResponse, dict[str, Any]] | None:
            params = context.pop(_PARAMS, None)
            if params is None:
                return None
            if isinstance(handler, DirectContextHandler):
                body = handler.answer(params, context)
            else:
                body = handler(params)
            if body is None:
                return None
            return AWSResponse(None, HTTP_OK, {}, None), parsed(body)

        keep_id, answer_id = f"eventlake-keep-{operation}", f"eventlake-answer-{operation}"
        events.register(f"before-parameter-build.{service}.{operation}", keep, unique_id=keep_id)
        events.register_first(f"before-call.{service}.{operation}", answer, unique_id=answer_id)
        registered += [
            (f"before-parameter-build.{service}.{operation}", keep_id),
            (f"before-call.{service}.{operation}", answer_id),
        ]
    try:
        yield
    finally:
        for event, unique_id in registered:
            events.unregister(event, unique_id=unique_id)
