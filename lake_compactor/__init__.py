"""Compaction of closed partitions: one Athena statement rewrites a partition into few large Parquet files
under ``compacted/``, then one Glue ``UpdatePartition`` switches readers to it. Stdlib and boto3 only (the
Lambda runtime provides boto3)."""
