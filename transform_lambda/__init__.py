"""Firehose data-transformation Lambda: validate, enrich, mark duplicates, emit partition keys."""
