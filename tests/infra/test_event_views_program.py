"""The typed views as the real ``__main__.py`` registers them under Pulumi mocks: one Glue ``VIRTUAL_VIEW``
per catalog file in every stack and both processor modes, each a valid Presto view of Trino types over
``unique_events``, created after it; readers may read them; and nothing else in the stack changes.

Expected values are derived here: the view JSON by decoding its text, its columns by parsing its SQL, its
types through an independent Hive-to-Trino map.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import sqlglot
from conftest import Deployment, cli_config, deploy

from glue import event_catalog
from glue.event_catalog import CatalogError, DeclaredField, EventType

TABLE = "aws:glue/catalogTable:CatalogTable"
POLICY = "aws:iam/policy:Policy"
TRINO = {
    "string": "varchar",
    "bigint": "bigint",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp(3)",
}
CATALOG = event_catalog.load_catalog()


def typed_views(d: Deployment) -> list[Any]:
    """In the catalog's order (mocks register resources in no fixed order)."""
    return sorted((r for r in d.all(TABLE) if "-typed-" in r.name), key=lambda r: r.inputs["name"])


def decoded(view: Any) -> dict[str, Any]:
    text = view.inputs["viewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    return json.loads(
        base64.b64decode(text.removeprefix("/* Presto View: ").removesuffix(" */"), validate=True)
    )


@pytest.fixture(scope="module")
def jq_dev() -> Deployment:
    return deploy("dev", {**cli_config("dev"), "eventlake:processor": "jq"})


def _check_views(d: Deployment, *, source: str, marks: bool) -> None:
    views = typed_views(d)
    assert [v.inputs["name"] for v in views] == sorted(e.view_name for e in CATALOG)
    entries = sorted(CATALOG, key=lambda e: e.view_name)
    unique_events = d.one(TABLE, "unique_events")
    component = next(r for r in d.resources if r.typ == "eventlake:index:EventViews")
    for view, entry in zip(views, entries, strict=True):
        inputs = view.inputs
        assert inputs["tableType"] == "VIRTUAL_VIEW"
        assert inputs["databaseName"] == d.settings.glue_database
        assert inputs["parameters"] == {"presto_view": "true", "comment": "Presto View"}
        assert inputs["viewExpandedText"] == "/* Presto View */"
        assert "partitionKeys" not in inputs
        definition = decoded(view)
        columns = inputs["storageDescriptor"]["columns"]
        assert definition["columns"] == [{"name": c["name"], "type": TRINO[c["type"]]} for c in columns]
        assert {k: definition[k] for k in ("catalog", "schema", "owner", "runAsInvoker")} == {
            "catalog": "awsdatacatalog",
            "schema": d.settings.glue_database,
            "owner": "eventlake",
            "runAsInvoker": False,
        }
        statement = sqlglot.parse_one(definition["originalSql"], read="athena")
        assert [s.alias_or_name for s in statement.selects] == [c["name"] for c in columns]
        assert {t.name for t in statement.find_all(sqlglot.exp.Table)} == {"unique_events"}
        assert f"event_name = '{entry.name}'" in definition["originalSql"]
        assert (source in definition["originalSql"]) and (
            "is_duplicate" in definition["originalSql"]
        ) == marks
        assert all(len(c["comment"]) <= 255 for c in columns)
        assert unique_events.urn in view.dependencies  # created after the view it reads
        assert view.parent == component.urn


def test_every_stack_deploys_one_typed_view_per_catalog_file(deployment: Deployment) -> None:
    _check_views(deployment, source="payload", marks=True)


def test_the_jq_mode_deploys_them_over_the_records_as_sent(jq_dev: Deployment) -> None:
    _check_views(jq_dev, source="record", marks=False)


def test_readers_may_read_every_typed_view(dev: Deployment) -> None:
    policy = next(p for p in dev.all(POLICY) if "analyst" in p.name)
    catalog = next(s for s in json.loads(policy.inputs["policy"])["Statement"] if s["Sid"] == "Catalog")
    assert {v.state["arn"] for v in typed_views(dev)} <= set(catalog["Resource"])
    assert len(policy.inputs["policy"]) < 6144  # IAM's managed-policy size, with room to spare


def _without_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setattr(event_catalog, "CATALOG_DIR", tmp_path)
    return deploy("dev")


def test_nothing_else_changes(dev: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same program with an empty catalog: the same resources with the same inputs, but for the views and
    the reader policy's list of tables."""
    bare = _without_views(tmp_path, monkeypatch)
    assert typed_views(bare) == []

    def others(d: Deployment) -> dict[tuple[str, str], Any]:
        return {
            (r.typ, r.name): {k: _comparable(v) for k, v in r.inputs.items()}
            for r in d.resources
            if "-typed" not in r.name and not (r.typ == POLICY and "analyst" in r.name)
        }

    assert others(dev) == others(bare)
    assert len(dev.resources) == len(bare.resources) + len(CATALOG)  # the views (their component is in both)


def _comparable(value: Any) -> Any:
    """A Lambda's code archive as the files it holds (archives compare by identity)."""
    if isinstance(value, pulumi.AssetArchive):
        return {name: getattr(asset, "path", repr(asset)) for name, asset in value.assets.items()}
    return value


def test_a_view_name_colliding_with_a_table_or_view_is_refused_at_preview(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = EventType("unique:events", 1, (DeclaredField(("x",), "string"),))
    (tmp_path / entry.file_name).write_text(event_catalog.dumps(entry), encoding="utf-8")
    with pytest.raises(
        CatalogError, match=r"^unique\.events\.json: view name 'unique_events' is already a table"
    ):
        _without_views(tmp_path, monkeypatch)
