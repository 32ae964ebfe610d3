"""The embedded AWS behind an HTTP endpoint, for tests that drive commands as users do (``--endpoint-url``).

moto's threaded server (``moto[server]``: Flask, Werkzeug) is a test dependency, not a runtime one: the
demo and the local runner use moto in process (``eventlake.simulator.embedded.aws.embedded_aws``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from aws_contract import limits
from eventlake.simulator.embedded import dynamodb_partiql, eventbridge
from eventlake.simulator.embedded.aws import EmbeddedAws, create_stack_resources, fake_credentials
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from partition_registrar.registrar_handler import Registrar, created_objects


@contextmanager
def embedded_aws_server(
    settings: Settings, spec: DeliverySpec, *, region: str
) -> Iterator[tuple[EmbeddedAws, str]]:
    """moto's threaded server in this process, with the stack's resources created: yields the clients (bound
    to the endpoint) and the endpoint URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    with fake_credentials(region):
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            reset(endpoint)  # moto's server keeps its backends in this process: start from nothing
            with dynamodb_partiql.installed():
                yield create_stack_resources(settings, spec, region, endpoint_url=endpoint), endpoint
            reset(endpoint)
        finally:
            server.stop()


def reset(endpoint: str) -> None:
    """moto's documented reset call: every service's state is dropped."""
    with urlopen(Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10):
        pass


def stream_records(aws: EmbeddedAws) -> list[dict[str, Any]]:
    """Every record on the stack's stream, shard by shard from the start, each with its ``ShardId``."""
    out: list[dict[str, Any]] = []
    for shard in aws.kinesis.list_shards(StreamName=aws.stream_name)["Shards"]:
        iterator = aws.kinesis.get_shard_iterator(
            StreamName=aws.stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = aws.kinesis.get_records(ShardIterator=iterator, Limit=limits.GET_RECORDS_MAX_RECORDS)
            out += [{**r, "ShardId": shard["ShardId"]} for r in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return out


def upload_lake(aws: EmbeddedAws, lake: Path) -> None:
    """Every object of a demo's mirror into the stack's bucket, each announced to the registrar as S3 ->
    EventBridge would (as deployed): ``check``/``query --bucket`` read the Glue catalog, not a listing."""
    registrar = Registrar(aws.glue, aws.spec.database_name, aws.spec.table_name)
    for sequencer, path in enumerate(sorted(lake.rglob("*"))):
        if path.is_file() and not path.name.startswith("."):
            key, body = path.relative_to(lake).as_posix(), path.read_bytes()
            aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=body)
            event = eventbridge.object_created(
                bucket=aws.bucket,
                key=key,
                size=len(body),
                when_ms=0,
                account=aws.account.account_id,
                region=aws.region,
                sequencer=sequencer,
            )
            registrar.register(created_objects(event))
