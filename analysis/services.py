"""Writes for reports: compute one, note that judgments changed, enqueue a debounced computation.

Freshness is a dirty flag. A judgment sets `stale` (an UPDATE that matches nothing once the flag
is set, so a burst of judgments costs one row write); a computation clears it before it reads,
so judgments that land during the computation set it again and are picked up next time. With a
broker, the first change after a computation also enqueues one computation `countdown` seconds
later (`queued_at` guards it); with the eager embedded default nothing is computed on the
worker's path: a researcher reading a stale report (page or API) computes it then
(report_keep_fresh), so nobody presses a button to see numbers that exist.
"""

import logging
import time
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis.assemble import build_report
from analysis.models import Report
from analysis.selectors import judgments_set_aside, report_inputs
from qa.rawsql import aware
from qa.work import tasks_in_process

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = getattr(settings, "REPORT_DEBOUNCE_SECONDS", 15)
# A computation enqueued (or started) this long ago and not finished lost its message or its
# worker: the next judgment, a refresh or the work sweep enqueues it again. A computation that
# really takes longer is merely done twice (it is idempotent).
QUEUE_TIMEOUT_SECONDS = max(2 * settings.WORK_SWEEP_SECONDS, DEBOUNCE_SECONDS + settings.WORK_SWEEP_SECONDS)


# Every field but the large per-example table, which only the exports read.
REPORT_FIELDS = [f.name for f in Report._meta.concrete_fields if f.name not in ("id", "examples")]


def broker_runs_tasks() -> bool:
    return not tasks_in_process()


def report_compute(*, report: Report) -> Report:
    """Compute and store the report now. Idempotent: it always reflects the judgments it read.

    While it computes, `queued_at` says since when, so that judgments landing meanwhile do not
    enqueue another computation beside it: it enqueues one itself when it finds the report stale
    again at the end. A computation whose worker died leaves `queued_at` behind, and the work
    sweep enqueues it again once that is older than QUEUE_TIMEOUT_SECONDS."""
    started = time.perf_counter()
    Report.objects.filter(pk=report.pk).update(stale=False, queued_at=timezone.now())
    try:
        inputs = report_inputs(batch=report.batch, dataset=report.dataset, reader=report.reader)
        payload, examples = build_report(inputs)
    except Exception as exc:  # stored on the report so the page can say what went wrong
        log.exception("report %s failed", report.pk)
        Report.objects.filter(pk=report.pk).update(
            status=Report.Status.FAILED, error=str(exc)[:2000], stale=True, queued_at=None
        )
        raise
    now = timezone.now()
    payload["computed_at"] = now.isoformat()
    payload["scope"] = report.scope
    # Counted apart: quality control set them aside, and nothing above read them.
    payload["judgments_set_aside"] = judgments_set_aside(
        batch=report.batch, dataset=report.dataset, reader=report.reader
    )
    if report.batch_id:
        payload["subject"] = {"batch": report.batch_id, "name": report.batch.name}
    else:
        # Whose view of the dataset: pooled over the batches this reader may see (None: every batch).
        payload["subject"] = {"dataset": report.dataset_id, "slug": report.dataset.slug, "reader": report.reader_id}
    elapsed = time.perf_counter() - started
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.READY,
        payload=payload,
        examples=examples,
        computed_at=now,
        seconds=elapsed,
        judgments=len(inputs.unit),
        error="",
        queued_at=None,
    )
    report.refresh_from_db(fields=REPORT_FIELDS)
    if report.stale and broker_runs_tasks():  # judgments landed while it computed
        report_enqueue(report=report)
    return report


def report_enqueue(*, report: Report, countdown: float = DEBOUNCE_SECONDS) -> bool:
    """Enqueue one computation unless one is already waiting. True if this call enqueued it."""
    from analysis.tasks import report_compute_task

    now = timezone.now()
    claimed = Report.objects.filter(
        Q(queued_at__isnull=True) | Q(queued_at__lt=now - timezone.timedelta(seconds=QUEUE_TIMEOUT_SECONDS)),
        pk=report.pk,
    ).update(queued_at=now)
    if claimed:
        transaction.on_commit(lambda: _send(report_compute_task, report.pk, countdown))
    return bool(claimed)


def _send(task, report_id: int, countdown: float) -> None:
    # This runs on a worker's submit: an unreachable broker must not fail their request. The
    # report stays stale and unqueued, so the next judgment, page view or work sweep tries again.
    try:
        task.apply_async((report_id,), countdown=countdown)
    except Exception:
        log.exception("could not enqueue report %s", report_id)
        Report.objects.filter(pk=report_id).update(queued_at=None)


def report_refresh(*, report: Report) -> Report:
    """On demand: compute now where tasks run in-process, else enqueue without delay."""
    if broker_runs_tasks():
        report_enqueue(report=report, countdown=0)
        return report
    return report_compute(report=report)


def report_keep_fresh(*, report: Report) -> Report:
    """What a researcher's read does to a report behind its judgments (stale or never computed).

    With a broker: enqueue a computation (a no-op while one is queued; heals a lost message), and
    the page refreshes itself until it lands. Embedded default (tasks in-process, no worker to
    hand it to): compute now, on the reader's request, never on a worker's submit. A failed
    computation is stored on the report (status, error) for the page to show, not raised."""
    if not report.stale:
        return report
    if broker_runs_tasks():
        report_enqueue(report=report, countdown=0 if report.status == Report.Status.EMPTY else DEBOUNCE_SECONDS)
    else:
        try:
            report_compute(report=report)
        except Exception:  # noqa: BLE001 -- already logged and stored by report_compute
            pass
    report.refresh_from_db(fields=REPORT_FIELDS)
    return report


@cache  # built on first use, once the app registry is ready
def subject_reports_sql() -> str:
    """The reports that a batch's judgments feed: its own and its datasets' (every reader's: marking
    a report stale that does not pool this batch costs one recomputation, missing one would leave
    it wrong). Params: batch, batch."""
    from annotation.models import Batch

    report, batch_datasets = Report._meta.db_table, Batch.datasets.through._meta.db_table
    return (
        f"SELECT id, scope, stale, queued_at FROM {report} WHERE (scope = '{Report.Scope.BATCH.value}' AND batch_id = %s) "
        f"OR (scope = '{Report.Scope.DATASET.value}' AND dataset_id IN (SELECT dataset_id FROM {batch_datasets} WHERE batch_id = %s))"
    )


def _subject_reports(batch_id: int) -> list[tuple]:
    """(id, scope, stale, queued_at) of the reports that the batch's judgments feed."""
    with connection.cursor() as cursor:
        cursor.execute(subject_reports_sql(), [batch_id, batch_id])
        return cursor.fetchall()


def judgments_changed(*, batch_id: int) -> None:
    """Mark the batch's report, and the reports of its datasets, stale; enqueue a debounced
    computation where a broker runs tasks. This runs after every accepted judgment, so the usual
    case (reports already stale and queued) is one precompiled SELECT and no write. Reading the
    flag before setting it is safe: a computation clears the flag before it reads judgments, so a
    flag still set when this judgment had committed means that computation will see it."""
    rows = _subject_reports(batch_id)
    now = timezone.now()
    fresh = [pk for pk, _, stale, _ in rows if not stale]
    if fresh:
        Report.objects.filter(pk__in=fresh, stale=False).update(stale=True, changed_at=now)
    if not broker_runs_tasks():
        return
    if not any(scope == Report.Scope.BATCH for _, scope, _, _ in rows):
        Report.objects.get_or_create(scope=Report.Scope.BATCH, batch_id=batch_id)
        rows = _subject_reports(batch_id)
    expired = now - timezone.timedelta(seconds=QUEUE_TIMEOUT_SECONDS)
    for pk, _, _, queued_at in rows:
        if queued_at is None or aware(queued_at) < expired:
            report_enqueue(report=Report(pk=pk))


def reports_heal(*, now=None) -> list[int]:
    """The work sweep's part for reports: enqueue a computation of every report that is behind
    its judgments (stale, never computed, or left half computed by a dead worker: changes newer
    than its last computation) and that no computation has been queued for or working on within
    QUEUE_TIMEOUT_SECONDS. Returns the ids enqueued."""
    now = now or timezone.now()
    behind = Q(stale=True) | Q(computed_at__isnull=True) | Q(changed_at__gt=F("computed_at"))
    idle = Q(queued_at__isnull=True) | Q(queued_at__lt=now - timezone.timedelta(seconds=QUEUE_TIMEOUT_SECONDS))
    ids = list(Report.objects.filter(behind, idle).values_list("pk", flat=True))
    return [pk for pk in ids if report_enqueue(report=Report(pk=pk), countdown=0)]
