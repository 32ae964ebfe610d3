"""CloudWatch embedded metric format: metrics carried in the log lines the Lambda writes anyway, so
publishing them costs no API call (CloudWatch Logs extracts them).

Structure, from the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
a root ``_aws`` member with ``Timestamp`` (epoch ms) and ``CloudWatchMetrics``, a list of directives each
with a ``Namespace``, ``Dimensions`` (a list of dimension sets, each a list of member names) and ``Metrics``
(``Name`` and ``Unit``); every dimension and metric named there is a root member of the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glue.errors import METRIC_NAMESPACE

COUNT = "Count"
# Records whose row the compiled path (_hotpath.c) wrote, per batch: with RecordsOk, the share on it.
COMPILED_RECORDS = "CompiledRecords"


def emf(
    fields: Mapping[str, Any],
    *,
    dimensions: Mapping[str, str],
    metrics: Mapping[str, int | float],
    timestamp_ms: int,
    namespace: str = METRIC_NAMESPACE,
) -> dict[str, Any]:
    """``fields`` (a structured log line) with ``metrics`` published under ``dimensions``."""
    return {
        **fields,
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": COUNT} for name in metrics],
                }
            ],
        },
        **dimensions,
        **metrics,
    }
