"""Pulumi components for the event lake, one module per AWS concern.

``settings`` and ``sizing`` import no Pulumi, so the local runner and the CLI can use them too.
"""
