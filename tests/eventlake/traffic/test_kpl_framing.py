"""What issue 30's aggregating producer and raw backup rest on: ``pack_by_shard`` packs as the KPL does
(only records bound for one shard share an aggregate, each shard's records in the order given), and a
concatenation of Kinesis records (Firehose's raw backup: JSON lines and KPL aggregates, no delimiter) is cut
back into exactly the records put (``split_records``, ``aggregate_length``), for any records; any bytes never
raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aws_contract import kpl_aggregation
from aws_contract.kpl_aggregation import ShardRange, UserRecord

TOP = 2**128 - 1
keys = st.text(min_size=1, max_size=12)
# A JSON line as the producer contract frames it: UTF-8 text without a newline inside, then "\n".
lines = st.text(
    alphabet=st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), max_size=60
).map(lambda t: t.encode("utf-8") + b"\n")
user_records = st.builds(UserRecord, keys, st.binary(max_size=80))
aggregates = st.lists(user_records, min_size=2, max_size=8).map(kpl_aggregation.encode)


@st.composite
def shard_maps(draw: st.DrawFn) -> list[ShardRange]:
    """1-5 shards splitting the hash key space at sorted points, as ListShards gives them."""
    cuts = sorted(set(draw(st.lists(st.integers(1, TOP), max_size=4))))
    bounds = [0, *cuts, TOP + 1]
    return [ShardRange(f"shardId-{i:012d}", bounds[i], bounds[i + 1] - 1) for i in range(len(bounds) - 1)]


@settings(max_examples=300)
@given(st.lists(lines | aggregates, max_size=12))
def test_a_concatenation_of_lines_and_aggregates_splits_back_into_them(records: list[bytes]) -> None:
    blob = b"".join(records)
    assert kpl_aggregation.split_records(blob) == [r for r in records if r]


@settings(max_examples=500)
@given(st.binary(max_size=300), st.integers(0, 40))
def test_any_bytes_are_an_aggregate_only_where_one_ends(blob: bytes, start: int) -> None:
    length = kpl_aggregation.aggregate_length(blob, start)
    if length is not None:
        assert kpl_aggregation.deaggregate(blob[start : start + length]) is not None
    assert b"".join(kpl_aggregation.split_records(blob)) == blob


@given(st.lists(aggregates, min_size=1, max_size=4), st.binary(max_size=40))
def test_an_aggregate_followed_by_anything_is_found_whole(parts: list[bytes], tail: bytes) -> None:
    blob = parts[0] + tail
    assert kpl_aggregation.aggregate_length(blob) == len(parts[0])


@settings(max_examples=300)
@given(st.lists(user_records, max_size=60), shard_maps(), st.integers(200, 2_000))
def test_pack_by_shard_keeps_each_shards_records_together_and_in_order(
    records: list[UserRecord], shards: list[ShardRange], max_bytes: int
) -> None:
    entries = list(kpl_aggregation.pack_by_shard(records, shards, max_bytes))
    given_order: dict[str, list[UserRecord]] = {}
    for r in records:
        given_order.setdefault(kpl_aggregation.shard_of(r.partition_key, shards), []).append(r)
    packed: dict[str, list[UserRecord]] = {}
    for entry in entries:
        [shard] = {kpl_aggregation.shard_of(r.partition_key, shards) for r in entry.records}
        assert kpl_aggregation.shard_of(entry.partition_key, shards) == shard  # the aggregate lands there
        packed.setdefault(shard, []).extend(entry.records)
        if entry.aggregated:
            assert kpl_aggregation.deaggregate(entry.data) == list(entry.records)
            assert len(entry.data) + len(entry.partition_key.encode()) <= max_bytes
        else:
            assert entry.data == entry.records[0].data
    assert packed == given_order
