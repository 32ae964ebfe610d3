"""The partition registrar: S3 ``Object Created`` events in, Glue partitions out (``registrar_handler``)."""

import sys

from partition_registrar import registrar_handler

# The module's old name, for one importer still in progress (tests/catalog/test_catalog_bucket.py, another
# engineer's, imports ``partition_registrar.handler``): delete once it imports ``registrar_handler``. An
# alias in sys.modules, not a file: each module name is still defined once (test_one_definition.py).
sys.modules[f"{__name__}.handler"] = registrar_handler
