"""What AWS documents and this project must match: limits and defaults (``limits``) and the shapes of
Firehose's Lambda transformation records (``firehose_records``). Stdlib only; shipped in the Lambda zip."""
