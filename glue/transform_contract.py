"""The transform Lambda's environment (``transform_lambda``), defined once.

The Pulumi program sets these variables on the function (``infra.transform_function``) and the handler reads
them: both import the names from here, so the program's inputs never depend on the Lambda's modules. Stdlib
only: ``glue`` ships inside every Lambda zip.
"""

from __future__ import annotations

ENV_TABLE = "CLAIMS_TABLE"  # the claims table; unset: no claim store (dedupe off or by compaction)
ENV_TTL_SECONDS = "CLAIMS_TTL_SECONDS"
ENV_FINGERPRINT_FIELDS = "CLAIMS_FINGERPRINT_FIELDS"
ENV_ON_STORE_FAILURE = "CLAIMS_ON_STORE_FAILURE"
ENV_DEDUPE_MODE = "DEDUPE_MODE"  # glue.marks: claims, compaction or off
