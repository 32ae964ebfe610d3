"""What was sent, per event name: the fields, their JSON types, how often each is present, a few examples; and
the catalog entry (``glue.event_catalog``) it suggests, for a person to review and commit.

Shared by ``tools/event_catalog_from_samples.py`` (the first catalog, from the sample generator) and
``eventlake catalog infer`` (from a lake), so both propose the same schema for the same payloads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from glue.event_catalog import FIELD_NAME, DeclaredField, EventType

ITEMS = "[]"  # the path element of an array's items
EXAMPLES_KEPT = 3
# Objects deeper than this are proposed as plain objects (their column is JSON text anyway).
MAX_DEPTH = 8
# A string format is proposed when every string value of a path has it.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value; ``integer`` only for an integer literal (``5.0`` is a number)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a parsed JSON value: {type(value).__name__}")


@dataclass
class PathStats:
    """One path's observations: where it was present, as which JSON types, and a few distinct examples."""

    present: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    uuids: int = 0  # string values that are uuids


@dataclass
class Observed:
    """Every path seen under one event name, with how many events (and objects per path) were seen."""

    events: int = 0
    paths: dict[tuple[str, ...], PathStats] = field(default_factory=dict)

    def add(self, payload: Mapping[str, Any]) -> None:
        self.events += 1
        self._object(payload, ())

    def _object(self, node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        if len(path) >= MAX_DEPTH:
            return
        for name, value in node.items():
            self._value(value, (*path, name))

    def _value(self, value: Any, path: tuple[str, ...]) -> None:
        stats = self.paths.setdefault(path, PathStats())
        stats.present += 1
        kind = json_kind(value)
        stats.kinds[kind] += 1
        if kind not in ("object", "array", "null") and len(stats.examples) < EXAMPLES_KEPT:
            text = str(value) if kind != "boolean" else str(value).lower()
            if text not in stats.examples:
                stats.examples.append(text)
        if kind == "string" and _UUID.fullmatch(value):
            stats.uuids += 1
        if kind == "object":
            self._object(value, path)
        elif kind == "array":
            for item in value:
                self._value(item, (*path, ITEMS))

    def parent_count(self, path: tuple[str, ...]) -> int:
        """How many objects could have held ``path``: the events, or the times its parent was an object."""
        if len(path) == 1:
            return self.events
        return self.paths[path[:-1]].kinds["object"]


def observe(payloads: Iterable[Mapping[str, Any]]) -> Observed:
    observed = Observed()
    for payload in payloads:
        observed.add(payload)
    return observed


def propose(name: str, observed: Observed, version: int = 1) -> EventType:
    """The entry the observations suggest: a field per identifier-named path, its most common type (integer
    and number together are a number), nullable when null was seen, required when always present. A path
    only ever null is proposed as a nullable string, to review."""
    return EventType(name=name, version=version, fields=_fields(observed, ()))


def _fields(observed: Observed, parent: tuple[str, ...]) -> tuple[DeclaredField, ...]:
    children = [p for p in observed.paths if p[:-1] == parent and p[-1] != ITEMS]
    return tuple(_field(observed, p) for p in children if FIELD_NAME.fullmatch(p[-1]))


def _field(observed: Observed, path: tuple[str, ...], *, items: bool = False) -> DeclaredField:
    stats = observed.paths[path]
    kind, description = proposed_type(stats.kinds)
    item_path = (*path, ITEMS)
    return DeclaredField(
        path=tuple(p for p in path if p != ITEMS),
        type=kind,
        nullable=stats.kinds["null"] > 0 or description is not None,
        required=not items and stats.present == observed.parent_count(path),
        format="uuid" if kind == "string" and 0 < stats.uuids == stats.kinds["string"] else None,
        description=description,
        properties=_fields(observed, path) if kind == "object" else (),
        items=_field(observed, item_path, items=True)
        if kind == "array" and item_path in observed.paths
        else None,
    )


def proposed_type(kinds: Counter[str]) -> tuple[str, str | None]:
    """The type to propose, and a note for the reviewer when the values did not agree."""
    seen = {k: n for k, n in kinds.items() if k != "null"}
    if not seen:
        return "string", "only null was seen: review the type"
    if set(seen) == {"integer", "number"}:
        return "number", None
    kind = max(sorted(seen), key=lambda k: seen[k])
    others = sorted(k for k in seen if k != kind)
    note = f"also seen as {', '.join(others)}: review" if others else None
    return kind, note
