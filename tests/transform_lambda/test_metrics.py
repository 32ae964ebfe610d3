"""The Lambda's counts, published in its own log lines with CloudWatch's embedded metric format."""

from __future__ import annotations

from typing import Any

import pytest
from firehose_records import firehose_event, raw_event

from eventlake.checks.emf_lines import EmfError, metrics_of, totals
from glue.errors import DIMENSION_FUNCTION, DIMENSION_REASON, METRIC_NAMESPACE, Metric
from transform_lambda import events
from transform_lambda import handler as handler_module
from transform_lambda.claims import Claim, NoClaims
from transform_lambda.handler import process
from transform_lambda.metrics import COMPILED_RECORDS

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
FN = (DIMENSION_FUNCTION, "eventlake-dev-transform")


class Unchecked:
    def claim(self, claims: list[Claim]) -> dict[str, Claim]:
        return {}


def run(payloads: list[bytes | str], claims: Any = None) -> list[dict[str, Any]]:
    logs: list[dict[str, Any]] = []
    process(
        firehose_event(payloads),
        claims=claims or NoClaims(),
        log=logs.append,
        function_name=FN[1],
        clock=lambda: 1_764_072_000.25,
    )
    return logs


def key(metric: Metric | str, *dims: tuple[str, str]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return (METRIC_NAMESPACE, str(metric), (FN, *dims))


def test_a_batch_publishes_its_counts_and_rejections_by_reason() -> None:
    logs = run(
        [
            raw_event(event_uuid=U1),
            raw_event(event_uuid=U1),  # an in-batch repeat
            raw_event(event_uuid=U1, event_name="other:event"),  # a reused id
            raw_event(event_uuid=U2),
            b"not json",
            b"[]",
            b"also not json",
        ]
    )
    summed = totals(logs)
    compiled = summed.pop(key(COMPILED_RECORDS))
    assert 0 <= compiled <= 4  # valid records whose name and partition the process knew
    assert summed == {
        key(Metric.RECORDS): 7,
        key(Metric.RECORDS_OK): 4,
        key(Metric.RECORDS_REJECTED): 3,
        key(Metric.DUPLICATES): 1,
        key(Metric.REUSED_IDS): 1,
        key(Metric.NOT_CHECKED): 0,
        key(Metric.RECORDS_REJECTED_BY_REASON, (DIMENSION_REASON, "not_json")): 2,
        key(Metric.RECORDS_REJECTED_BY_REASON, (DIMENSION_REASON, "not_object")): 1,
    }
    assert all(line["_aws"]["Timestamp"] == 1_764_072_000_250 for line in logs if "_aws" in line)


def test_ids_the_store_could_not_check_are_counted() -> None:
    summed = totals(run([raw_event(event_uuid=U1), raw_event(event_uuid=U2)], Unchecked()))
    assert summed[key(Metric.NOT_CHECKED)] == 2 and summed[key(Metric.RECORDS_OK)] == 2


def test_the_entry_point_names_the_deployed_function(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    import json

    monkeypatch.delenv("CLAIMS_TABLE", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "eventlake-prod-transform")
    monkeypatch.setattr(handler_module, "_STORE", None)
    handler_module.handler(firehose_event([raw_event(event_uuid=U1)]), None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (published,) = [k for line in lines for k, _ in metrics_of(line) if k[1] == Metric.RECORDS_OK]
    assert published[2] == ((DIMENSION_FUNCTION, "eventlake-prod-transform"),)
    monkeypatch.setattr(handler_module, "_STORE", None)


@pytest.mark.parametrize(
    "broken",
    [
        {"_aws": {"CloudWatchMetrics": []}, "X": 1},
        {
            "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Dimensions": [[]], "Metrics": [{"Name": "X"}]}]},
            "X": 1,
        },
        {"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Metrics": [{"Name": "X"}]}]}},
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["D"]], "Metrics": []}],
            }
        },
    ],
)
def test_lines_cloudwatch_would_reject_are_refused(broken: dict[str, Any]) -> None:
    with pytest.raises(EmfError):
        metrics_of(broken)


def test_the_batch_line_counts_the_records_the_compiled_path_wrote() -> None:
    """Not whether the module loaded: how many rows it wrote (a warm container's repeat of a batch, all)."""
    batch = [raw_event(event_uuid=U1), raw_event(event_uuid=U2), b"not json"]
    run(batch)  # the names and partitions learnt
    (line,) = [line for line in run(batch) if line.get("message") == "batch processed"]
    expected = 2 if events.compiled_path() else 0
    assert line["compiled_records"] == line[COMPILED_RECORDS] == expected
    assert {"Name": COMPILED_RECORDS, "Unit": "Count"} in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
