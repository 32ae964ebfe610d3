"""The Firehose model: the Kinesis source, the processor's batching and invocation, the S3 destination."""
