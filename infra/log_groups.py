"""The stack's CloudWatch log group names: the components create the groups, and the lake key's policy names
them (CloudWatch Logs encrypts each group with the key only for the groups its encryption context names), so
both read the names from here. No Pulumi here."""

from __future__ import annotations


def lambda_log_group(function_name: str) -> str:
    """Where Lambda writes a function's logs by default (the function's logging config names it too)."""
    return f"/aws/lambda/{function_name}"


def firehose_log_group(delivery_stream_name: str) -> str:
    """The delivery stream's error log group, as the Firehose console names it."""
    return f"/aws/kinesisfirehose/{delivery_stream_name}"
