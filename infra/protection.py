"""Resource options for what holds the lake's data (the bucket and the key that encrypts it)."""

from __future__ import annotations

import pulumi


def data_options(protect: bool, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """With ``protect`` (the stack's ``protectData``) neither ``pulumi destroy`` nor a replacement can
    delete the data: ``protect`` refuses the delete, ``retain_on_delete`` keeps the cloud object if it
    is forced."""
    return pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect)


def renamed_from(old_type: str, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component whose type token was renamed: the alias keeps its URN (and its children's)
    so an existing stack updates in place instead of replacing the resources under it."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=old_type)]))
