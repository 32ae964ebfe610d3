"""What needs no AWS account: the embedded AWS, the Firehose model, faults, local compaction and lifecycle,
and the demo that runs the pipeline on them."""
