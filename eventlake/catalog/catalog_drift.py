"""Drift between what was sent and what the catalog declares, per event name: fields seen but not declared,
declared but missing (a required field absent, or any declared field never seen), and values whose JSON type
is not the declared one (what the typed views read as NULL), each with a count and one example.

``eventlake catalog check`` runs it over a lake; the rules are the loader's (``glue.event_catalog``): an
``integer`` is a JSON integer literal, a ``number`` any JSON number, ``null`` only where the type allows it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eventlake.catalog.catalog_inference import json_kind
from glue.event_catalog import DeclaredField, EventType, walk

UNDECLARED_NAME = "event name not in the catalog"
UNDECLARED_FIELD = "field not declared"
MISSING = "required field missing"
NEVER_SEEN = "declared field never seen"
WRONG_TYPE = "value not of the declared type"


@dataclass
class Finding:
    """One kind of drift at one path of one event name: how many events show it, and one example."""

    event_name: str
    kind: str
    path: str
    count: int = 0
    example: str = ""

    def row(self) -> tuple[str, str, str, int, str]:
        return (self.event_name, self.kind, self.path, self.count, self.example)


@dataclass
class Drift:
    """Every finding, keyed so each (name, kind, path) is one row; and the events read per name."""

    events: dict[str, int] = field(default_factory=dict)
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)

    def note(self, name: str, kind: str, path: str, example: Any) -> None:
        finding = self.findings.setdefault((name, kind, path), Finding(name, kind, path))
        finding.count += 1
        if not finding.example:
            finding.example = _example(example)

    def sorted(self) -> list[Finding]:
        return sorted(self.findings.values(), key=lambda f: (f.event_name, f.path, f.kind))


def _example(value: Any) -> str:
    text = (
        value
        if isinstance(value, str) and value.startswith("event ")
        else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= 80 else text[:79] + "…"


def matches(declared: DeclaredField, value: Any) -> bool:
    """Whether a value has the declared JSON type (null only where the type allows it)."""
    kind = json_kind(value)
    if kind == "null":
        return declared.nullable
    return kind == declared.type or (declared.type == "number" and kind == "integer")


def check(catalog: Iterable[EventType], events: Iterable[tuple[str, Mapping[str, Any]]]) -> Drift:
    """``events``: (event name, payload) pairs."""
    entries = {e.name: e for e in catalog}
    drift = Drift()
    seen_paths: dict[str, set[tuple[str, ...]]] = {}
    for name, payload in events:
        drift.events[name] = drift.events.get(name, 0) + 1
        entry = entries.get(name)
        if entry is None:
            drift.note(name, UNDECLARED_NAME, "", f"event with fields {sorted(payload)[:5]}")
            continue
        _object(drift, name, entry.fields, payload, (), seen_paths.setdefault(name, set()))
    for name, paths in seen_paths.items():
        for declared in walk(entries[name].fields):
            if declared.path not in paths:
                drift.findings[(name, NEVER_SEEN, _dotted(declared.path))] = Finding(
                    name, NEVER_SEEN, _dotted(declared.path), drift.events[name], ""
                )
    return drift


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path)


def _object(
    drift: Drift,
    name: str,
    fields: tuple[DeclaredField, ...],
    node: Mapping[str, Any],
    path: tuple[str, ...],
    seen: set[tuple[str, ...]],
) -> None:
    declared = {f.name: f for f in fields}
    for key, value in node.items():
        here = (*path, key)
        field_ = declared.get(key)
        if field_ is None:
            drift.note(name, UNDECLARED_FIELD, _dotted(here), value)
            continue
        seen.add(here)
        _value(drift, name, field_, value, here, seen)
    for field_ in fields:
        if field_.required and field_.name not in node:
            drift.note(name, MISSING, _dotted((*path, field_.name)), f"event without {field_.name}")


def _value(
    drift: Drift,
    name: str,
    declared: DeclaredField,
    value: Any,
    path: tuple[str, ...],
    seen: set[tuple[str, ...]],
) -> None:
    if not matches(declared, value):
        drift.note(name, WRONG_TYPE, _dotted(path), value)
        return
    if declared.type == "object" and isinstance(value, dict) and declared.properties:
        _object(drift, name, declared.properties, value, path, seen)
    elif declared.type == "array" and isinstance(value, list) and declared.items is not None:
        for item in value:
            _value(drift, name, declared.items, item, (*path[:-1], path[-1] + "[]"), seen)
