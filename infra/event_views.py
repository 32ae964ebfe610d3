"""The catalog's typed views in the stack's Glue database: one ``VIRTUAL_VIEW`` per ``glue/event_types``
entry, rendered from ``infra.event_views_spec`` exactly as ``infra.analytics`` renders ``unique_events``
(which each of them reads, so each is created after it and deleted before it).

One Glue table resource per view, and nothing else: a view holds no data, so adding, changing or removing an
entry replaces or updates only its own view.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.athena_spec import PRESTO_VIEW_EXPANDED_TEXT, VIEW_PARAMETERS, VIEW_TABLE_TYPE
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
            aws.glue.CatalogTable(
                f"{name}-{view.name}",
                aws.glue.CatalogTableArgs(
                    name=view.name,
                    database_name=database_name,
                    description=view.description(),
                    table_type=VIEW_TABLE_TYPE,
                    parameters=dict(VIEW_PARAMETERS),
                    view_original_text=view.original_text(),
                    view_expanded_text=PRESTO_VIEW_EXPANDED_TEXT,
                    storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                        columns=[
                            aws.glue.CatalogTableStorageDescriptorColumnArgs(
                                name=c.name, type=c.type, comment=c.comment
                            )
                            for c in view.columns
                        ]
                    ),
                ),
                opts=after_unique_events,
            )
            for view in views
        ]
        self.register_outputs({"views": [v.name for v in self.views]})
