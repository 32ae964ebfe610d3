"""A model of Amazon Data Firehose: Kinesis source, Lambda processor, dynamic partitioning, Parquet
conversion, S3 destination with its buffers, error records and source backup (moto stores a delivery
stream's configuration but never runs it)."""
