"""The event catalog: one JSON Schema per event name in ``glue/event_types/``, read by one loader.

The Pulumi program deploys a typed view per entry, the local engine creates the same views, ``eventlake
catalog`` infers and checks against it, and the tests read it, all through ``load_catalog``. Stdlib only, like
the rest of ``glue/``.

A file is a subset of JSON Schema draft 2020-12, closed so that a typo cannot pass silently:

- the root: ``$schema`` (the 2020-12 dialect URI), ``$id`` (``urn:eventlake:<event name>:<version>``, the
  version a positive integer), ``type: "object"``, ``properties``, ``required``, ``description``;
- a field: ``type`` (``string``, ``integer``, ``number``, ``boolean``, ``object``, ``array``, or a pair of
  one of them and ``"null"``), ``format`` (strings only; an annotation), ``description``, ``properties`` and
  ``required`` (objects), ``items`` (arrays).

Any other keyword, a wrong value, or a file whose name is not its event name's is refused with one line naming
the file and the keyword. Field names are identifiers (``[A-Za-z_][A-Za-z0-9_]*``): their JSON paths then read
the same in Athena and DuckDB, and their column names need no quoting. ``integer`` means a JSON integer
literal (no fraction, no exponent), which is what a ``bigint`` cast accepts; 2020-12 would also call ``5.0``
one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOG_DIR = Path(__file__).parent / "event_types"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:eventlake:"
SCALAR_TYPES = ("string", "integer", "number", "boolean")
TYPES = (*SCALAR_TYPES, "object", "array")
# Formats a string may declare; annotations only (the column stays varchar), so a check can name them.
FORMATS = ("date-time", "date", "time", "uuid", "uri", "email", "hostname", "ipv4", "ipv6")
ROOT_KEYWORDS = frozenset({"$schema", "$id", "type", "properties", "required", "description"})
FIELD_KEYWORDS = frozenset({"type", "format", "description", "properties", "required", "items"})
# An event name as the transform accepts one, each part a safe path segment (no quotes, no spaces).
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}"
EVENT_NAME = re.compile(rf"{_PART}(?::{_PART})*")
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_EVENT_NAME_CHARS = 256  # the transform's MAX_EVENT_NAME


class CatalogError(ValueError):
    """A catalog file the loader refuses: one line, naming the file and the keyword."""


@dataclass(frozen=True)
class DeclaredField:
    """One declared field: its path from the payload's root, its JSON type, and what it holds."""

    path: tuple[str, ...]
    type: str
    nullable: bool = False
    required: bool = False
    format: str | None = None
    description: str | None = None
    properties: tuple[DeclaredField, ...] = ()  # type object
    items: DeclaredField | None = None  # type array (path: the array's own)

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class EventType:
    """One catalog entry: an event name, its schema's version and its top-level fields."""

    name: str
    version: int
    fields: tuple[DeclaredField, ...]
    description: str | None = None
    source: str = ""  # the file it came from, for messages

    @property
    def event_type(self) -> str:
        """The partition value: the name's first part, as the transform computes it."""
        return self.name.split(":")[0]

    @property
    def view_name(self) -> str:
        return view_name(self.name)

    @property
    def file_name(self) -> str:
        return file_name(self.name)


def view_name(event_name: str) -> str:
    """``payment:order:completed`` -> ``payment_order_completed``: lower case, every ``:``, ``.`` and ``-``
    an underscore (Glue names are lower case; Athena's are letters, digits and underscores)."""
    return re.sub(r"[:.\-]", "_", event_name).lower()


def file_name(event_name: str) -> str:
    """``payment:order:completed`` -> ``payment.order.completed.json`` (a ``:`` is awkward in file names)."""
    return event_name.replace(":", ".") + ".json"


def column_name(path: tuple[str, ...]) -> str:
    """A field's column: its path's names in snake case, joined by ``_`` (``total.amount`` ->
    ``total_amount``, ``userId`` -> ``user_id``)."""
    return "_".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", part).lower() for part in path)


def load_catalog(directory: Path = CATALOG_DIR) -> tuple[EventType, ...]:
    """Every ``*.json`` in ``directory``, sorted by event name; two names with one view name are refused."""
    entries = tuple(sorted((load_event_type(p) for p in directory.glob("*.json")), key=lambda e: e.name))
    seen: dict[str, EventType] = {}
    for entry in entries:
        other = seen.setdefault(entry.view_name, entry)
        if other is not entry:
            raise CatalogError(
                f"{entry.source}: event name {entry.name!r} has the view name {entry.view_name!r} of "
                f"{other.source}"
            )
    return entries


def load_event_type(path: Path) -> EventType:
    """One file, parsed and checked (``CatalogError`` names the file)."""
    source = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_repeated_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, _RepeatedKey) as exc:
        raise CatalogError(f"{source}: not a JSON document: {_one_line(exc)}") from None
    entry = parse_document(document, source)
    if path.name != entry.file_name:
        raise CatalogError(f"{source}: $id names {entry.name!r}, whose file is {entry.file_name}")
    return entry


def parse_document(document: Any, source: str) -> EventType:
    """A parsed JSON document as an ``EventType``; ``source`` names it in messages."""
    if not isinstance(document, dict):
        raise CatalogError(f"{source}: the schema must be a JSON object")
    _only(document, ROOT_KEYWORDS, source, "")
    if document.get("$schema") != DIALECT:
        raise CatalogError(f"{source}: keyword '$schema' must be {DIALECT!r}")
    name, version = _identity(document.get("$id"), source)
    if document.get("type") != "object":
        raise CatalogError(f"{source}: keyword 'type' at the root must be 'object'")
    fields = _object_fields(document, (), source)
    return EventType(
        name=name,
        version=version,
        fields=fields,
        description=_description(document, source, ""),
        source=source,
    )


def document_of(entry: EventType) -> dict[str, Any]:
    """The JSON Schema of an entry, as its file holds it (``parse_document``'s inverse)."""
    out: dict[str, Any] = {"$schema": DIALECT, "$id": f"{ID_PREFIX}{entry.name}:{entry.version}"}
    if entry.description is not None:
        out["description"] = entry.description
    out["type"] = "object"
    out.update(_object_keywords(entry.fields))
    return out


def dumps(entry: EventType) -> str:
    """A file's text: the schema, two-space indented, non-ASCII kept, newline-terminated."""
    text = json.dumps(document_of(entry), indent=2, ensure_ascii=False)
    # A list of names on one line (``"type": ["string", "null"]``, ``"required": [...]``): easier to review.
    return _NAME_LIST.sub(lambda m: "[" + ", ".join(re.findall(r'"[^"]*"', m.group(0))) + "]", text) + "\n"


_NAME_LIST = re.compile(r'\[\s*"[^"\n]*"(?:,\s*"[^"\n]*")*\s*\]')


def walk(fields: tuple[DeclaredField, ...]) -> list[DeclaredField]:
    """Every declared field, parents before their properties (array items are not fields of their own)."""
    out: list[DeclaredField] = []
    for field in fields:
        out.append(field)
        out.extend(walk(field.properties))
    return out


# --- parsing ------------------------------------------------------------------------------------------


class _RepeatedKey(ValueError):
    pass


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise _RepeatedKey(f"key {repeated[0]!r} appears twice in one object")
    return dict(pairs)


def _one_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _where(pointer: str) -> str:
    return f" at {pointer}" if pointer else ""


def _only(node: dict[str, Any], allowed: frozenset[str], source: str, pointer: str) -> None:
    unknown = sorted(k for k in node if k not in allowed)
    if unknown:
        raise CatalogError(
            f"{source}: unknown keyword {unknown[0]!r}{_where(pointer)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )


def _identity(value: Any, source: str) -> tuple[str, int]:
    shape = f"'{ID_PREFIX}<event name>:<version>'"
    if not isinstance(value, str) or not value.startswith(ID_PREFIX) or value.count(":") < 3:
        raise CatalogError(f"{source}: keyword '$id' must be {shape}, got {value!r}")
    name, _, version = value[len(ID_PREFIX) :].rpartition(":")
    if not (version.isascii() and version.isdigit()) or version.startswith("0"):
        raise CatalogError(f"{source}: keyword '$id' must end in a version 1, 2, ..., got {version!r}")
    if len(name) > MAX_EVENT_NAME_CHARS or not EVENT_NAME.fullmatch(name):
        raise CatalogError(f"{source}: keyword '$id' holds {name!r}, not an event name the transform accepts")
    return name, int(version)


def _description(node: dict[str, Any], source: str, pointer: str) -> str | None:
    value = node.get("description")
    if value is not None and not isinstance(value, str):
        raise CatalogError(f"{source}: keyword 'description'{_where(pointer)} must be a string")
    return value


def _object_fields(node: dict[str, Any], path: tuple[str, ...], source: str) -> tuple[DeclaredField, ...]:
    pointer = "/" + "/".join(path) if path else ""
    properties = node.get("properties", {})
    if not isinstance(properties, dict):
        raise CatalogError(f"{source}: keyword 'properties'{_where(pointer)} must be an object")
    required = node.get("required", [])
    if (
        not isinstance(required, list)
        or not all(isinstance(r, str) for r in required)
        or len(set(required)) != len(required)
    ):
        raise CatalogError(f"{source}: keyword 'required'{_where(pointer)} must be a list of distinct names")
    missing = [r for r in required if r not in properties]
    if missing:
        raise CatalogError(
            f"{source}: keyword 'required'{_where(pointer)} names {missing[0]!r}, "
            "which is not in 'properties'"
        )
    fields = []
    for name, subschema in properties.items():
        if not FIELD_NAME.fullmatch(name):
            raise CatalogError(
                f"{source}: keyword 'properties'{_where(pointer)} has field {name!r}: field names are "
                "identifiers ([A-Za-z_][A-Za-z0-9_]*)"
            )
        fields.append(_field(subschema, (*path, name), name in required, source))
    return tuple(fields)


def _field(node: Any, path: tuple[str, ...], required: bool, source: str) -> DeclaredField:
    pointer = "/" + "/".join(path)
    if not isinstance(node, dict):
        raise CatalogError(f"{source}: the schema at {pointer} must be a JSON object")
    _only(node, FIELD_KEYWORDS, source, pointer)
    kind, nullable = _type(node.get("type"), source, pointer)
    for keyword, owner in (("format", "string"), ("properties", "object"), ("required", "object")):
        if keyword in node and kind != owner:
            raise CatalogError(f"{source}: keyword {keyword!r} at {pointer} applies to type {owner} only")
    if "items" in node and kind != "array":
        raise CatalogError(f"{source}: keyword 'items' at {pointer} applies to type array only")
    fmt = node.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise CatalogError(
            f"{source}: keyword 'format' at {pointer} is {fmt!r}, not one of {', '.join(FORMATS)}"
        )
    items = None
    if "items" in node:
        items = _field(node["items"], path, False, source)
    return DeclaredField(
        path=path,
        type=kind,
        nullable=nullable,
        required=required,
        format=fmt,
        description=_description(node, source, pointer),
        properties=_object_fields(node, path, source) if kind == "object" else (),
        items=items,
    )


def _type(value: Any, source: str, pointer: str) -> tuple[str, bool]:
    """``"string"`` -> (string, False); ``["string", "null"]`` -> (string, True)."""
    names = [value] if isinstance(value, str) else value
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        kinds = [n for n in names if n != "null"]
        if len(kinds) == 1 and kinds[0] in TYPES and len(names) == len(set(names)) <= 2:
            return kinds[0], len(names) == 2
    raise CatalogError(
        f"{source}: keyword 'type' at {pointer} must be one of {', '.join(TYPES)}, or a list of one of them "
        f"and 'null', got {json.dumps(value, ensure_ascii=False)}"
    )


# --- writing ------------------------------------------------------------------------------------------


def _object_keywords(fields: tuple[DeclaredField, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {f.name: _field_document(f) for f in fields}}
    required = [f.name for f in fields if f.required]
    if required:
        out["required"] = required
    return out


def _field_document(field: DeclaredField) -> dict[str, Any]:
    out: dict[str, Any] = {"type": [field.type, "null"] if field.nullable else field.type}
    if field.format is not None:
        out["format"] = field.format
    if field.description is not None:
        out["description"] = field.description
    if field.type == "object":
        out.update(_object_keywords(field.properties))
    if field.items is not None:
        out["items"] = _field_document(field.items)
    return out
