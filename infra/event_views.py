"""The catalog's typed views in the stack's Glue database: one ``VIRTUAL_VIEW`` per ``glue/event_types``
entry, rendered from its ``EventViewSpec.table_input`` (the one definition ``eventlake demo`` creates in the
embedded Glue too) as ``infra.analytics`` renders ``unique_events``, which each of them reads, so each is
created after it and deleted before it.

One Glue table resource per view, and nothing else: a view holds no data, so adding, changing or removing an
entry replaces or updates only its own view.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from infra.event_views_spec import EventViewSpec


class EventViews(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        views: tuple[EventViewSpec, ...],
        *,
        database_name: pulumi.Input[str],
        unique_events: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("eventlake:index:EventViews", name, None, opts)
        after_unique_events = pulumi.ResourceOptions(parent=self, depends_on=[unique_events])
        self.views = [
            _view(f"{name}-{view.name}", view.table_input(), database_name, after_unique_events)
            for view in views
        ]
        self.register_outputs({"views": [v.name for v in self.views]})


def _view(
    name: str, table: dict[str, Any], database_name: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.glue.CatalogTable:
    return aws.glue.CatalogTable(
        name,
        aws.glue.CatalogTableArgs(
            name=table["Name"],
            database_name=database_name,
            description=table["Description"],
            table_type=table["TableType"],
            parameters=table["Parameters"],
            view_original_text=table["ViewOriginalText"],
            view_expanded_text=table["ViewExpandedText"],
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                columns=[
                    aws.glue.CatalogTableStorageDescriptorColumnArgs(
                        name=c["Name"], type=c["Type"], comment=c["Comment"]
                    )
                    for c in table["StorageDescriptor"]["Columns"]
                ]
            ),
        ),
        opts=opts,
    )
