"""What the compactor Lambda (``lake_compactor``) and the stack that deploys it must agree on, defined once.

The Pulumi program (``infra``) sets the function's environment, creates its landing table, expires what it
tags, alarms on its metrics and sizes its runs; the function reads the same names. Both import them from
here, so the program never imports the Lambda's code and a renamed variable or metric changes both sides at
once. Stdlib only: ``glue`` ships inside every Lambda zip.
"""

from __future__ import annotations

from datetime import timedelta

from glue import schema

# The function's environment, set by the Pulumi program (infra/compaction_spec.py).
ENV_DATABASE = "GLUE_DATABASE"
ENV_TABLE = "GLUE_TABLE"
ENV_SOURCE_TABLE = "GLUE_SOURCE_TABLE"
ENV_BUCKET = "LAKE_BUCKET"
ENV_WORKGROUP = "ATHENA_WORKGROUP"
ENV_LATE_WINDOW_HOURS = "LATE_WINDOW_HOURS"
ENV_LOOKBACK_HOURS = "LOOKBACK_HOURS"
ENV_COMPRESSION = "COMPRESSION"
ENV_MARK = "MARK_DUPLICATES"  # "true": recompute the duplicate marks (glue.marks), "false": keep the rows'
ENV_FINGERPRINT_FIELDS = "FINGERPRINT_FIELDS"  # comma-separated, as the transform's

# The run's embedded metrics (names the stack's alarms read: infra/alarm_spec.py).
METRIC_TAGGED = "ObjectsTagged"
METRIC_TAGS_OUTSIDE_MANIFESTS = "TagsOutsideManifests"
METRIC_PARTITION_TAGGED_PERCENT = "MaxPartitionTaggedPercent"

# The compactor's table of the objects as Firehose landed them (not granted to readers; its partitions,
# registered by the compactor, always point at the original folders).
SOURCE_TABLE = f"{schema.TABLE_NAME}_landing"
# The object tag the compactor puts on what a switch made unread: the originals a copy holds and the copies
# before it. The lake bucket's lifecycle expires objects carrying it (``infra.compaction_spec``); nothing
# else in the lake carries a tag, so the compactor sets the whole tag set.
SUPERSEDED_TAG = ("eventlake-compacted", "superseded")
# UNLOAD's Parquet codec, chosen by ``benchmarks.compaction`` (see BENCHMARKS.md); the stack's default.
DEFAULT_COMPRESSION = "ZSTD"
# A run folder no location reads is swept (tagged superseded) only once its run id is this much older than
# the sweep: a run switches within one Lambda run (at most 15 minutes, ``limits.LAMBDA_MAX_TIMEOUT_S``) of
# its start, and the UNLOAD it submitted can outlive a crashed Lambda by Athena's DML query timeout (30
# minutes by default, 240 at most by quota, https://docs.aws.amazon.com/athena/latest/ug/service-limits.html).
# Six hours is past both with room, so a run that may still write files into its folder or switch to it is
# never swept. It is short against the lookback (48 hours by default): a crashed copy is swept while its hour
# is still a candidate, unless it was made in the last six hours of that hour's lookback. The stack keeps
# the lookback longer than this (infra.settings).
SWEEP_GRACE = timedelta(hours=6)
# Statements in flight at once: Athena queues what exceeds the account's DML quota, but the analysts share it.
DEFAULT_PARALLEL = 4
# A partition whose UNLOAD would read less than Athena bills a query at least joins a batch: one UNLOAD for
# many such partitions bills their bytes once (at prod, 100 type-hours of ~1 MB each an hour: 100 minimum
# bills became one). A batch reads this many bytes at most, so one stays a short query.
BATCH_MAX_BYTES = 1_000_000_000
