"""The claims table's item attributes, defined once.

The transform writes and reads claims by these names (``transform_lambda.claims``), the Pulumi program keys
the table and its TTL on them (``infra.claims_spec``), and the operator's recovery reads and releases claims
(``eventlake.operations.recovery``): all import them from here, so none imports another's code for a name.
Stdlib only: ``glue`` ships inside every Lambda zip.
"""

from __future__ import annotations

KEY_ATTRIBUTE = "event_uuid"  # the table's hash key: the claimed id, lower-cased
HOLDER_ATTRIBUTE = "holder"  # the Kinesis record that first carried the id: shard, sequence, subsequence
FINGERPRINT_ATTRIBUTE = "fingerprint"
EXPIRES_ATTRIBUTE = "expires_at"  # the table's TTL attribute, epoch seconds
