"""What Firehose reads and writes, as AWS documents it: read by the operations, the checks and the
simulator alike."""
