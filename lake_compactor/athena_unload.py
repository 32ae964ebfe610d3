"""The statement engine on AWS: Athena runs the UNLOAD in the stack's workgroup (engine v3; its result
configuration encrypts the written files with the lake key and keeps UNLOAD's own metadata and manifest under
the results prefix, https://docs.aws.amazon.com/athena/latest/ug/unload.html).

``StartQueryExecution`` takes a ``ClientRequestToken`` (32-128 characters): a call retried after a lost
response returns the first query instead of starting a second one
(https://docs.aws.amazon.com/athena/latest/APIReference/API_StartQueryExecution.html).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lake_compactor.compaction_plan import CompactionStatement
from lake_compactor.compactor import CompactionFailed

DONE = {"SUCCEEDED", "FAILED", "CANCELLED"}
FIRST_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 10.0


def request_token(token: str) -> str:
    """A ``ClientRequestToken`` for ``token``: stable, 64 characters."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class AthenaUnload:
    athena: Any
    workgroup: str
    database: str
    sleep: Callable[[float], None] = time.sleep

    def start(self, statement: CompactionStatement, token: str) -> str:
        response = self.athena.start_query_execution(
            QueryString=statement.athena_sql(),
            QueryExecutionContext={"Database": self.database},
            WorkGroup=self.workgroup,
            ClientRequestToken=request_token(token),
        )
        return str(response["QueryExecutionId"])

    def wait(self, handle: str) -> None:
        delay = FIRST_POLL_SECONDS
        while True:
            execution = self.athena.get_query_execution(QueryExecutionId=handle)["QueryExecution"]
            status = execution["Status"]
            if status["State"] in DONE:
                if status["State"] != "SUCCEEDED":
                    reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                        "ErrorMessage"
                    )
                    raise CompactionFailed(f"query {handle} {status['State']}: {reason}")
                return
            self.sleep(delay)
            delay = min(delay * 2, MAX_POLL_SECONDS)
