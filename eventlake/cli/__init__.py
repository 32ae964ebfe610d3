"""The operator CLI (``python -m eventlake``) and the report it prints."""
