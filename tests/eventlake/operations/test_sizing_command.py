"""``eventlake sizing``: the load from flags or a stack's declaration, the verdict against a stack (exit 1
when it crosses a limit or differs from what the load needs), each dedupe mode priced and the one recommended,
claims billed on demand or provisioned, price overrides, usage errors naming the flag."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.cli.main import main
from eventlake.operations import sizing_command
from glue import marks
from infra.capacity import Load, plan
from infra.settings import Settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def sized(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "sizing", "--output", "json", *argv)
    assert err == ""
    return code, json.loads(out)


def test_flags_describe_the_load(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sized(capsys, "--events-per-hour", "1e9", "--event-bytes", "222", "--types", "100",
                      "--late-spread-hours", "1", "--dedupe", "off", "--region", "eu-west-1")  # fmt: skip
    assert code == 0  # no stack: the verdicts are information
    assert doc["stack"] is None and doc["load"]["region"] == "eu-west-1" and doc["load"]["dedupe"] == "off"
    assert doc["dedupe"]["mode"] == doc["dedupe"]["recommended"] == "off"
    k = doc["kinesis"]
    assert (k["shards_by_records"], k["shards_by_bytes"], k["shards"], k["mode"]) == (
        278,
        69,
        348,
        "PROVISIONED",
    )
    # Default settings are an on-demand stream: the load crosses its initial capacity, naming streamMode.
    assert [c["key"] for c in doc["crossed"]] == ["streamMode"]
    assert doc["usd_per_month"] == pytest.approx(sum(c["usd_per_month"] for c in doc["costs"]))
    assert {c["component"] for c in doc["costs"]} >= {"Kinesis", "Firehose", "Lambda", "S3", "KMS"}


def test_the_json_is_the_model_s_plan(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sized(capsys, "--events-per-hour", "1000000", "--dedupe", "claims", "--region", "us-east-1")
    expected = plan(Load(1e6, 222, 100, 1, marks.CLAIMS, "us-east-1"), Settings(stack="sizing"))
    assert doc["firehose"]["objects_per_hour"] == pytest.approx(expected.objects_per_hour)
    assert doc["firehose"]["peak_active_partitions"] == expected.peak_active_partitions
    assert doc["dedupe"]["writes_per_second"] == pytest.approx(expected.dedupe_writes_per_second)
    assert doc["usd_per_month"] == pytest.approx(expected.usd_per_month)
    assert doc["usd_per_million_events"] == pytest.approx(expected.usd_per_million_events)
    assert doc["dedupe"]["usd_per_month_by_mode"] == pytest.approx(dict(expected.dedupe_usd_by_mode))
    assert doc["dedupe"]["why"] == expected.dedupe_why
    assert doc["compaction"]["statements_per_hour"] == pytest.approx(expected.compaction.statements_per_hour)


@pytest.mark.parametrize("stack", ["small", "prod", "huge"])
def test_each_sized_stack_carries_its_declared_load(capsys: pytest.CaptureFixture[str], stack: str) -> None:
    code, doc = sized(capsys, "--stack", stack)
    assert code == 0, doc["crossed"]
    assert doc["mismatches"] == {} and doc["crossed"] == []
    assert doc["load"]["events_per_hour"] == Settings.from_stack_file(stack).expected_events_per_hour


def test_a_stack_that_cannot_carry_the_load_fails_naming_the_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sized(capsys, "--stack", "prod", "--events-per-hour", "1e9")
    assert code == 1
    assert {c["key"] for c in doc["crossed"]} == {"streamShardCount", "dedupe"}
    assert doc["mismatches"]["streamShardCount"] == {"stack": 1, "recommended": 348}
    assert doc["mismatches"]["dedupe"] == {"stack": "claims", "recommended": "compaction"}


@pytest.mark.parametrize("mode", ["claims", "compaction", "off"])
def test_each_mode_is_priced_and_named_in_the_json(capsys: pytest.CaptureFixture[str], mode: str) -> None:
    _, doc = sized(capsys, "--stack", "prod", "--dedupe", mode)
    d = doc["dedupe"]
    assert d["mode"] == doc["load"]["dedupe"] == mode
    assert d["usd_per_month_by_mode"][mode] == pytest.approx(doc["usd_per_month"])
    assert d["usd_per_million_events_by_mode"][mode] == pytest.approx(doc["usd_per_million_events"])
    assert set(d["usd_per_month_by_mode"]) == set(marks.MODES)
    claims_lines = [c for c in doc["costs"] if c["component"] == "DynamoDB claims"]
    assert bool(claims_lines) is (mode == "claims")
    # prod compacts: the compactor's Athena scans and Lambda are monthly lines in every mode.
    keys = {c["price_key"] for c in doc["costs"] if c["component"] == "Compaction"}
    assert {"athena_tb_scanned", "lambda_arm64_gb_second"} <= keys
    assert d["recommended"] == mode and d["why"].startswith(f"{mode}, as asked")


def test_huge_keeps_its_marks_by_compaction_under_30_cents(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = sized(capsys, "--stack", "huge")
    assert code == 0 and doc["dedupe"]["mode"] == doc["recommended"]["dedupe"] == "compaction"
    assert doc["usd_per_million_events"] <= 0.30
    assert "6.9x the table quota" in doc["dedupe"]["why"]


def test_prod_in_compaction_mode_is_under_30_cents(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = sized(capsys, "--stack", "prod", "--dedupe", "compaction")
    assert doc["usd_per_million_events"] <= 0.30


def test_prod_in_compaction_mode_is_a_third_of_claims(capsys: pytest.CaptureFixture[str]) -> None:
    """What compaction saves at 1x: the claims table, ~$474 of prod's ~$698 a month."""
    code, doc = sized(capsys, "--stack", "prod", "--dedupe", "compaction")
    assert code == 1 and doc["mismatches"] == {"dedupe": {"stack": "claims", "recommended": "compaction"}}
    by_mode = doc["dedupe"]["usd_per_million_events_by_mode"]
    assert by_mode["compaction"] < 0.36 < 0.9 < by_mode["claims"]
    assert by_mode["claims"] - by_mode["compaction"] == pytest.approx(474 / 730, abs=0.01)


def test_claims_billing_mode_provisioned_prices_auto_scaled_capacity(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's prod figure: the claims' writes ~$188 a month provisioned at 70 % use, not ~$456."""
    _, on_demand = sized(capsys, "--stack", "prod")
    code, provisioned = sized(capsys, "--stack", "prod", "--claims-billing-mode", "PROVISIONED")
    assert code == 0 and provisioned["dedupe"]["claims_billing_mode"] == "PROVISIONED"
    writes = {c["price_key"]: c["usd_per_month"] for c in provisioned["costs"]}
    assert writes["dynamodb_provisioned_wcu_hour"] == pytest.approx(188.4, abs=0.1)
    assert "dynamodb_write_request_unit" not in writes
    assert on_demand["dedupe"]["on_demand_writes_usd_per_month"] == pytest.approx(456.25)
    assert provisioned["dedupe"]["provisioned_capacity"] == {
        "target_utilization_percent": 70, "writes_min": 397, "writes_max": 1588, "reads_min": 8,
        "reads_max": 1588,
    }  # fmt: skip
    assert provisioned["usd_per_month"] < on_demand["usd_per_month"] - 260


def test_the_table_names_every_section_and_the_price_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sizing", "--stack", "prod", "--price", "kms_key_month=2")
    assert code == 0
    for heading in ("Kinesis", "Firehose", "Partitions", "Lambda", "Dedupe: claims", "DynamoDB claims",
                    "Compaction", "Monthly cost", "Limits crossed",
                    "Stack prod vs what the load needs"):  # fmt: skip
        assert heading in out
    assert "recommended: claims, as asked" in out
    assert "us-east-1 list prices as of" in out and "no table for eu-west-1" in out
    assert "overridden: kms_key_month" in out


def test_a_price_override_reaches_the_cost_lines(capsys: pytest.CaptureFixture[str]) -> None:
    _, base = sized(capsys, "--events-per-hour", "1e6")
    _, dear = sized(capsys, "--events-per-hour", "1e6", "--price", "dynamodb_write_request_unit=1.4e-6")
    writes = [c for c in dear["costs"] if c["price_key"] == "dynamodb_write_request_unit"]
    assert writes[0]["usd_per_month"] == pytest.approx(writes[0]["quantity"] * 1.4e-6)
    assert dear["usd_per_month"] > base["usd_per_month"]
    assert dear["prices"]["overridden"] == ["dynamodb_write_request_unit"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--price", "dynamodb_write_requst_unit=1"], "did you mean dynamodb_write_request_unit"),
        (["--price", "nonsense"], "--price: must be KEY=VALUE"),
        (["--price", "kms_request=-1"], "--price: must be a finite number >= 0"),
        (["--types", "0"], "--types: must be a whole number of at least 1"),
        (["--events-per-hour", "lots"], "--events-per-hour: must be a number"),
        (["--stack", "nosuch"], "no stack file Pulumi.nosuch.yaml"),
        (["--dedupe", "sometimes"], "--dedupe: invalid choice: 'sometimes'"),
        (["--no-dedupe"], "unrecognized arguments: --no-dedupe"),
        (["--claims-billing-mode", "ON_DEMAND"], "--claims-billing-mode: invalid choice"),
    ],
)
def test_bad_input_is_a_usage_error_naming_it(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "sizing", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
@given(st.text(max_size=30))
def test_price_flags_parse_or_refuse_any_text(text: str) -> None:
    try:
        key, value = sizing_command.list_price(text)
    except Exception as exc:
        assert type(exc).__name__ == "ArgumentTypeError"
    else:
        assert key and "=" in text and value >= 0


def test_other_commands_keep_their_default_stack(capsys: pytest.CaptureFixture[str]) -> None:
    """sizing's --stack has no default; the shared global flags must not lose theirs."""
    from eventlake.cli.main import parser

    assert parser().parse_args(["check"]).stack == "dev"
    assert parser().parse_args(["sizing"]).stack is None
