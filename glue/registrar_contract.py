"""The partition registrar's environment (``partition_registrar``), defined once.

The Pulumi program sets these variables on the function (``infra.partition_registration``) and the function
reads them: both import the names from here, so the program never imports the Lambda's code. Stdlib only:
``glue`` ships inside every Lambda zip.
"""

from __future__ import annotations

ENV_DATABASE = "GLUE_DATABASE"
ENV_TABLE = "GLUE_TABLE"
