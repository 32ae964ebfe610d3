"""The README's scaling table (``eventlake sizing`` for the small, prod and huge stacks) is the model's
output, not numbers written by hand: each figure below is recomputed from ``infra/capacity/`` and the
stack files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from glue import marks
from infra.capacity import CapacityPlan, Load, plan
from infra.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
STACKS = ("small", "prod", "huge")


@pytest.fixture(scope="module")
def plans() -> dict[str, CapacityPlan]:
    out = {}
    for stack in STACKS:
        settings = Settings.from_stack_file(stack)
        out[stack] = plan(Load.declared(settings, "eu-west-1"), settings)
    return out


@pytest.fixture(scope="module")
def huge_with_dedupe() -> CapacityPlan:
    """``eventlake sizing --stack huge --dedupe claims``: the stack's settings, its load with the claims."""
    settings = Settings.from_stack_file("huge")
    return plan(dataclasses.replace(Load.declared(settings, "eu-west-1"), dedupe=marks.CLAIMS), settings)


def cells(row_title: str) -> list[str]:
    """The three stacks' cells of one row of the scaling table."""
    for line in README.read_text().splitlines():
        if line.startswith(f"| {row_title}"):
            return [c.strip() for c in line.split("|")[2:-1]]
    raise AssertionError(f"no README row starting {row_title!r}")


def numbers(cell: str) -> list[str]:
    return re.findall(r"[0-9](?:[0-9,.]*[0-9])?", cell)


def whole(x: float) -> str:
    return f"{round(x):,}"


def test_costs_are_the_models(plans: dict[str, CapacityPlan], huge_with_dedupe: CapacityPlan) -> None:
    small, prod, huge = cells("cost a month, us-east-1 list prices")
    assert numbers(small) == [whole(plans["small"].usd_per_month)]
    assert numbers(prod) == [whole(plans["prod"].usd_per_month)]
    assert numbers(huge) == [whole(plans["huge"].usd_per_month), whole(huge_with_dedupe.usd_per_month)]
    small, prod, huge = cells("per million events")
    assert numbers(small) == [f"{plans['small'].usd_per_million_events:.2f}"]
    assert numbers(prod) == [f"{plans['prod'].usd_per_million_events:.2f}"]
    assert numbers(huge) == [
        f"{plans['huge'].usd_per_million_events:.2f}",
        f"{huge_with_dedupe.usd_per_million_events:.2f}",
    ]


def test_the_lambda_row_is_the_models(plans: dict[str, CapacityPlan], huge_with_dedupe: CapacityPlan) -> None:
    small, prod, huge = cells("Lambda invocations/s; concurrency")
    assert numbers(small) == [
        f"{plans['small'].invocations_per_second:.3f}",
        f"{plans['small'].concurrency:.1f}",
    ]
    assert numbers(prod) == [
        f"{plans['prod'].invocations_per_second:.2f}",
        f"{plans['prod'].concurrency:.2f}",
    ]
    assert numbers(huge) == [
        whole(plans["huge"].invocations_per_second),
        f"{plans['huge'].concurrency:.1f}",
        whole(huge_with_dedupe.concurrency),
    ]


def test_the_largest_lines_are_the_models(plans: dict[str, CapacityPlan]) -> None:
    _, prod, huge = cells("largest lines")
    for cell, p in ((prod, plans["prod"]), (huge, plans["huge"])):
        by = p.usd_by_component()
        top = sorted(by, key=by.__getitem__, reverse=True)[:2]
        assert numbers(cell) == [whole(by[c]) for c in top]


def test_the_dedupe_and_compactor_rows_are_the_models(plans: dict[str, CapacityPlan]) -> None:
    for cell, stack in zip(cells("`dedupe`: claims write units/s"), STACKS, strict=True):
        p = plans[stack]
        assert (
            cell.startswith(f"`{p.recommended['dedupe']}`") and p.load.dedupe.name == p.recommended["dedupe"]
        )
    small, prod, huge = cells("`dedupe`: claims write units/s")
    assert numbers(small) == [f"{plans['small'].dedupe_writes_per_second:.1f}"]
    assert numbers(prod) == [whole(plans["prod"].dedupe_writes_per_second)]
    claims = plan(
        dataclasses.replace(plans["huge"].load, dedupe=marks.CLAIMS), Settings.from_stack_file("huge")
    )
    assert numbers(huge) == [whole(claims.dedupe_writes_per_second), "7"]
    assert round(claims.dedupe_writes_per_second / 40_000) == 7
    for cell, stack in zip(cells("compactor: type-hours compacted an hour"), STACKS, strict=True):
        flow = plans[stack].compaction
        assert flow is not None
        assert numbers(cell) == [
            whole(flow.statements_per_hour),
            f"{flow.unloads_per_hour:.1f}",
            whole(flow.billed_bytes_per_statement / 1e6),
            whole(flow.candidates_per_run),
        ]


def _mode_row(title: str) -> list[str]:
    for line in README.read_text().splitlines():
        if line.startswith(f"| {title} |"):
            return [c.strip() for c in line.split("|")[2:-1]]
    raise AssertionError(f"no README row {title!r}")


def test_the_cost_of_each_mode_at_1x_is_the_models() -> None:
    """The table under "What the claims cost": prod's load in each mode, claims on demand and provisioned."""
    prod = Settings.from_stack_file("prod")
    declared = Load.declared(prod, "eu-west-1")
    rows = {
        "`claims`, `claimsBillingMode: PAY_PER_REQUEST`": plan(declared, prod),
        "`claims`, `claimsBillingMode: PROVISIONED`": plan(
            declared, dataclasses.replace(prod, claims_billing_mode="PROVISIONED")
        ),
        "`compaction`": plan(dataclasses.replace(declared, dedupe=marks.COMPACTION), prod),
        "`off`": plan(dataclasses.replace(declared, dedupe=marks.OFF), prod),
    }
    for title, p in rows.items():
        _, total, marks_cell = _mode_row(title)
        assert numbers(total) == [whole(p.usd_per_month), f"{p.usd_per_million_events:.2f}"], title
        if p.load.dedupe is marks.CLAIMS:
            lines = {c.price_key: c.usd_per_month for c in p.costs if c.component == "DynamoDB claims"}
            assert numbers(marks_cell)[0] == whole(p.usd_by_component()["DynamoDB claims"]), title
            writes = lines.get("dynamodb_provisioned_wcu_hour", lines.get("dynamodb_write_request_unit"))
            assert numbers(marks_cell)[1] == whole(writes), title
        else:
            assert "DynamoDB claims" not in p.usd_by_component()
