"""The event catalog (``glue/event_types/``) and its one loader (``glue.event_catalog``).

The files are checked against an independent implementation of draft 2020-12 (the ``jsonschema`` package):
each is a valid schema, and the sample generator's payloads are valid against their name's. The loader is held
to its closed subset: anything else is one line naming the file and the keyword.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventlake.traffic.sample_events import CATALOGUE
from glue.event_catalog import (
    CATALOG_DIR,
    FIELD_KEYWORDS,
    ROOT_KEYWORDS,
    SCALAR_TYPES,
    CatalogError,
    DeclaredField,
    EventType,
    document_of,
    dumps,
    load_catalog,
    load_event_type,
    parse_document,
    view_name,
)


def test_the_catalog_declares_every_event_name_the_sample_generator_sends() -> None:
    assert sorted(e.name for e in load_catalog()) == sorted(CATALOGUE)
    assert len({e.event_type for e in load_catalog()}) == 17


@pytest.mark.parametrize("path", sorted(CATALOG_DIR.glob("*.json")), ids=lambda p: p.name)
def test_each_file_is_a_valid_2020_12_schema_and_the_samples_are_valid_against_it(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    entry = load_event_type(path)
    validator = jsonschema.Draft202012Validator(document)
    rng = random.Random(path.name)
    for _ in range(200):
        payload = json.loads(json.dumps(CATALOGUE[entry.name](rng)))  # as the lake holds it
        validator.validate(payload)
    # The file is what the loader writes for its entry (so a regenerated or hand-edited file diffs cleanly).
    assert path.read_text(encoding="utf-8") == dumps(entry)


def test_a_wrong_payload_is_invalid_against_its_schema() -> None:
    """The check above can fail: the same validator refuses a sample with one field's type changed."""
    document = json.loads((CATALOG_DIR / "payment.order.completed.json").read_text(encoding="utf-8"))
    payload = json.loads(json.dumps(CATALOGUE["payment:order:completed"](random.Random(1))))
    payload["total"]["amount"] = "12.50"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(document).validate(payload)


def test_view_names_are_snake_case() -> None:
    assert view_name("payment:order:completed") == "payment_order_completed"
    assert view_name("ab-test:exposure") == "ab_test_exposure"
    assert view_name("feature_flag.evaluated") == "feature_flag_evaluated"
    assert view_name("Login") == "login"


# --- refusals ---------------------------------------------------------------------------------------


def _write(tmp_path: Path, document: object, name: str = "login.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _login(**properties: object) -> dict[str, object]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:eventlake:login:1",
        "type": "object",
        "properties": properties or {"user_id": {"type": "string", "format": "uuid"}},
    }


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.update(additionalProperties=False), "unknown keyword 'additionalProperties'"),
        (lambda d: d["properties"]["user_id"].update(minLength=3), "unknown keyword 'minLength' at /user_id"),
        (lambda d: d.update({"$schema": "http://json-schema.org/draft-07/schema#"}), "keyword '$schema'"),
        (lambda d: d.update({"$id": "urn:eventlake:login"}), "keyword '$id'"),
        (lambda d: d.update({"$id": "urn:eventlake:login:0"}), "keyword '$id'"),
        (lambda d: d.update({"$id": "urn:eventlake:lo gin:1"}), "keyword '$id'"),
        (lambda d: d.update(type="array"), "keyword 'type' at the root"),
        (lambda d: d["properties"]["user_id"].update(type="uuid"), "keyword 'type' at /user_id"),
        (lambda d: d["properties"]["user_id"].update(type=["null"]), "keyword 'type' at /user_id"),
        (lambda d: d["properties"]["user_id"].update(format="colour"), "keyword 'format' at /user_id"),
        (lambda d: d["properties"]["user_id"].update(type="integer"), "keyword 'format' at /user_id"),
        (
            lambda d: d["properties"]["user_id"].update(items={"type": "string"}),
            "keyword 'items' at /user_id",
        ),
        (lambda d: d.update(required=["user"]), "keyword 'required' names 'user'"),
        (lambda d: d["properties"].update({"user-id": {"type": "string"}}), "keyword 'properties'"),
        (
            lambda d: d["properties"].update(x={"type": "object", "properties": {"y": {}}}),
            "keyword 'type' at /x/y",
        ),
        (lambda d: d.update(description=3), "keyword 'description'"),
    ],
)
def test_the_loader_refuses_in_one_line_naming_the_file_and_the_keyword(
    tmp_path: Path, change: object, words: str
) -> None:
    document = _login()
    change(document)  # type: ignore[operator]
    with pytest.raises(CatalogError) as caught:
        load_event_type(_write(tmp_path, document))
    message = str(caught.value)
    assert message.startswith("login.json: ") and words in message and "\n" not in message


def test_a_file_named_for_another_event_and_repeated_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"^logout\.json: \$id names 'login', whose file is login\.json$"):
        load_event_type(_write(tmp_path, _login(), "logout.json"))
    path = tmp_path / "login.json"
    path.write_text('{"type": "object", "type": "object"}', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^login\.json: not a JSON document: key 'type' appears twice"):
        load_event_type(path)


def test_two_names_with_one_view_name_are_refused(tmp_path: Path) -> None:
    entry = EventType("a-b:c", 1, (DeclaredField(("x",), "string"),))
    twin = EventType("a_b:c", 1, (DeclaredField(("x",), "string"),))
    for e in (entry, twin):
        (tmp_path / e.file_name).write_text(dumps(e), encoding="utf-8")
    with pytest.raises(CatalogError, match="has the view name 'a_b_c' of"):
        load_catalog(tmp_path)


# --- properties -------------------------------------------------------------------------------------

_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
_text = st.none() | st.text(max_size=30)


def _fields(depth: int, path: tuple[str, ...]) -> st.SearchStrategy[tuple[DeclaredField, ...]]:
    def field(name: str) -> st.SearchStrategy[DeclaredField]:
        here = (*path, name)
        scalar = st.builds(
            DeclaredField,
            path=st.just(here),
            type=st.sampled_from(SCALAR_TYPES),
            nullable=st.booleans(),
            required=st.booleans(),
            description=_text,
        ).map(
            lambda f: (
                DeclaredField(**{**f.__dict__, "format": "uuid"}) if f.type == "string" and f.nullable else f
            )
        )
        if depth == 0:
            return scalar
        obj = st.builds(
            DeclaredField,
            path=st.just(here),
            type=st.just("object"),
            nullable=st.booleans(),
            required=st.booleans(),
            description=_text,
            properties=_fields(depth - 1, here),
        )
        array = st.builds(
            DeclaredField,
            path=st.just(here),
            type=st.just("array"),
            required=st.booleans(),
            items=st.none() | scalar.map(lambda f: DeclaredField(here, f.type, f.nullable, False, f.format)),
        )
        return st.one_of(scalar, obj, array)

    return st.lists(_names, max_size=4, unique=True).flatmap(
        lambda names: st.tuples(*(field(n) for n in names))
    )


_event_names = st.from_regex(r"[a-z0-9_][a-z0-9_.-]{0,10}(:[a-z0-9_][a-z0-9_.-]{0,10}){0,2}", fullmatch=True)
entries = st.builds(
    EventType,
    name=_event_names,
    version=st.integers(1, 10**6),
    fields=_fields(2, ()),
    description=_text,
)


@settings(max_examples=40)
@given(entries)
def test_what_the_loader_writes_it_reads_back_the_same(entry: EventType) -> None:
    text = dumps(entry)
    back = parse_document(json.loads(text), entry.file_name)
    assert back == EventType(entry.name, entry.version, entry.fields, entry.description, entry.file_name)
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


def _pointers(document: dict[str, object]) -> list[dict[str, object]]:
    """Every schema object inside a document (the root, properties' and items' schemas)."""
    out = [document]
    for sub in dict(document.get("properties", {})).values():  # type: ignore[call-overload]
        out.extend(_pointers(sub))
    if isinstance(document.get("items"), dict):
        out.extend(_pointers(document["items"]))  # type: ignore[arg-type]
    return out


@settings(max_examples=40)
@given(entries, st.data())
def test_any_keyword_outside_the_subset_is_refused_naming_the_file_and_it(
    entry: EventType, data: st.DataObject
) -> None:
    document = document_of(entry)
    target = data.draw(st.sampled_from(_pointers(document)))
    allowed = ROOT_KEYWORDS if target is document else FIELD_KEYWORDS
    keyword = data.draw(
        st.text(string.ascii_letters + "$_-", min_size=1, max_size=12).filter(lambda k: k not in allowed)
    )
    target[keyword] = data.draw(st.integers() | st.text(max_size=5))
    with pytest.raises(CatalogError) as caught:
        parse_document(document, "x.json")
    message = str(caught.value)
    assert message.startswith("x.json: unknown keyword ") and repr(keyword) in message and "\n" not in message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=40)
@given(entries, st.data())
def test_any_document_is_read_or_refused_in_one_line_never_crashing(
    entry: EventType, data: st.DataObject
) -> None:
    document = document_of(entry)
    target = data.draw(st.sampled_from(_pointers(document)))
    key = data.draw(st.sampled_from(sorted(target)) | st.sampled_from(sorted(FIELD_KEYWORDS)))
    target[key] = data.draw(_json)
    try:
        parse_document(document, "x.json")
    except CatalogError as exc:
        assert str(exc).startswith("x.json: ") and "\n" not in str(exc)
    try:
        parse_document(data.draw(_json), "y.json")
    except CatalogError as exc:
        assert str(exc).startswith("y.json: ") and "\n" not in str(exc)
