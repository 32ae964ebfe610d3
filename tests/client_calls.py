"""What the CLI's own clients ask of S3, recorded through botocore's public event hooks: every client a
command builds comes from ``Context.client``, and each gets a ``before-parameter-build`` handler (the API's
parameters, before serialisation) instead of a patch of botocore's private ``_make_api_call``."""

from __future__ import annotations

from typing import Any

import pytest

from eventlake.cli.common import Context


def object_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The key of every GetObject any client a command builds sends from now on, in order."""
    read: list[str] = []
    made = Context.client

    def client(self: Context, service: str) -> Any:
        built = made(self, service)
        if service == "s3":
            built.meta.events.register(
                "before-parameter-build.s3.GetObject", lambda params, **_: read.append(params["Key"])
            )
        return built

    monkeypatch.setattr(Context, "client", client)
    return read
