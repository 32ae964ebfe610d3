"""What acts on a deployed stack (or the embedded one behind an endpoint): send, check, query, reprocess,
replay, smoke, sizing."""
