"""The partition registrar: S3 ``Object Created`` events in, Glue partitions out (``registrar_handler``)."""
