"""Record framing: JSON lines in, and a raw backup cut back into exactly the records as put, with every
piece that breaks the producer contract held back rather than guessed at."""

from __future__ import annotations

import uuid

from eventlake.firehose_formats import backup
from eventlake.traffic.record_framing import (
    HeldBackKind,
    input_lines,
    json_object,
    partition_key,
    split_backup,
)


def test_each_non_blank_line_is_one_newline_terminated_record_numbered_as_in_the_file() -> None:
    lines = input_lines(b'{"a":1}\n\n   \n{"b":"\xc3\xa9"}\r\nnot json\n{"c":3}')
    assert [(line.number, line.data) for line in lines] == [
        (1, b'{"a":1}\n'),
        (4, b'{"b":"\xc3\xa9"}\r\n'),  # a CRLF line keeps its "\r": the bytes as in the file
        (5, b"not json\n"),
        (6, b'{"c":3}\n'),  # the last line gets its terminator
    ]
    assert input_lines(b"") == [] and input_lines(b"\n\n") == []


def test_json_object_reads_as_the_transform_does() -> None:
    assert json_object(b'{"a": 1}\n') == {"a": 1}
    for bad in (b"[1]", b'"x"', b'{"a": NaN}', b"\xff{}", b'{"a":1}{"b":2}', b"", b"[" * 100_000):
        assert json_object(bad) is None


def test_the_partition_key_is_the_events_uuid_else_a_random_uuid() -> None:
    assert partition_key(b'{"event_uuid": "abc"}\n', "event_uuid") == "abc"
    assert partition_key(b'{"id": "x"}\n', "id") == "x"
    for data in (
        b'{"event_uuid": 7}\n',
        b'{"event_uuid": ""}\n',
        b"nope\n",
        b'{"event_uuid": "' + b"u" * 257 + b'"}',
    ):
        assert uuid.UUID(partition_key(data, "event_uuid"))


def test_a_backup_of_terminated_records_splits_back_into_exactly_those_records() -> None:
    records = [b'{"a":1}\n', '{"city":"東京"}\n'.encode(), b'{"b": [1, 2]}\r\n', b'  {"c":{}}  \n']
    split = split_backup(backup.decode(backup.encode(records, "GZIP"), "x.gz"))
    assert split.records == records and split.held_back == [] and split.unterminated == 0


def test_records_put_without_their_terminator_are_cut_back_out_exactly_as_put() -> None:
    blob = b'{"a":1}\n{"b":2}{"c":3}\n{"d":4}\n'
    split = split_backup(blob)
    assert split.records == [b'{"a":1}\n', b'{"b":2}', b'{"c":3}\n', b'{"d":4}\n']
    assert split.held_back == [] and split.unglued == 1 and split.unterminated == 1
    spaced = split_backup('{"x": "é"} {"y": [1]}  {"z":{}}\n'.encode())
    assert spaced.records == ['{"x": "é"} '.encode(), b'{"y": [1]}  ', b'{"z":{}}\n'] and spaced.unglued == 2


def test_a_glued_run_with_anything_but_objects_is_held_back() -> None:
    split = split_backup(b'{"b":2}[3]\n{"c":3}not json\n')
    assert split.records == [] and [h.kind for h in split.held_back] == [HeldBackKind.GLUED] * 2


def test_the_last_record_of_an_object_may_lack_the_terminator_and_is_kept_as_it_was() -> None:
    split = split_backup(b'{"a":1}\n{"z":26}')
    assert split.records == [b'{"a":1}\n', b'{"z":26}'] and split.unterminated == 1
    glued_at_end = split_backup(b'{"a":1}\n{"y":25}{"z":26}')
    assert glued_at_end.records == [b'{"a":1}\n', b'{"y":25}', b'{"z":26}'] and glued_at_end.unterminated == 2


def test_pieces_that_are_not_one_json_object_are_held_back_never_guessed() -> None:
    blob = b'{\n  "pretty": true\n}\n' + b"plain text\n" + b"\xc3\x28{}\n" + b"\n" + b'{"ok":1}\n'
    split = split_backup(blob)
    assert split.records == [b'{"ok":1}\n']
    assert [h.data for h in split.held_back] == [
        b"{\n",
        b'  "pretty": true\n',
        b"}\n",
        b"plain text\n",
        b"\xc3\x28{}\n",
        b"\n",
    ]
    assert {h.kind for h in split.held_back} == {HeldBackKind.NOT_AN_OBJECT}
    assert b"".join([h.data for h in split.held_back] + split.records) == blob
