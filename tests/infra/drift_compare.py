"""Helpers for the drift tests: one resource rendered twice (pulumi-aws inputs as the mocks record them,
and the boto3 request the embedded AWS sends) is compared field by field, and every leaf of either
rendering is mutated once to show the comparison catches it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any


def number(value: Any) -> Any:
    """Pulumi's mocks hand numbers over as floats (protobuf Struct); the API dict has ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Fields:
    """Take each field out of a Pulumi input object once; ``done`` fails on any field left over."""

    def __init__(self, where: str, inputs: dict[str, Any], ignore: frozenset[str] = frozenset()) -> None:
        self.where = where
        self.left = {k: v for k, v in inputs.items() if k not in ignore}

    def take(self, key: str) -> Any:
        assert key in self.left, f"{self.where}.{key} is missing from the Pulumi inputs"
        return self.left.pop(key)

    def done(self) -> None:
        assert not self.left, f"{self.where}: Pulumi sets {sorted(self.left)}, unknown to this comparison"


def canonical(value: Any) -> str:
    """Type-strict: ``True``, ``1`` and ``1.0`` differ here, as they do to AWS."""
    return json.dumps(value, sort_keys=True, indent=1)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path


def changed(value: Any, path: tuple[Any, ...]) -> Any:
    """A copy with the leaf at ``path`` altered (same type where it has one)."""
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    leaf = target[path[-1]]
    if isinstance(leaf, bool):
        target[path[-1]] = not leaf
    elif isinstance(leaf, int | float):
        target[path[-1]] = leaf + 1
    else:
        target[path[-1]] = f"{leaf}-changed"
    return out
