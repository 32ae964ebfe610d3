"""eventlake: the local runner that models Kinesis -> Firehose -> S3 -> Athena without an AWS account."""
