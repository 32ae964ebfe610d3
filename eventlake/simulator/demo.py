"""``make demo``: the real pipeline on an embedded AWS, end to end, checked against THE INVARIANT.

Produce seeded events onto Kinesis, let the Firehose model run the deployed transform and write the
lake to S3, mirror the bucket to a directory, query it the way Athena would, and prove that every
record sent is in the lake exactly once (see ``eventlake.checks.invariant``). ``run_demo`` returns a
``Report`` and prints nothing unless asked, so tests call it directly.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import boto3

from aws_contract import limits
from eventlake.athena import engine as athena
from eventlake.athena import result_rows
from eventlake.checks import emf_lines, run_record
from eventlake.checks import lake_contents as lake
from eventlake.checks.invariant import Faults, InvariantResult, Lineage
from eventlake.checks.mode_invariants import RunFacts, View, invariant_for
from eventlake.cli import progress
from eventlake.simulator import faults, local_compaction
from eventlake.simulator.embedded import dynamodb_direct, eventbridge, kinesis_direct
from eventlake.simulator.embedded.aws import ACCOUNT_ID, EmbeddedAws, embedded_aws, stack_region
from eventlake.simulator.firehose import observed
from eventlake.simulator.firehose.model import FirehoseModel, FirehoseRun, Stats, lambda_invoke
from eventlake.simulator.firehose.s3_destination import DATA, WrittenObject
from eventlake.traffic import sample_events
from eventlake.traffic.producer import Ledger, send, stream_shards
from glue import schema
from glue.errors import LogMessage
from infra import processors
from infra.catalog_spec import CatalogSpec
from infra.compaction_spec import CompactionSpec
from infra.delivery_spec import DeliverySpec
from infra.settings import PROJECT_ROOT, Settings
from lake_compactor import compaction_plan
from lake_compactor.compactor import CompactionReport
from partition_registrar.registrar_handler import Registrar, created_objects
from transform_lambda.claims import ClaimStore, DynamoClaims, NoClaims, claims_client_config
from transform_lambda.handler import CLAIM_CONCURRENCY, DedupeConfig

DEFAULT_EVENTS = 5_000


@dataclass(frozen=True)
class DemoOptions:
    stack: str = "dev"
    events: int = DEFAULT_EVENTS
    duplicate_share: float = sample_events.DEFAULT_DUPLICATE_SHARE
    malformed_share: float = sample_events.DEFAULT_MALFORMED_SHARE
    seed: int = 7
    out: Path | None = None  # default: out/<stack>/lake
    fail_invocations: float = 0.0
    fail_dedupe: float = 0.0
    fail_conversion: float = 0.0
    resend_batches: float = 0.0
    concurrent_invocations: int = 1  # up to 5 per shard at once, as AWS allows: claims race for real
    redeliver_batches: float = 0.0  # share of delivered batches Firehose processes and delivers again
    hours: int = sample_events.DEFAULT_HOURS
    batch_records: int | None = None  # cap records per Lambda invocation (AWS batches by size/interval)
    max_active_partitions: int = limits.ACTIVE_PARTITIONS_DEFAULT
    types: int | None = None  # event types to draw from (None: the sample catalogue's own)
    # A production hour: the embedded Kinesis stamps arrivals evenly over this many simulated seconds from the
    # start of the event window, so Firehose's buffers see an hour's pace (None: the wall clock).
    arrival_seconds: int | None = None
    quiet: bool = True
    root: Path = PROJECT_ROOT
    processor: str | None = None  # override the stack's ``processor`` (lambda or jq)
    # End with a compaction pass over every partition (as the compactor Lambda would once each hour closed):
    # the invariant then reads the table through its catalog and holds the marks exact.
    compact: bool = False
    # Produce as the KPL does: the events bound for each shard packed into KPL aggregated records
    # (``kpl_aggregation.pack_by_shard``), which the Firehose model de-aggregates before the Lambda.
    aggregate: bool = False

    @property
    def out_dir(self) -> Path:
        return self.out if self.out is not None else Path("out") / self.stack / "lake"


@dataclass(frozen=True)
class PartitionUsage:
    partition: str
    objects: int
    bytes: int
    rows: int


@dataclass(frozen=True)
class QueryResult:
    name: str
    columns: list[str]
    rows: Sequence[tuple[Any, ...]]
    error: str | None = None


@dataclass
class Report:
    options: DemoOptions
    settings: Settings
    spec: DeliverySpec
    region: str
    stream_name: str
    shards: int
    bucket: str
    ledger: Ledger
    stats: Stats
    injected: dict[str, int]
    written: list[WrittenObject]
    max_active_partitions: int
    lake: lake.LakeContents
    queries: list[QueryResult]
    catalog_partitions: list[athena.CatalogPartition]  # what the Glue catalog knows: what the queries read
    invariant: InvariantResult
    rejections: dict[Lineage, list[str]] = field(default_factory=dict)  # the Lambda's log
    # What CloudWatch would extract from the Lambda's embedded-metric-format lines, summed over the run.
    metrics: Counter[emf_lines.MetricKey] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    observations: observed.DeliveryObservations | None = None
    # Beside the sizing model's prediction for the same load, or why there is none (only for a paced run).
    sizing: list[observed.SizingComparison] | str | None = None

    @property
    def ok(self) -> bool:
        return self.invariant.ok

    @property
    def sent_by_expectation(self) -> Counter[str]:
        return Counter(s.expect.value for s in self.ledger.records)

    @property
    def malformed_reasons(self) -> Counter[str]:
        return Counter(str(s.reason) for s in self.ledger.records if s.reason is not None)

    @property
    def duplicates_marked(self) -> int:
        return sum(1 for flag in lake.column_values(self.lake.rows, "is_duplicate") if flag is True)

    @property
    def errors_by_type(self) -> Counter[str]:
        return Counter(e.output_type for e in self.lake.errors)

    @property
    def errors_by_code(self) -> Counter[str]:
        return Counter(f"{e.output_type} / {e.record.error_code}" for e in self.lake.errors)

    def objects_of(self, kind: str) -> list[WrittenObject]:
        return [o for o in self.written if o.kind == kind]

    def partitions(self) -> list[PartitionUsage]:
        usage: dict[str, list[WrittenObject]] = {}
        for obj in self.objects_of(DATA):
            usage.setdefault(obj.partition, []).append(obj)
        return sorted(
            (
                PartitionUsage(p, len(objs), sum(o.size for o in objs), sum(o.records for o in objs))
                for p, objs in usage.items()
            ),
            key=lambda u: (-u.bytes, u.partition),
        )

    @property
    def raw_bytes_delivered(self) -> int:
        """Bytes the producer sent for the records that became rows (each user record's own bytes)."""
        shards, sequences, subsequences = (lake.column_values(self.lake.rows, c) for c in _LINEAGE_COLUMNS)
        delivered = {
            (str(shard), str(seq), sub or 0)
            for shard, seq, sub in zip(shards, sequences, subsequences, strict=True)
        }
        return sum(len(s.data) for s in self.ledger.records if s.lineage in delivered)

    @property
    def kinesis_records(self) -> int:
        """Kinesis records put: one per event, or one per KPL aggregate (``aggregate``)."""
        return len({s.kinesis_lineage for s in self.ledger.records})


Advance = progress.Advance
_LINEAGE_COLUMNS = ("source_shard_id", "source_sequence_number", "source_subsequence_number")  # Row.lineage's
T = TypeVar("T")


@dataclass(frozen=True)
class FollowUpDelivery:
    """A delivery pass after the run, and the lake as it stands after it."""

    run: FirehoseRun
    lake: lake.LakeContents
    queries: list[QueryResult]
    catalog_partitions: list[athena.CatalogPartition]
    rejections: dict[Lineage, list[str]]  # the Lambda's rejection log lines of this pass

    def query(self, name: str) -> QueryResult:
        return next(q for q in self.queries if q.name == name)


@dataclass(frozen=True)
class CompactedLake:
    """A compaction pass over every partition (``compact_lake``), and the table as its catalog reads now."""

    compaction: CompactionReport
    lake: lake.LakeContents  # rows: the table through the catalog (the compacted copies)
    queries: list[QueryResult]
    catalog_partitions: list[athena.CatalogPartition]

    def query(self, name: str) -> QueryResult:
        return next(q for q in self.queries if q.name == name)


@dataclass
class OpenDemo:
    """A finished run whose embedded AWS is still open (``open_demo``): its report, the AWS clients, and the
    claim store the Lambda used (the same DynamoDB table, without the injected faults)."""

    report: Report
    aws: EmbeddedAws
    claims: ClaimStore
    passes: int = 1
    faults: Faults = field(default_factory=Faults)
    # The Lambda's rejection log lines of every pass so far, by source record (what `eventlake check` reads).
    rejections: dict[Lineage, list[str]] = field(default_factory=dict)

    def deliver_more(self, put: Callable[[], T]) -> tuple[T, FollowUpDelivery]:
        """Call ``put`` (it puts records on the stream, e.g. ``eventlake reprocess``), then deliver what it
        put with a new Firehose model, reading the stream from where ``put`` began: the deployed Lambda and
        the same claims table, no injected faults (the outage is over) and the default active-partition limit
        (the runbook raises the quota before replaying). Then register the new partitions, mirror the bucket
        to the run's ``--out`` again and run the queries there. Returns ``put``'s result and the pass."""
        options, settings, spec = self.report.options, self.report.settings, self.report.spec
        self.passes += 1
        rejections: dict[Lineage, list[str]] = {}
        log_lines: list[dict[str, Any]] = []
        model = FirehoseModel(  # its reader registers at LATEST here, before ``put`` runs
            self.aws,
            spec,
            invoke=lambda_invoke(
                self.claims,
                _collect_log(rejections, log_lines),
                function_name=settings.function_name,
                dedupe=dedupe_config(settings),
            ),
            rng=_rng(options, f"firehose pass {self.passes}"),
            max_batch_records=options.batch_records,
        )
        result = put()
        run = model.run()
        for lineage, reasons in rejections.items():
            self.rejections.setdefault(lineage, []).extend(reasons)
        partitions = register_partitions(self.aws, run.written)
        objects = lake.mirror(self.aws.s3, self.aws.bucket, options.out_dir)
        contents = lake.read(options.out_dir, objects)
        queries = _run_queries(options.out_dir, settings.glue_database, partitions, spec.processing)
        return result, FollowUpDelivery(run, contents, queries, partitions, rejections)

    def compact(self) -> CompactedLake:
        """Compact every partition now (``compact_lake``), mirror the bucket again and read the table and the
        queries through the catalog, as Athena reads them after the compactor's runs."""
        options, settings, spec = self.report.options, self.report.settings, self.report.spec
        report = compact_lake(self.aws, settings)
        partitions = athena.catalog_partitions(self.aws.glue, spec.database_name, spec.table_name)
        objects = lake.mirror(self.aws.s3, self.aws.bucket, options.out_dir)
        contents = dataclasses.replace(
            lake.read(options.out_dir, objects),
            rows=lake.table_rows(options.out_dir, [p.location for p in partitions]),
        )
        queries = _run_queries(options.out_dir, settings.glue_database, partitions, spec.processing)
        # Beside the mirror again, so that `eventlake check` re-checks the lake as it stands now.
        run_record.write(
            options.out_dir,
            stack=options.stack,
            sent=self.report.ledger.records,
            rejections=self.rejections,
            faults=self.faults,
            dedupe=settings.dedupe_mode,
            backup_enabled=spec.source_backup,
            processor=settings.processor,
            compacted=True,
            locations=[p.location for p in partitions],
        )
        return CompactedLake(report, contents, queries, partitions)


def run_demo(options: DemoOptions, *, console: Any = None) -> Report:
    """Run everything once. With ``console`` (a rich Console) and ``quiet=False``, show progress."""
    with open_demo(options, console=console) as opened:
        return opened.report


@contextmanager
def open_demo(options: DemoOptions, *, console: Any = None) -> Iterator[OpenDemo]:
    """``run_demo``, with the embedded AWS kept open until the block ends: the same run and report, and then
    ``OpenDemo.deliver_more`` for a follow-up delivery pass (e.g. after ``eventlake reprocess``)."""
    lake.check_mirror_target(options.out_dir)  # before any work: never write into someone else's files
    settings = Settings.from_stack_file(options.stack, options.root)
    if options.processor is not None:
        settings = dataclasses.replace(settings, processor=options.processor)
    spec = DeliverySpec.from_settings(settings)
    region = stack_region(options.stack, options.root)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    with embedded_aws(settings, spec, region=region) as aws, ExitStack() as attachments:
        timings["start embedded AWS"] = time.perf_counter() - started
        rejections: dict[Lineage, list[str]] = {}
        claims = _claims(settings, aws, attachments)
        flaky_claims = (
            faults.FlakyClaims(claims, options.fail_dedupe, _rng(options, "dedupe"))
            if options.fail_dedupe
            else None
        )
        log_lines: list[dict[str, Any]] = []
        invoke = lambda_invoke(
            flaky_claims or claims,
            _collect_log(rejections, log_lines),
            function_name=settings.function_name,
            dedupe=dedupe_config(settings),
        )
        flaky_invoke = (
            faults.FlakyInvoke(invoke, options.fail_invocations, _rng(options, "invoke"))
            if options.fail_invocations
            else None
        )
        corrupt = (
            faults.CorruptTimestamps(options.fail_conversion, _rng(options, "conversion"))
            if options.fail_conversion
            else None
        )
        # Created with the delivery stream: the model's reader registers at LATEST now.
        model = FirehoseModel(
            aws,
            spec,
            invoke=flaky_invoke or invoke,
            rng=_rng(options, "firehose"),
            before_conversion=corrupt,
            max_batch_records=options.batch_records,
            max_active_partitions=options.max_active_partitions,
            concurrency=options.concurrent_invocations,
            redeliver=options.redeliver_batches,
        )

        step = time.perf_counter()
        window = sample_events.window_start(datetime.now(UTC), options.hours)
        outgoing = sample_events.generate(
            options.events,
            rng=_rng(options, "events"),
            duplicate_share=options.duplicate_share,
            malformed_share=options.malformed_share,
            start=window,
            hours=options.hours,
            types=options.types,
        )
        with (
            _progress(options, console, "Producing to Kinesis", len(outgoing)) as advance,
            _paced(options, window, len(outgoing)),
        ):
            ledger = send(
                aws.kinesis,
                aws.stream_name,
                outgoing,
                rng=_rng(options, "producer"),
                resend_batch_rate=options.resend_batches,
                progress=advance,
                aggregate_for=stream_shards(aws.kinesis, aws.stream_name) if options.aggregate else None,
            )
        avg_event_bytes = sum(len(o.data) for o in outgoing) / max(1, len(outgoing))
        del outgoing  # the ledger keeps every record's bytes
        timings["produce"] = time.perf_counter() - step

        step = time.perf_counter()
        with _progress(options, console, "Delivering (Firehose model)", len(ledger.records)) as advance:
            run = model.run(progress=advance)
        timings["deliver"] = time.perf_counter() - step
        seen = observed.observe(
            run.written,
            peak_active_partitions=run.peak_active_partitions,
            hours=options.arrival_seconds / 3600 if options.arrival_seconds else None,
        )
        sizing = (
            observed.sizing_prediction(seen, settings, _load(options, settings, region, avg_event_bytes))
            if options.arrival_seconds
            else None
        )

        # S3 -> EventBridge -> the partition registrar, as deployed: the catalog learns each data object's
        # partition, and the local Athena reads exactly the partitions the catalog knows.
        step = time.perf_counter()
        with _step(options, console, "Registering partitions (the catalog)"):
            partitions = register_partitions(aws, run.written)
        timings["register partitions"] = time.perf_counter() - step

        compaction: CompactionReport | None = None
        if options.compact:
            step = time.perf_counter()
            with _step(options, console, "Compacting every partition"):
                compaction = compact_lake(aws, settings)
                partitions = athena.catalog_partitions(aws.glue, spec.database_name, spec.table_name)
            timings["compact every partition"] = time.perf_counter() - step

        step = time.perf_counter()
        out_dir = options.out_dir
        with _step(options, console, f"Mirroring the bucket to {out_dir} and reading it"):
            objects = lake.mirror(aws.s3, aws.bucket, out_dir)
            contents = lake.read(out_dir, objects)
            if compaction is not None:  # the table as Athena reads it now: the compacted copies
                contents = dataclasses.replace(
                    contents, rows=lake.table_rows(out_dir, [p.location for p in partitions])
                )
        timings["mirror and read lake"] = time.perf_counter() - step

        injected = {
            "invocation attempts failed before running": flaky_invoke.before if flaky_invoke else 0,
            "invocation attempts failed after running": flaky_invoke.after if flaky_invoke else 0,
            "claim store calls failed": flaky_claims.failures if flaky_claims else 0,
            "transformed records corrupted": len(corrupt.corrupted) if corrupt else 0,
            "PutRecords batches re-sent": ledger.resent_batches,
        }
        stream_name, bucket = aws.stream_name, aws.bucket

        step = time.perf_counter()
        with _step(options, console, "Running the saved queries (DuckDB, as Athena)"):
            queries = _run_queries(out_dir, settings.glue_database, partitions, spec.processing)
        timings["queries"] = time.perf_counter() - step

        step = time.perf_counter()
        faults_injected = Faults(
            invocations=bool(options.fail_invocations),
            dedupe=bool(options.fail_dedupe),
            conversion=frozenset(corrupt.corrupted) if corrupt else frozenset(),
            concurrent=options.concurrent_invocations > 1,
            redelivered=run.redelivered,
        )
        with _step(options, console, f"Checking the invariant ({len(ledger.records):,} records)"):
            facts = RunFacts(
                rejections, settings.dedupe_mode, spec.source_backup, faults_injected, compaction is not None
            )
            result = invariant_for(spec.processing).run(ledger.records, contents, facts, _view(queries))
            # Beside the mirror: what `eventlake check` needs to re-check this lake later.
            run_record.write(
                out_dir,
                stack=options.stack,
                sent=ledger.records,
                rejections=rejections,
                faults=faults_injected,
                dedupe=settings.dedupe_mode,
                backup_enabled=spec.source_backup,
                processor=settings.processor,
                compacted=compaction is not None,
                locations=[p.location for p in partitions] if compaction is not None else (),
            )
        timings["invariant"] = time.perf_counter() - step
        timings["total"] = time.perf_counter() - started

        report = Report(
            options=options,
            settings=settings,
            spec=spec,
            region=region,
            stream_name=stream_name,
            shards=run.shard_count,
            bucket=bucket,
            ledger=ledger,
            stats=run.stats,
            injected=injected,
            written=list(run.written),
            max_active_partitions=run.peak_active_partitions,
            lake=contents,
            queries=queries,
            catalog_partitions=partitions,
            invariant=result,
            rejections=rejections,
            metrics=emf_lines.totals(log_lines),
            timings=timings,
            observations=seen,
            sizing=sizing,
        )
        yield OpenDemo(report, aws, claims, faults=faults_injected, rejections=dict(rejections))


@contextmanager
def _paced(options: DemoOptions, start: int, records: int) -> Iterator[None]:
    """With ``arrival_seconds``, each record arrives ``arrival_seconds / records`` after the previous one,
    from ``start`` (epoch seconds), on the embedded Kinesis's clock (``kinesis_direct.CLOCK``)."""
    if not options.arrival_seconds:
        yield
        return
    step = options.arrival_seconds / max(1, records)
    made = itertools.count()
    kinesis_direct.CLOCK.set(lambda: start + next(made) * step)
    try:
        yield
    finally:
        kinesis_direct.CLOCK.set(None)


def _load(options: DemoOptions, settings: Settings, region: str, avg_event_bytes: float) -> dict[str, Any]:
    """``infra.capacity.Load``'s arguments for this run's traffic, per hour of arrivals. Event times are
    uniform over ``hours`` hours, so with one hour every event lands in its type's one event-hour partition,
    as with no late arrivals; more hours spread them like a late spread of ``hours - 1``."""
    hours = (options.arrival_seconds or 3600) / 3600
    return {
        "events_per_hour": options.events / hours,
        "avg_event_bytes": avg_event_bytes,
        "event_types": len({n.split(":")[0] for n in sample_events.catalogue(options.types)}),
        "late_spread_hours": options.hours - 1,
        "dedupe": settings.dedupe_mode,
        "region": region,
        "duplicate_share": options.duplicate_share,
    }


def dedupe_config(settings: Settings) -> DedupeConfig:
    """What the deployed transform reads from its environment (``infra.transform_function``)."""
    return DedupeConfig(
        fingerprint_fields=tuple(f for f in settings.dedupe_fingerprint_fields.split(",") if f),
        on_store_failure=settings.dedupe_on_store_failure,  # type: ignore[arg-type]
        mode=settings.dedupe_mode,
    )


def compact_lake(aws: EmbeddedAws, settings: Settings) -> CompactionReport:
    """One run of the deployed compactor (``lake_compactor``, its statements on DuckDB) over every partition
    the catalog knows, at a moment when all of them are closed: what the scheduled runs would have done once
    the last hour's late window passed. Configured as the program configures the Lambda
    (``CompactionSpec``)."""
    compaction = CompactionSpec.from_settings(settings)
    if compaction is None:
        raise ValueError(
            f"stack {settings.stack} compacts nothing (compactionEnabled false, or processor jq: no Parquet)"
        )
    catalog = CatalogSpec.from_settings(settings)
    local_compaction.ensure_source_table(aws.glue, catalog, aws.bucket)
    known = athena.catalog_partitions(aws.glue, catalog.database_name, catalog.table_name)
    if not known:
        return CompactionReport()
    hours = [
        compaction_plan.hour_start(dict(zip(schema.PARTITION_KEY_NAMES, p.values, strict=True)))
        for p in known
    ]
    first, last = min(hours), max(hours)
    now = last + timedelta(hours=1 + compaction.late_window_hours)
    with tempfile.TemporaryDirectory(prefix="eventlake-compaction-") as workdir:
        compactor = local_compaction.local_compactor(
            aws.glue,
            aws.s3,
            database=catalog.database_name,
            table=catalog.table_name,
            bucket=aws.bucket,
            workdir=Path(workdir),
            late_window_hours=compaction.late_window_hours,
            compression=compaction.compression,
            mark=compaction.mark,
            fingerprint_fields=tuple(f for f in compaction.fingerprint_fields.split(",") if f),
        )
        report = compactor.run(now, first=first, last=last)
    if report.failed:
        raise RuntimeError(f"compaction failed: {report.failed[:3]}")
    return report


def _rng(options: DemoOptions, purpose: str) -> random.Random:
    """One stream of randomness per purpose, so turning a fault on never changes the events."""
    return random.Random(f"{options.seed}:{purpose}")


def _claims(settings: Settings, aws: EmbeddedAws, attachments: ExitStack) -> ClaimStore:
    """The claim store as the deployed Lambda builds it (``claims.dynamo_claims``): its client's config (no
    client-side parameter validation, a pool for its threads), the credentials that client signs with and
    its concurrency, on the embedded DynamoDB."""
    if aws.claims_table:  # created only with dedupe: claims
        session = boto3.session.Session(region_name=aws.region)
        client = session.client("dynamodb", config=claims_client_config(CLAIM_CONCURRENCY))
        attachments.enter_context(dynamodb_direct.attached(client, ACCOUNT_ID))
        return DynamoClaims(
            client,
            aws.claims_table,
            ttl_seconds=settings.dedupe_ttl_seconds,
            credentials=session.get_credentials(),
            concurrency=CLAIM_CONCURRENCY,
            sleep=lambda _: None,
        )
    return NoClaims()


def _collect_log(
    into: dict[Lineage, list[str]], metric_lines: list[dict[str, Any]]
) -> Callable[[dict[str, Any]], None]:
    """The Lambda's log, kept like CloudWatch would: every rejection line, by source record, and every line
    that carries metrics (embedded metric format), which CloudWatch Logs would turn into metrics."""

    def log(entry: dict[str, Any]) -> None:
        if entry.get("message") == LogMessage.RECORD_REJECTED:
            lineage = (
                str(entry.get("shardId")),
                str(entry.get("sequenceNumber")),
                entry.get("subSequenceNumber") or 0,
            )
            into.setdefault(lineage, []).append(str(entry.get("reason")))
        if "_aws" in entry:
            metric_lines.append(entry)

    return log


def _view(queries: list[QueryResult]) -> View:
    """What the unique-events view returned (its columns and rows; none when it failed), for the invariant."""
    view = next((q for q in queries if q.name == athena.UNIQUE_EVENTS_VIEW), None)
    return ([], []) if view is None or view.error else (view.columns, view.rows)


def register_partitions(aws: EmbeddedAws, written: Sequence[WrittenObject]) -> list[athena.CatalogPartition]:
    """Deliver each data object's ``Object Created`` event to the registrar; return the catalog's partitions
    (what Athena would read)."""
    spec = aws.spec
    registrar = Registrar(aws.glue, spec.database_name, spec.table_name)
    for sequencer, obj in enumerate(o for o in written if o.kind == DATA):
        event = eventbridge.object_created(
            bucket=aws.bucket,
            key=obj.key,
            size=obj.size,
            when_ms=obj.delivered_ms,
            account=aws.account.account_id,
            region=aws.region,
            sequencer=sequencer,
        )
        registrar.register(created_objects(event))
    return athena.catalog_partitions(aws.glue, spec.database_name, spec.table_name)


def _run_queries(
    lake_root: Path,
    database: str,
    partitions: Sequence[athena.CatalogPartition] | None = None,
    processor: processors.Processor = processors.LAMBDA,
) -> list[QueryResult]:
    results: list[QueryResult] = []
    conn = athena.connect(lake_root, database, partitions, processor)
    try:
        for name, sql in athena.load_queries(processor.sql_dir).items():
            try:
                columns, rows = result_rows.run(conn, sql)  # as Arrow columns: the view is every event
                results.append(QueryResult(name, columns, rows))
            except Exception as exc:  # one broken query must not hide the others
                results.append(QueryResult(name, [], [], error=f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
    return results


@contextmanager
def _progress(options: DemoOptions, console: Any, label: str, total: int) -> Iterator[Advance | None]:
    if options.quiet or console is None:
        yield None
        return
    with progress.bar(console, label, total) as advance:
        yield advance


@contextmanager
def _step(options: DemoOptions, console: Any, label: str) -> Iterator[None]:
    """A spinner while a step that counts nothing runs (the mirror, the queries, the invariant)."""
    if options.quiet or console is None:
        yield
        return
    with progress.step(console, label):
        yield
