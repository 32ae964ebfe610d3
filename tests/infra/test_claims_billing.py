"""``claimsBillingMode``'s capacity bounds (``infra/claims_spec.py``): derived from the declared load, small
and safe without one, within DynamoDB's table range; the program and ``eventlake sizing`` use the same."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_component_args import FIELDS, fields_read

from infra import claims_spec
from infra.capacity import Load, plan
from infra.claims_spec import ClaimsCapacity, ClaimsTableSpec
from infra.settings import Settings


def test_on_demand_has_no_capacity_and_provisioned_follows_the_declared_load() -> None:
    assert ClaimsTableSpec.from_settings(Settings(stack="t")).capacity is None
    spec = ClaimsTableSpec.from_settings(
        Settings(stack="t", claims_billing_mode="PROVISIONED", expected_events_per_hour=1_000_000)
    )
    assert spec.billing_mode == "PROVISIONED" and spec.capacity == ClaimsCapacity.for_load(1e6 / 3600)
    assert spec.capacity.declared and spec.capacity.target_utilization_percent == 70


def test_without_a_declared_load_the_bounds_are_small_and_say_so() -> None:
    capacity = ClaimsCapacity.from_settings(Settings(stack="t", claims_billing_mode="PROVISIONED"))
    assert not capacity.declared
    for d in capacity.dimensions:
        assert (d.min_units, d.max_units) == claims_spec.UNDECLARED_BOUNDS == (5, 100)


@given(st.floats(1e-6, 1e7))
def test_bounds_carry_the_load_at_the_target_within_the_table_range(events_per_second: float) -> None:
    capacity = ClaimsCapacity.for_load(events_per_second)
    writes, reads = capacity.writes, capacity.reads
    for d in capacity.dimensions:
        assert claims_spec.MIN_UNITS <= d.min_units <= d.max_units <= claims_spec.TABLE_MAX_UNITS
    if events_per_second / 0.7 <= claims_spec.TABLE_MAX_UNITS:
        assert writes.min_units * 0.7 >= events_per_second - 1e-6
        assert writes.max_units == min(
            claims_spec.TABLE_MAX_UNITS, claims_spec.MAX_HEADROOM * writes.min_units
        )
    assert reads.min_units * 0.7 >= min(events_per_second * 0.02, claims_spec.TABLE_MAX_UNITS * 0.7) - 1e-6
    # A retried batch reads back every claim it wrote: reads may scale as far as writes.
    assert reads.max_units == writes.max_units


def test_the_dimensions_are_application_auto_scaling_s_names() -> None:
    capacity = ClaimsCapacity.for_load(100)
    assert [(d.scalable_dimension, d.predefined_metric) for d in capacity.dimensions] == [
        ("dynamodb:table:WriteCapacityUnits", "DynamoDBWriteCapacityUtilization"),
        ("dynamodb:table:ReadCapacityUnits", "DynamoDBReadCapacityUtilization"),
    ]


def test_provisioned_reads_the_declared_load_which_on_demand_does_not() -> None:
    """Every setting reaches a component (test_component_args.py); PROVISIONED also reads the load the
    stack declares, since the table's bounds derive from it."""
    unread = {"stack", "expected_event_bytes", "expected_event_types", "expected_late_spread_hours"}
    unread.add("expected_events_per_record")  # the sizing's alone: no resource depends on it
    assert fields_read(dedupe="claims", claims_billing_mode="PROVISIONED") == FIELDS - unread
    assert "expected_events_per_hour" not in fields_read(dedupe="claims")
    assert "claims_billing_mode" not in fields_read(dedupe="compaction", claims_billing_mode="PROVISIONED")


def test_sizing_prices_the_bounds_the_program_deploys() -> None:
    prod = dataclasses.replace(Settings.from_stack_file("prod"), claims_billing_mode="PROVISIONED")
    sized = plan(Load.declared(prod, "eu-west-1"), prod)
    assert sized.claims_capacity == ClaimsTableSpec.from_settings(prod).capacity
    assert sized.crossed == ()


@pytest.mark.parametrize("mode", ["compaction", "off"])
def test_no_claims_table_no_capacity_to_size(mode: str) -> None:
    settings = Settings(stack="t", dedupe=mode, claims_billing_mode="PROVISIONED")
    assert not settings.uses_claims
    p = plan(Load(1e6, 222, 100, 1, settings.dedupe_mode, "eu-west-1"), settings)
    assert p.claims_capacity is None and "DynamoDB claims" not in p.usd_by_component()
