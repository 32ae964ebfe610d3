"""Pulumi entry point: read the stack's settings, build the event lake, export what callers need."""

import pulumi

from infra.pipeline import EventLake
from infra.settings import Settings

# A stack that protects its data must page a real address: preview and up fail with one line until it does.
settings = Settings.for_deployment()
lake = EventLake(settings.name_prefix, settings)

pulumi.export("stream_name", lake.stream_name)
pulumi.export("stream_arn", lake.stream_arn)
pulumi.export("delivery_stream_name", lake.delivery_stream_name)
pulumi.export("bucket_name", lake.bucket_name)
pulumi.export("glue_database", lake.glue_database)
pulumi.export("glue_table", lake.glue_table)
pulumi.export("lambda_name", lake.lambda_name)
pulumi.export("registrar_function", lake.registrar_function)
pulumi.export("athena_workgroup", lake.athena_workgroup)
# The reader policy under its first name, for callers that already read it.
pulumi.export("athena_analyst_policy_arn", lake.athena_analyst_policy_arn)
# Attach to a producer's, reader's or operator's (eventlake reprocess) own role or user; all need the lake
# key, whose ARN is here too.
pulumi.export("producer_policy_arn", lake.producer_policy_arn)
pulumi.export("reader_policy_arn", lake.reader_policy_arn)
pulumi.export("operator_policy_arn", lake.operator_policy_arn)
pulumi.export("lake_key_arn", lake.lake_key_arn)
pulumi.export("alarm_topic_arn", lake.alarm_topic_arn)
pulumi.export("dashboard_name", lake.dashboard_name)
