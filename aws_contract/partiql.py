"""The one PartiQL statement form the claim store sends, as DynamoDB documents it
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html), read back by
what stands in for DynamoDB here: the embedded AWS's extension of moto and the benchmark's double."""

from __future__ import annotations

import re

_INSERT = re.compile(r"\s*INSERT\s+INTO\s+\"?([A-Za-z0-9_.\-]+)\"?\s+VALUE\s*\{(.*)\}\s*;?\s*", re.I | re.S)
_FIELD = re.compile(r"\s*'([^']+)'\s*:\s*\?\s*")


def parse_insert(statement: str) -> tuple[str, tuple[str, ...]] | None:
    """``INSERT INTO "t" VALUE {'a': ?, 'b': ?}`` -> ``("t", ("a", "b"))``: the table and the attribute
    names, one ``?`` parameter each; None for any other statement (literal values included)."""
    match = _INSERT.fullmatch(statement)
    if not match:
        return None
    names = []
    for field in match.group(2).split(","):
        pair = _FIELD.fullmatch(field)
        if not pair:
            return None
        names.append(pair.group(1))
    return match.group(1), tuple(names)
