"""The compaction protocol, over injected Glue and S3 clients and a statement engine (Athena on AWS, DuckDB
locally), so the same code runs in the Lambda, the local runner and the tests.

For each closed partition: **plan** (read its catalog location and, when it already reads a copy, that copy's
manifest; list the original folder; the objects no manifest names are new) -> **write** (one UNLOAD of the
current copy plus the new objects into a fresh ``<run id>/`` folder, then the run's manifest; partitions under
Athena's 10 MB minimum share one UNLOAD into a staging folder, each copied from there into its own
``<run id>/`` folder: ``Compactor._run_batch``) -> **switch**
(re-read the location: if another run switched it meanwhile, abandon this copy; else one ``UpdatePartition``).

Why every row stays exactly once whatever stops or overlaps:

- readers see one location at a time, and a copy holds exactly the rows of its manifest's objects;
- a run that dies before the switch leaves the old location in place (its unreferenced folder is garbage,
  never read); a re-run starts over under a new run id;
- two runs at once: a run switches only if the location it read the current copy from is still the
  partition's location after its statement finished, so it never drops or repeats rows another run
  switched in; two runs that started from the same location each hold the same rows (plus whatever new
  objects each listed, named in its manifest), so whichever switches last is still exact;
- nothing is deleted by the compactor. After a switch it **retires** what the switch made unread: it tags
  (``SUPERSEDED_TAG``) every original object the partition's manifest names and every object
  of the copies before it, and the lake bucket's lifecycle rule expires tagged objects some days later. It
  tags only what lies *behind* the partition's current location (objects the current copy holds, or copies
  it replaced), never the current copy, never an object no manifest names (a late arrival). The run's
  ``<run id>.retired`` marker, written last, says it is done; a run that finds the current copy without one
  (a crash between switch and tagging) retires it first. Tagging twice is harmless.
- a copy that is never switched in is tagged too, since no location will ever read it: a run that loses the
  switch tags its own copy and manifest at once (**abandon**); a run that died before switching leaves its
  folder, and a later run **sweeps** it. Before planning a partition, a run lists its compacted folder once
  (from the run's one listing of its type: ``_list``) and, after retiring the current copy if needed,
  tags every run there that is not the current copy, started
  more than ``SWEEP_GRACE`` ago (longer than a run and its UNLOAD can last, so the run can
  neither write into its folder nor switch to it any more), and has no ``.retired`` marker (the retirement
  of its successor tags it) nor ``.abandoned`` marker (done already). Either way the run's
  ``<run id>.abandoned`` marker, itself tagged, says so. A swept run that had been switched in and then
  superseded before it was retired lies behind the current copy, so tagging it is right; and because a sweep
  only follows the current copy's retirement, a later retirement's walk back stops at that retired copy and
  never needs the manifest of a run swept (and perhaps expired) before it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_contract import limits
from glue import schema
from glue.compactor_contract import (
    BATCH_MAX_BYTES,
    DEFAULT_COMPRESSION,
    DEFAULT_PARALLEL,
    SOURCE_TABLE,
    SUPERSEDED_TAG,
)
from glue.errors import error_cause
from glue.marks import DEFAULT_FINGERPRINT_FIELDS
from lake_compactor import compaction_plan as plan
from lake_compactor.compaction_plan import CompactionStatement, RunManifest

ALREADY_EXISTS = "AlreadyExistsException"
# What S3 answers for a key with no current version (HeadObject has no body, hence the bare status).
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
# An object S3 stamped this long before a run started was in that run's listing (S3 lists with strong
# read-after-write consistency; the margin covers the Lambda's clock against S3's).
LISTED_BY_THEN = timedelta(minutes=5)
# Why a copy was abandoned, in its ``.abandoned`` marker.
LOST_THE_SWITCH = "lost the switch"
SWEPT = "swept: not the current copy, not retired, older than the grace"


class CompactionFailed(RuntimeError):
    """A statement failed or the catalog refused a call; the partition keeps its location."""


class StatementEngine(Protocol):
    """Runs a compaction statement: ``start`` submits it (idempotent for one ``token``), ``wait`` blocks until
    it has written every file or raises :class:`CompactionFailed`."""

    def start(self, statement: CompactionStatement | plan.BatchStatement, token: str) -> str: ...

    def wait(self, handle: str) -> None: ...


@dataclass(frozen=True)
class CompactorConfig:
    database: str
    table: str
    bucket: str
    source_table: str = SOURCE_TABLE
    late_window_hours: int = 3
    lookback_hours: int = 48
    compression: str = DEFAULT_COMPRESSION
    parallel: int = DEFAULT_PARALLEL
    # Recompute the duplicate marks of each partition it compacts (``glue.marks``: every dedupe mode but off),
    # telling events apart by these fields (the stack's dedupeFingerprintFields).
    mark: bool = True
    fingerprint_fields: tuple[str, ...] = DEFAULT_FINGERPRINT_FIELDS
    # How much earlier than a run's start S3 must have written an object for it to count as listed by it.
    listed_by_then: timedelta = LISTED_BY_THEN


@dataclass(frozen=True)
class PartitionJob:
    """One planned compaction: where the partition reads now, what the new copy holds, where it goes."""

    values: dict[str, str]
    glue_partition: dict[str, Any]  # as GetPartition returned it (the switch keeps all but the location)
    start_location: str
    previous_sources: tuple[str, ...]  # keys already in the current copy (empty: it reads the originals)
    new_sources: tuple[str, ...]  # keys of original objects added by this run
    run_id: str
    statement: CompactionStatement
    source_bytes: int = 0  # what its statement reads: the new objects and the current copy, as listed

    @property
    def location(self) -> str:
        return self.statement.target

    @property
    def manifest(self) -> RunManifest:
        return RunManifest(
            run_id=self.run_id,
            values=self.values,
            location=self.location,
            previous_location=self.start_location,
            sources=tuple(sorted({*self.previous_sources, *self.new_sources})),
            created=self.run_id.split("-")[0],
        )


@dataclass
class CompactionReport:
    switched: list[str] = field(default_factory=list)  # partition paths
    unchanged: int = 0  # closed partitions with nothing new
    abandoned: list[str] = field(default_factory=list)  # another run switched first (its copy tagged)
    swept: list[str] = field(default_factory=list)  # runs never switched in whose copies a sweep tagged
    failed: list[str] = field(default_factory=list)
    deferred: int = 0  # left for the next run (time budget)
    retired: list[str] = field(default_factory=list)  # runs whose superseded objects were tagged
    tagged: int = 0  # objects tagged superseded (abandoned markers, written tagged, included)

    def as_dict(self) -> dict[str, Any]:
        return {
            "switched": len(self.switched),
            "unchanged": self.unchanged,
            "abandoned": len(self.abandoned),
            "failed": self.failed,
            "deferred": self.deferred,
            "retired": len(self.retired),
            "swept": len(self.swept),
            "tagged": self.tagged,
        }


def _values(partition: dict[str, Any]) -> dict[str, str]:
    return dict(zip(schema.PARTITION_KEY_NAMES, partition["Values"], strict=True))


def _unretired(values: dict[str, str], current: str | None, runs: dict[str, list[str]]) -> bool:
    """The partition reads a copy whose retired marker the listing ``runs`` lacks."""
    return current is not None and plan.retired_marker_key(values, current) not in runs.get(current, ())


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


@dataclass
class Compactor:
    glue: Any
    s3: Any
    engine: StatementEngine
    config: CompactorConfig
    token: Callable[[], str | None] = lambda: None  # run-id suffix (tests pin it; None: random)
    # During ``run``: each type's folder listed once from the run's first date on (LIST requests are most of a
    # run's S3 bill when every closed hour of the lookback is looked at): prefix -> [(key, last modified)].
    _listed: dict[str, list[tuple[str, datetime]]] | None = field(default=None, init=False, repr=False)
    _listed_from: str = field(default="", init=False, repr=False)  # the run's first event_date
    # Each listed object's size: what a job reads, so a run knows which partitions are small enough to batch.
    _sizes: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _now: datetime | None = field(default=None, init=False, repr=False)  # the run's clock, for batch ids

    # --- which partitions -------------------------------------------------------------------------------

    def candidates(
        self, now: datetime, first: datetime | None = None, last: datetime | None = None
    ) -> list[dict]:
        """Closed partitions whose hour lies in [first, last] (default: the lookback window), oldest first."""
        first = first or now - timedelta(hours=self.config.lookback_hours)
        last = last or now
        expression = f"event_date >= '{first:%Y-%m-%d}' AND event_date <= '{last:%Y-%m-%d}'"
        found = []
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=self.config.database, TableName=self.config.table, Expression=expression
        )
        for page in pages:
            for partition in page["Partitions"]:
                values = _values(partition)
                start = plan.hour_start(values)
                if first <= start <= last and plan.is_closed(values, now, self.config.late_window_hours):
                    found.append(partition)
        return sorted(found, key=lambda p: (p["Values"][1], p["Values"][2], p["Values"][0]))

    # --- one partition, step by step ----------------------------------------------------------------------

    def plan(self, partition: dict[str, Any], now: datetime) -> PartitionJob | None:
        """The job for one partition, or None when its copy already holds every original object."""
        values = _values(partition)
        location = partition["StorageDescriptor"]["Location"]
        current_run = plan.run_of_location(location)
        listed = self._list(plan.original_folder(values))
        originals = sorted(key for key, _ in listed if schema.partition_of_key(key) is not None)
        if current_run is not None and self._took_all(values, current_run, listed, originals):
            return None  # no GET of its manifest: every object was there when the copy was planned
        previous: tuple[str, ...] = ()
        if current_run is not None:
            previous = self._manifest(values, current_run).sources
        new = tuple(k for k in originals if k not in set(previous))
        if not new:
            return None
        run_id = plan.new_run_id(now, self.token())
        statement = self._statement(values, current_run is not None, new, run_id)
        while not plan.statement_fits(statement) and len(statement.sources) > 1:
            # More new objects than one query string holds: this run takes the first half, the next the rest.
            half = statement.sources[: len(statement.sources) // 2]
            statement = dataclasses.replace(statement, sources=half)
        taken = tuple(plan.key_of(uri)[1] for uri in statement.sources)
        copy = plan.compacted_folder(values, current_run) if current_run is not None else None
        current = [
            k for k, _ in self._list(plan.compacted_partition_folder(values)) if copy and k.startswith(copy)
        ]
        size = sum(self._sizes.get(k, 0) for k in (*taken, *current))
        return PartitionJob(values, partition, location, previous, taken, run_id, statement, size)

    def _took_all(
        self,
        values: dict[str, str],
        current_run: str,
        listed: list[tuple[str, datetime]],
        originals: list[str],
    ) -> bool:
        """Whether the current copy holds every original object without reading its manifest: each was
        written before the copy's run started (so that run listed it), and one statement could take them all
        (so that run did not leave some for the next)."""
        started = plan.run_started(current_run) - self.config.listed_by_then
        if not originals or any(modified >= started for key, modified in listed if key in set(originals)):
            return False
        return plan.statement_fits(self._statement(values, True, originals, current_run))

    def _statement(
        self, values: dict[str, str], include_current: bool, keys: Sequence[str], run_id: str
    ) -> CompactionStatement:
        """The UNLOAD of a run's copy of ``values``: the current copy (if any) plus the original ``keys``."""
        return CompactionStatement(
            database=self.config.database,
            table=self.config.table,
            source_table=self.config.source_table,
            values=values,
            include_current=include_current,
            sources=tuple(plan.s3_uri(self.config.bucket, k) for k in keys),
            target=plan.s3_uri(self.config.bucket, plan.compacted_folder(values, run_id)),
            compression=self.config.compression,
            mark=self.config.mark,
            fingerprint_fields=self.config.fingerprint_fields,
        )

    def start(self, job: PartitionJob) -> str:
        """Make the originals readable to the statement, then submit it."""
        self._register_sources(job)
        return self.engine.start(
            job.statement, token=f"compaction-{job.run_id}-{plan.partition_path(job.values)}"
        )

    def finish(self, job: PartitionJob, handle: str) -> None:
        """Wait for the copy, then write its manifest (before any reader can be switched to it)."""
        self.engine.wait(handle)
        self._put_manifest(job)

    def _put_manifest(self, job: PartitionJob) -> None:
        _, key = plan.key_of(plan.s3_uri(self.config.bucket, plan.manifest_key(job.values, job.run_id)))
        self.s3.put_object(
            Bucket=self.config.bucket, Key=key, Body=job.manifest.to_json(), ContentType="application/json"
        )

    def write(self, job: PartitionJob) -> None:
        self.finish(job, self.start(job))

    def switch(self, job: PartitionJob) -> bool:
        """Point the partition at the new copy, unless another run moved it since this one planned."""
        current = self.glue.get_partition(
            DatabaseName=self.config.database,
            TableName=self.config.table,
            PartitionValues=list(job.glue_partition["Values"]),
        )["Partition"]
        if current["StorageDescriptor"]["Location"] != job.start_location:
            return False
        storage = dict(current["StorageDescriptor"])
        storage["Location"] = job.location
        parameters = dict(current.get("Parameters") or {})
        parameters[plan.RUN_PARAMETER] = job.run_id
        self.glue.update_partition(
            DatabaseName=self.config.database,
            TableName=self.config.table,
            PartitionValueList=list(current["Values"]),
            PartitionInput={
                "Values": list(current["Values"]),
                "StorageDescriptor": storage,
                "Parameters": parameters,
            },
        )
        return True

    # --- retiring what a switch superseded ---------------------------------------------------------------

    def retire(self, partition_values: Sequence[str]) -> tuple[str, int] | None:
        """Tag what the partition's current copy superseded, if that is not done yet: (run id, objects
        tagged), or None when the partition reads its originals or its copy is already retired.

        The location is read here, not taken from a job: only what lies behind the copy readers see now is
        tagged. The chain of manifests behind it is read before anything is tagged, and the oldest copy is
        tagged first, so a manifest that is itself tagged (and perhaps expired) only ever sits in front of
        copies already tagged: walking back stops at a retired run or a manifest that is gone.
        """
        current = self.glue.get_partition(
            DatabaseName=self.config.database,
            TableName=self.config.table,
            PartitionValues=list(partition_values),
        )["Partition"]
        values = _values(current)
        run_id = plan.run_of_location(current["StorageDescriptor"]["Location"])
        if run_id is None or self._exists(plan.retired_marker_key(values, run_id)):
            return None
        manifest = self._manifest(values, run_id)
        originals = set(manifest.sources)
        behind: list[str] = []  # superseded runs, newest first
        previous = plan.run_of_location(manifest.previous_location)
        while previous is not None and previous != run_id and previous not in behind:
            keys = self._run_keys(values, previous)
            behind.append(previous)
            if plan.retired_marker_key(values, previous) in keys:
                # Its own originals and everything behind it were tagged when it was retired.
                done = self._manifest_or_none(values, previous)
                originals -= set(done.sources if done else ())
                break
            older = self._manifest_or_none(values, previous)
            if older is None:  # tagged by an earlier retirement (and expired): all behind it is tagged
                break
            previous = plan.run_of_location(older.previous_location)
        tagged = 0
        for previous in reversed(behind):
            tagged += self._tag(self._run_keys(values, previous))
        tagged += self._tag(sorted(originals))
        self.s3.put_object(
            Bucket=self.config.bucket,
            Key=plan.retired_marker_key(values, run_id),
            Body=json.dumps({"run_id": run_id, "superseded_runs": behind, "tagged": tagged}).encode("utf-8"),
            ContentType="application/json",
        )
        return run_id, tagged

    def _retire_into(self, report: CompactionReport, partition_values: Sequence[str]) -> bool:
        """Retire one partition's current copy into ``report``; False when it failed (reported)."""
        try:
            retired = self.retire(partition_values)
        except Exception as exc:
            name = plan.partition_path(dict(zip(schema.PARTITION_KEY_NAMES, partition_values, strict=True)))
            self._report_failure(report, name, exc)
            return False
        if retired is not None:
            report.retired.append(retired[0])
            report.tagged += retired[1]
        return True

    # --- copies never switched in ------------------------------------------------------------------------

    def abandon(
        self, values: dict[str, str], run_id: str, reason: str, keys: Sequence[str] | None = None
    ) -> int:
        """Tag a copy no location reads or ever will (its run lost the switch, or died before it and is past
        the grace), then write the run's ``.abandoned`` marker, tagged too so it expires with the copy (it is
        written after the copy, so it expires no sooner). Returns the objects tagged, the marker included.
        ``keys``: the run's objects when a listing already holds them (else one LIST)."""
        keys = self._run_keys(values, run_id) if keys is None else keys
        tagged = self._tag(keys)
        tag_key, tag_value = SUPERSEDED_TAG
        self.s3.put_object(
            Bucket=self.config.bucket,
            Key=plan.abandoned_marker_key(values, run_id),
            Body=json.dumps({"run_id": run_id, "reason": reason, "tagged": tagged}).encode("utf-8"),
            ContentType="application/json",
            Tagging=urllib.parse.urlencode({tag_key: tag_value}),
        )
        return tagged + 1

    def sweep(self, partition: dict[str, Any], now: datetime) -> list[tuple[str, int]]:
        """Abandon the partition's copies that were never switched in and are past the grace (one LIST; see
        ``compaction_plan.runs_to_sweep``): [(run id, objects tagged)]. Nothing while the partition's current
        copy is not retired: a retirement walks back through the copies behind it, so it must come first
        (``run`` retires, then sweeps)."""
        values = _values(partition)
        current = plan.run_of_location(partition["StorageDescriptor"]["Location"])
        runs = self._runs(values)
        if _unretired(values, current, runs):
            return []
        return self._sweep(values, current, runs, now)

    def _sweep(
        self, values: dict[str, str], current: str | None, runs: dict[str, list[str]], now: datetime
    ) -> list[tuple[str, int]]:
        return [
            (run_id, self.abandon(values, run_id, SWEPT, runs[run_id]))
            for run_id in plan.runs_to_sweep(values, runs, current, now)
        ]

    def _settle(self, report: CompactionReport, partition: dict[str, Any], now: datetime) -> bool:
        """Before planning a partition: retire its current copy if a run stopped before doing so, then sweep;
        one LIST of its compacted folder serves both. False when that failed (reported): the partition is
        then neither swept nor planned, since a sweep must follow the current copy's retirement. A failed
        sweep is reported and planning goes on (the copies stay for the next run's sweep)."""
        values = _values(partition)
        name = plan.partition_path(values)
        current = plan.run_of_location(partition["StorageDescriptor"]["Location"])
        try:
            runs = self._runs(values)
        except Exception as exc:
            self._report_failure(report, name, exc)
            return False
        # A copy switched in by a run that stopped before retiring what it replaced: retire it first.
        if _unretired(values, current, runs) and not self._retire_into(report, partition["Values"]):
            return False
        try:
            for run_id, tagged in self._sweep(values, current, runs, now):
                report.swept.append(run_id)
                report.tagged += tagged
        except Exception as exc:
            self._report_failure(report, name, exc)
        return True

    # --- a whole run ----------------------------------------------------------------------------------------

    def run(
        self,
        now: datetime | None = None,
        *,
        first: datetime | None = None,
        last: datetime | None = None,
        time_left: Callable[[], float] = lambda: float("inf"),
        min_seconds: float = 0.0,
    ) -> CompactionReport:
        """Compact every closed partition with something new, ``parallel`` statements at a time; stop
        starting new ones when less than ``min_seconds`` remain (they stay candidates for the next run)."""
        now = now or datetime.now(UTC)
        first = first or now - timedelta(hours=self.config.lookback_hours)
        report = CompactionReport()
        jobs: list[PartitionJob] = []
        self._listed, self._listed_from = {}, f"{first:%Y-%m-%d}"  # planning lists each type's folders once
        try:
            for partition in self.candidates(now, first, last):
                if not self._settle(report, partition, now):
                    continue
                job = self.plan(partition, now)
                if job is None:
                    report.unchanged += 1
                else:
                    jobs.append(job)
        finally:
            self._listed = None
        self._now = now
        batches = self._batches(
            [j for j in jobs if j.source_bytes < limits.ATHENA_MIN_BILLED_BYTES_PER_QUERY]
        )
        batched = {id(j) for batch in batches if len(batch) > 1 for j in batch}
        alone = [j for j in jobs if id(j) not in batched]
        left = len(jobs)
        for batch in (b for b in batches if len(b) > 1):
            if time_left() < min_seconds:
                break
            self._run_batch(batch, report)
            left -= len(batch)
        for start in range(0, len(alone), max(1, self.config.parallel)):
            if time_left() < min_seconds:
                break
            wave = alone[start : start + self.config.parallel]
            self._run_wave(wave, report)
            left -= len(wave)
        report.deferred = left
        return report

    def _batches(self, small: Sequence[PartitionJob]) -> list[list[PartitionJob]]:
        """Small jobs (each would read less than Athena bills a query at least) grouped, in order, into
        batches that read ``BATCH_MAX_BYTES`` at most and whose UNLOAD fits one query."""
        batches: list[list[PartitionJob]] = []
        current: list[PartitionJob] = []
        for job in small:
            candidate = [*current, job]
            size = sum(j.source_bytes for j in candidate)
            if current and (size > BATCH_MAX_BYTES or not plan.statement_fits(self._batch(candidate, ""))):
                batches.append(current)
                candidate = [job]
            current = candidate
        if current:
            batches.append(current)
        return batches

    def _batch(self, jobs: Sequence[PartitionJob], batch_id: str) -> plan.BatchStatement:
        target = plan.s3_uri(self.config.bucket, plan.staging_folder(batch_id or "0" * 24))
        return plan.BatchStatement(tuple(j.statement for j in jobs), target)

    def _run_batch(self, jobs: Sequence[PartitionJob], report: CompactionReport) -> None:
        """One UNLOAD for every job of the batch into a staging folder, then per job: its files copied into
        its own copy folder (so every copy, manifest and marker sits where a one-partition run puts it: the
        protocol after the write is unchanged), its manifest, its switch and its retirement. The staging
        folder is never read and expires (``infra.compaction_spec``)."""
        batch_id = plan.new_run_id(self._now or datetime.now(UTC), self.token())
        statement = self._batch(jobs, batch_id)
        try:
            for job in jobs:
                self._register_sources(job)
            handle = self.engine.start(statement, token=f"compaction-batch-{batch_id}")
            self.engine.wait(handle)
        except Exception as exc:  # every partition of the batch keeps its location; the next run retries
            for job in jobs:
                self._failed(report, job, exc)
            return
        for job in jobs:
            try:
                self._unstage(batch_id, job)
                self._put_manifest(job)
                switched = self.switch(job)
            except Exception as exc:
                self._failed(report, job, exc)
                continue
            self._after_switch(job, switched, report)

    def _unstage(self, batch_id: str, job: PartitionJob) -> None:
        """Copy the partition's files from the batch's staging folder into the job's own copy folder."""
        staged = self._list_prefix(plan.staged_partition_folder(batch_id, job.values))
        if not staged:
            raise CompactionFailed(
                f"the batch {batch_id} wrote nothing for {plan.partition_path(job.values)}"
            )
        _, folder = plan.key_of(job.location)
        for key, _ in staged:
            self.s3.copy_object(
                Bucket=self.config.bucket,
                Key=f"{folder}{key.rsplit('/', 1)[-1]}",
                CopySource={"Bucket": self.config.bucket, "Key": key},
            )

    def _run_wave(self, wave: Sequence[PartitionJob], report: CompactionReport) -> None:
        handles: list[tuple[PartitionJob, str | None]] = []
        for job in wave:
            try:
                handles.append((job, self.start(job)))
            except Exception as exc:  # one partition's failure must not stop the others
                self._failed(report, job, exc)
        for job, handle in handles:
            try:
                self.finish(job, handle)
                switched = self.switch(job)
            except Exception as exc:
                self._failed(report, job, exc)
                continue
            self._after_switch(job, switched, report)

    def _after_switch(self, job: PartitionJob, switched: bool, report: CompactionReport) -> None:
        """Retire what the switch superseded, or, when another run switched first, abandon this copy."""
        name = plan.partition_path(job.values)
        if switched:
            report.switched.append(name)
            self._retire_into(report, job.glue_partition["Values"])
        else:
            report.abandoned.append(name)
            try:
                report.tagged += self.abandon(job.values, job.run_id, LOST_THE_SWITCH)
            except Exception as exc:  # its copy stays untagged until a later run sweeps it
                self._failed(report, job, exc)

    def _failed(self, report: CompactionReport, job: PartitionJob, exc: Exception) -> None:
        self._report_failure(report, plan.partition_path(job.values), exc)

    def _report_failure(self, report: CompactionReport, name: str, exc: Exception) -> None:
        """One ERROR line per failed partition with its cause (AWS's code and message, or the exception's
        type and text; the compactor does not retry: the partition stays a candidate for the next run)."""
        cause = error_cause(exc)
        report.failed.append(f"{name}: {cause['error_code']}: {cause['error_message']}")
        line = {
            "level": "ERROR",
            "message": "compaction failed",
            "partition": name,
            **cause,
            "retries": 0,
            "error": str(exc)[:1000],
        }
        sys.stdout.write(json.dumps(line) + "\n")

    # --- S3 and Glue details ------------------------------------------------------------------------------

    def _original_keys(self, values: dict[str, str]) -> list[str]:
        """The data objects directly in the partition's original folder (what Firehose wrote there)."""
        listed = self._list(plan.original_folder(values))
        return sorted(key for key, _ in listed if schema.partition_of_key(key) is not None)

    def _runs(self, values: dict[str, str]) -> dict[str, list[str]]:
        """The partition's compacted folder, listed once, by run (``compaction_plan.runs_in_folder``)."""
        return plan.runs_in_folder(
            values, (key for key, _ in self._list(plan.compacted_partition_folder(values)))
        )

    def _list(self, folder: str) -> list[tuple[str, datetime]]:
        """(key, last modified) under a partition's folder. While a run plans, from one listing of the
        folder's type (``<root>event_type=…/``) shared by all its days and hours: S3 lists keys in order, so
        starting after ``<root>event_type=…/event_date=<the run's first date>`` skips the older days without a
        request (a type's few days of objects fit one 1,000-key page at prod; was a LIST per type-day, 3x the
        requests); else the folder on its own."""
        if self._listed is None:
            return self._list_prefix(folder)
        day = f"/{schema.PARTITION_KEY_NAMES[1]}="
        if day not in folder:
            return self._list_prefix(folder)
        kind = folder[: folder.index(day) + 1]
        if kind not in self._listed:
            self._listed[kind] = self._list_prefix(kind, f"{kind}{day[1:]}{self._listed_from}")
        return [(key, modified) for key, modified in self._listed[kind] if key.startswith(folder)]

    def _list_prefix(self, prefix: str, start_after: str = "") -> list[tuple[str, datetime]]:
        after = {"StartAfter": start_after} if start_after else {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=prefix, **after
        )
        found = []
        for page in pages:
            for item in page.get("Contents", []):
                found.append((item["Key"], item["LastModified"]))
                self._sizes[item["Key"]] = int(item.get("Size", 0))
        return found

    def _exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.config.bucket, Key=key)
        except Exception as exc:
            if _error_code(exc) in MISSING:
                return False
            raise
        return True

    def _run_keys(self, values: dict[str, str], run_id: str) -> list[str]:
        """Every object one run wrote for the partition: its copy's files, its manifest, its markers."""
        prefix = plan.run_objects_prefix(values, run_id)
        own = {f"{prefix}.json", f"{prefix}{plan.RETIRED_SUFFIX}", f"{prefix}{plan.ABANDONED_SUFFIX}"}
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket, Prefix=prefix)
        return sorted(
            item["Key"]
            for page in pages
            for item in page.get("Contents", [])
            if item["Key"] in own or item["Key"].startswith(f"{prefix}/")
        )

    def _tag(self, keys: Iterable[str]) -> int:
        """Tag each key superseded (its current version); a key already expired is skipped."""
        key, value = SUPERSEDED_TAG
        count = 0
        for object_key in keys:
            try:
                self.s3.put_object_tagging(
                    Bucket=self.config.bucket,
                    Key=object_key,
                    Tagging={"TagSet": [{"Key": key, "Value": value}]},
                )
            except Exception as exc:
                # Gone already: expired after an earlier tagging (a delete marker answers 405).
                if _error_code(exc) in MISSING or _error_code(exc) == "MethodNotAllowed":
                    continue
                raise
            count += 1
        return count

    def _manifest_or_none(self, values: dict[str, str], run_id: str) -> RunManifest | None:
        try:
            return self._manifest(values, run_id)
        except Exception as exc:
            if _error_code(exc) in MISSING:
                return None
            raise

    def _manifest(self, values: dict[str, str], run_id: str) -> RunManifest:
        body = self.s3.get_object(Bucket=self.config.bucket, Key=plan.manifest_key(values, run_id))[
            "Body"
        ].read()
        return RunManifest.from_json(body)

    def _register_sources(self, job: PartitionJob) -> None:
        """The source table's partition at the original folder (created once; an existing one is success)."""
        storage = dict(job.glue_partition["StorageDescriptor"])
        storage["Location"] = plan.s3_uri(self.config.bucket, plan.original_folder(job.values))
        response = self.glue.batch_create_partition(
            DatabaseName=self.config.database,
            TableName=self.config.source_table,
            PartitionInputList=[{"Values": list(job.glue_partition["Values"]), "StorageDescriptor": storage}],
        )
        refused = [
            e
            for e in response.get("Errors") or []
            if (e.get("ErrorDetail") or {}).get("ErrorCode") != ALREADY_EXISTS
        ]
        if refused:
            raise CompactionFailed(f"Glue refused the source partition: {refused}")


def partition_names(partitions: Iterable[dict[str, Any]]) -> list[str]:
    return [plan.partition_path(_values(p)) for p in partitions]
