"""The transform in each dedupe mode (``glue.marks``): what it writes on first arrivals and repeats, and that
the modes without a claims table never call one."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from firehose_records import firehose_event, raw_event

import transform_lambda.events as events_module
from glue import marks
from glue.transform_contract import ENV_DEDUPE_MODE
from transform_lambda.claims import Claim, NoClaims
from transform_lambda.handler import DedupeConfig, process

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"
BATCH = [
    raw_event(event_uuid=U1),
    raw_event(event_uuid=U2),
    raw_event(event_uuid=U1),  # a repeat within the batch
    raw_event(event_uuid=U1.upper(), created_at=1_764_072_001),  # the id reused by another event
    b"not json",
]


class Refuses:
    """A store that must not be asked."""

    remembers = True

    def claim(self, claims: Any) -> dict[str, Claim]:
        raise AssertionError("a mode without a claims table called the store")


def _marks(response: dict[str, Any]) -> list[tuple[Any, Any] | str]:
    out: list[tuple[Any, Any] | str] = []
    for record in response["records"]:
        if record["result"] != "Ok":
            out.append(record["result"])
        else:
            row = json.loads(base64.b64decode(record["data"]))
            out.append((row["is_duplicate"], row["uuid_reused"]))
    return out


def _run(mode: marks.DedupeMode, claims: Any) -> tuple[list[Any], dict[str, Any]]:
    logs: list[dict[str, Any]] = []
    response = process(
        firehose_event(list(BATCH)), claims=claims, log=logs.append, dedupe=DedupeConfig(mode=mode)
    )
    (summary,) = [line for line in logs if line.get("message") == "batch processed"]
    return _marks(response), summary


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_compaction_mode_marks_repeats_in_the_batch_and_leaves_the_rest_null(
    compiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not compiled:
        monkeypatch.setattr(events_module, "hot_first_arrival", None)
    for _ in range(2):  # the second batch takes the compiled path for names and partitions seen once
        got, summary = _run(marks.COMPACTION, Refuses())
    assert got == [marks.UNCHECKED, marks.UNCHECKED, marks.REPEAT, marks.REUSED, "ProcessingFailed"]
    assert summary["dedupe"] == "compaction"
    assert (summary["not_checked"], summary["duplicates"], summary["reused_ids"]) == (2, 1, 1)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "python"])
def test_off_marks_nothing(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not compiled:
        monkeypatch.setattr(events_module, "hot_first_arrival", None)
    for _ in range(2):
        got, summary = _run(marks.OFF, Refuses())
    assert got == [marks.UNCHECKED] * 4 + ["ProcessingFailed"]
    assert (summary["dedupe"], summary["duplicates"], summary["not_checked"]) == ("off", 0, 4)


def test_claims_mode_without_a_table_keeps_first_arrivals_false() -> None:
    got, summary = _run(marks.CLAIMS, NoClaims())
    assert got == [marks.FIRST, marks.FIRST, marks.REPEAT, marks.REUSED, "ProcessingFailed"]
    assert summary["dedupe"] == "claims"


def test_the_mode_comes_from_the_environment() -> None:
    assert DedupeConfig.from_env({}).mode is marks.CLAIMS
    assert DedupeConfig.from_env({ENV_DEDUPE_MODE: "compaction"}).mode is marks.COMPACTION
    assert DedupeConfig.from_env({ENV_DEDUPE_MODE: "off"}).mode is marks.OFF
    with pytest.raises(ValueError, match="claims, compaction, off"):
        DedupeConfig.from_env({ENV_DEDUPE_MODE: "claim"})
