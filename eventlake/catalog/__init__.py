"""The event catalog (``glue/event_types``) against a lake: inference, drift and typed views."""
