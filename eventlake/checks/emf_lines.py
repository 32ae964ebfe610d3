"""Reading the Lambda's embedded-metric-format lines back, as CloudWatch Logs would extract them.

A line is only a metric if it follows the specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html);
anything that CloudWatch would reject raises here, so a malformed line fails the tests and the demo instead of
silently publishing nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

Dimensions = tuple[tuple[str, str], ...]
MetricKey = tuple[str, str, Dimensions]  # (namespace, metric name, dimensions)


class EmfError(ValueError):
    """A log line that claims to carry metrics but breaks the embedded metric format."""


def metrics_of(entry: Mapping[str, Any]) -> list[tuple[MetricKey, float]]:
    """The metric values one log line publishes (none if it has no ``_aws`` member)."""
    aws = entry.get("_aws")
    if aws is None:
        return []
    if not isinstance(aws, Mapping) or not isinstance(aws.get("Timestamp"), int):
        raise EmfError("_aws needs an integer Timestamp (epoch milliseconds)")
    directives = aws.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        raise EmfError("_aws.CloudWatchMetrics must be a non-empty list")
    out: list[tuple[MetricKey, float]] = []
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str) or not namespace:
            raise EmfError("every directive needs a Namespace")
        for dimension_set in directive.get("Dimensions") or [[]]:
            dims = []
            for name in dimension_set:
                value = entry.get(name)
                if not isinstance(value, str):
                    raise EmfError(f"dimension {name!r} must be a string member of the line")
                dims.append((name, value))
            for metric in directive.get("Metrics") or []:
                name = metric.get("Name")
                value = entry.get(name)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise EmfError(f"metric {name!r} must be a number member of the line")
                out.append(((namespace, name, tuple(dims)), float(value)))
    return out


def totals(entries: Iterable[Mapping[str, Any]]) -> Counter[MetricKey]:
    """Every metric summed over the lines, as a CloudWatch ``Sum`` statistic would give it."""
    summed: Counter[MetricKey] = Counter()
    for entry in entries:
        for key, value in metrics_of(entry):
            summed[key] += value
    return summed
