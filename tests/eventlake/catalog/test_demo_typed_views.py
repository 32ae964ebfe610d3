"""``eventlake demo`` creates the catalog's typed views in the embedded Glue as the program deploys them, and
prints a question answered through one with the SQL Glue holds (``eventlake.catalog.catalog_views``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import typed_lake
from moto import mock_aws

from eventlake.catalog import catalog_views
from eventlake.cli.main import main
from eventlake.simulator.embedded.aws import catalog_database_input
from infra import event_views_spec, processors
from infra.athena_spec import VIEW_QUERY
from infra.catalog_spec import CatalogSpec
from infra.settings import Settings

DEV = Settings.from_stack_file("dev")


def _glue(settings: Settings) -> Any:
    glue = boto3.client("glue", region_name="eu-west-1")
    glue.create_database(DatabaseInput=catalog_database_input(CatalogSpec.from_settings(settings)))
    return glue


@pytest.mark.parametrize("processor", ["lambda", "jq"])
def test_glue_takes_every_view_as_deployed_and_gives_back_its_sql(processor: str) -> None:
    settings = dataclasses.replace(DEV, processor=processor)
    views = event_views_spec.from_settings(settings)
    with mock_aws():
        glue = _glue(settings)
        names = catalog_views.create_in_glue(glue, settings)
        assert names == [VIEW_QUERY, *(v.name for v in views)]
        assert catalog_views.create_in_glue(glue, settings) == names  # a second run updates, as a deploy
        stored = catalog_views.glue_views(glue, settings.glue_database)
        tables = glue.get_tables(DatabaseName=settings.glue_database)["TableList"]
    assert sorted(stored) == sorted(names) and len(tables) == len(names)
    for view in views:
        assert stored[view.name] == view.original_sql()
    column = "payload" if processor == "lambda" else "record"
    assert all(column in stored[v.name] for v in views)


def test_the_answer_reads_the_views_glue_holds_not_the_repositorys(tmp_path: Path) -> None:
    events = typed_lake.sample_events(6)
    typed_lake.write_lake(tmp_path, events, as_sent=False)
    partitions = _partitions(tmp_path)
    sql = f"SELECT count(*) AS n FROM {catalog_views.DEMO_VIEW}"
    with mock_aws():
        glue = _glue(DEV)
        catalog_views.create_in_glue(glue, DEV)
        before = catalog_views.answer(glue, DEV, tmp_path, partitions, sql)
        # A view changed in Glue (as another deploy would leave it): the answer follows Glue.
        table = next(t for t in catalog_views.table_inputs(DEV) if t["Name"] == catalog_views.DEMO_VIEW)
        spec = next(v for v in event_views_spec.from_settings(DEV) if v.name == catalog_views.DEMO_VIEW)
        narrowed = dataclasses.replace(spec, event_name="payment:order:nothing")
        glue.update_table(
            DatabaseName=DEV.glue_database,
            TableInput={**table, "ViewOriginalText": narrowed.original_text()},
        )
        after = catalog_views.answer(glue, DEV, tmp_path, partitions, sql)
    sent = sum(e["event_name"] == "payment:order:completed" for e in events)
    assert before.rows == [(sent,)] and after.rows == [(0,)]
    assert before.views == sorted(v.name for v in event_views_spec.from_settings(DEV))


def _partitions(root: Path) -> list[Any]:
    from eventlake.athena import engine as athena
    from glue import schema

    out = []
    for folder in sorted({p.parent for p in (root / schema.DATA_ROOT).glob("*/*/*/*") if p.is_file()}):
        values = schema.partition_of_key(folder.relative_to(root).as_posix() + "/x")
        assert values is not None
        out.append(
            athena.CatalogPartition(
                tuple(values[k] for k in schema.PARTITION_KEY_NAMES),
                f"s3://lake/{schema.partition_folder(values)}",
            )
        )
    return out


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize(
    "extra", [["--processor", "lambda", "--compact"], ["--processor", "jq"]], ids=["lambda", "jq"]
)
def test_the_demo_prints_a_question_through_a_typed_view(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "lake"
    argv = ["demo", "--events", "600", "--seed", "6", *extra, "--out", str(lake)]
    assert main([*argv, "--output", "json"]) == 0
    typed = json.loads(capsys.readouterr().out)["typed_view"]
    assert typed["sql"] == catalog_views.DEMO_QUESTION
    assert typed["views"] == sorted(v.name for v in event_views_spec.local_views(processors.LAMBDA))
    # The same answer as `eventlake query` over the mirror the demo left (the repository's views there).
    assert main(["query", "--lake", str(lake), typed["sql"], "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == typed["rows"] != []
    count = "SELECT count(*) AS n FROM unique_events WHERE event_name = 'payment:order:completed'"
    assert main(["query", "--lake", str(lake), count, "--output", "json"]) == 0
    assert sum(r["orders"] for r in typed["rows"]) == json.loads(capsys.readouterr().out)["rows"][0]["n"]
    if "jq" not in extra:
        return
    # The table the terminal shows (once: another whole run): the SQL on one line, then the answer.
    assert main(["demo", "--events", "200", *extra, "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    views = len(event_views_spec.local_views(processors.LAMBDA))
    assert f"Typed views: {views} created in the embedded Glue database eventlake_dev" in " ".join(
        out.split()
    )
    assert "total_currency" in out and "revenue" in out
