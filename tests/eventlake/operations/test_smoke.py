"""``eventlake smoke`` against the embedded AWS behind an endpoint, with the Firehose model delivering what
it sends, as the deployed delivery stream would."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from embedded_server import embedded_aws_server

from eventlake.cli.main import main
from eventlake.simulator.embedded.aws import EmbeddedAws
from eventlake.simulator.firehose.model import FirehoseModel, lambda_invoke
from infra.delivery_spec import DeliverySpec
from infra.settings import Settings
from transform_lambda.claims import DynamoClaims

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def stack() -> Iterator[tuple[EmbeddedAws, str]]:
    settings = Settings.from_stack_file("dev")
    with embedded_aws_server(settings, DeliverySpec.from_settings(settings), region="eu-west-1") as served:
        yield served


def deliver_while(aws: EmbeddedAws, running: threading.Event, *, break_it: bool = False) -> None:
    """The delivery stream: read the stream and deliver, again and again, while the smoke test waits."""
    settings = Settings.from_stack_file("dev")
    claims = DynamoClaims(aws.dynamodb, aws.claims_table or "", ttl_seconds=3600, sleep=lambda _: None)
    invoke = lambda_invoke(claims, lambda _: None, function_name=settings.function_name)
    if break_it:  # a Lambda that loses the first transformed record of each batch: the smoke test must notice
        real = invoke

        def invoke(event: Any) -> Any:
            # The first Ok record, not the last record: a batch may end with the malformed record, whose loss
            # (Firehose files a missing record id under processing-failed too) the smoke test cannot see.
            records = real(event)["records"]
            lost = next((i for i, r in enumerate(records) if r["result"] == "Ok"), None)
            return {"records": records if lost is None else records[:lost] + records[lost + 1 :]}

    model = FirehoseModel(aws, aws.spec, invoke=invoke, rng=random.Random(1))
    while running.is_set():
        model.run()
        running.wait(0.2)


def smoke(capsys: pytest.CaptureFixture[str], aws: EmbeddedAws, endpoint: str, **kw: Any) -> tuple[int, dict]:
    running = threading.Event()
    running.set()
    worker = threading.Thread(target=deliver_while, args=(aws, running), kwargs=kw)
    worker.start()
    try:
        argv = ["smoke", "--endpoint-url", endpoint, "--region", "eu-west-1", "--bucket", aws.bucket]
        code = main([*argv, "--timeout", "20", "--poll", "0.3", "--output", "json"])
    finally:
        running.clear()
        worker.join()
    return code, json.loads(capsys.readouterr().out)


def test_smoke_passes_on_a_working_pipeline(capsys: pytest.CaptureFixture[str], stack: tuple) -> None:
    code, report = smoke(capsys, *stack)
    assert code == 0, report
    assert all(row["ok"] for row in report["rows"]) and len(report["rows"]) == 5


def test_smoke_fails_when_records_go_missing(capsys: pytest.CaptureFixture[str], stack: tuple) -> None:
    """A record the Lambda lost lands under errors/processing-failed/ (a missing record id): the smoke test
    finds it there, says so, and fails as soon as every record is accounted for, not at --timeout."""
    code, report = smoke(capsys, *stack, break_it=True)
    assert code == 1
    assert not all(row["ok"] for row in report["rows"])
    assert report["timed_out"] is False and report["failed_records"] >= 1
    row = next(row for row in report["rows"] if row["check"] == "every valid event is a row")
    assert not row["ok"] and f"{report['failed_records']} under errors/processing-failed/" in row["detail"]


def test_smoke_at_its_timeout_says_so_shows_what_it_waited_for_and_exits_1(
    capsys: pytest.CaptureFixture[str], stack: tuple
) -> None:
    """Nothing delivers the batch: the bounded wait ends at --timeout (1 s here, never minutes), says that it
    timed out and what it had found, and has shown its progress on stderr while it waited."""
    aws, endpoint = stack
    argv = ["smoke", "--endpoint-url", endpoint, "--region", "eu-west-1", "--bucket", aws.bucket]
    code = main([*argv, "--timeout", "1", "--poll", "0.2", "--output", "json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 1 and report["timed_out"] is True and "timed out" in report["title"]
    first = report["rows"][0]
    assert not first["ok"] and first["detail"].startswith("timed out after")
    assert "0 of 4 rows" in first["detail"]
    assert "waiting for the batch's objects" in captured.err  # progress while it waited
    assert "error: timed out after" in captured.err
