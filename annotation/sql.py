"""The assignment engine's hot statements (claim next, submit), written once as SQL.

Why not the ORM here, as everywhere else: profiling the two endpoints under load showed that about
a third of a request's CPU went to Django compiling the SQL of these few statements, every time
(the candidate query with its joins, the submit's updates). These strings are the same statements,
compiled once; they run unchanged on PostgreSQL and SQLite except for the row-lock clauses, which
SQLite has no use for (its IMMEDIATE transactions serialise writers). Table and column names come
from the models, so a renamed table cannot drift from them.

Values going in and out convert with qa.rawsql (datetimes, JSON), as the ORM would.
"""

from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model

from annotation.models import Assignment, Batch, BatchEntry, Item, Judgment, WorkerStop
from generation.models import Dataset, Example

POSTGRES = settings.DB_VENDOR == "postgresql"

BATCH = Batch._meta.db_table
ITEM = Item._meta.db_table
ASSIGNMENT = Assignment._meta.db_table
JUDGMENT = Judgment._meta.db_table
EXAMPLE = Example._meta.db_table
DATASET = Dataset._meta.db_table
ENTRY = BatchEntry._meta.db_table
USER = get_user_model()._meta.db_table
STOP = WorkerStop._meta.db_table

ACTIVE = Assignment.Status.ACTIVE.value
SUBMITTED = Assignment.Status.SUBMITTED.value
EXPIRED = Assignment.Status.EXPIRED.value
# Leases lost without the worker's choice (expired; released by a pause, a cancel or a stop): the
# item may be offered to them again, and their row is reactivated. Submitted and skipped: never.
RECLAIMABLE = f"('{EXPIRED}', '{Assignment.Status.RELEASED.value}')"
RUNNING = Batch.Status.RUNNING.value
COMPLETED = Batch.Status.COMPLETED.value


def lock(clause: str) -> str:
    """A row-lock clause on PostgreSQL; nothing on SQLite."""
    return f" {clause}" if POSTGRES else ""


# What item_payload shows and what a submit validates the answer against: the example's question
# (or Winogender sentence) and choices, the dataset's format and behaviour, the batch's instructions.
PAYLOAD_COLUMNS = (
    "e.id, e.question, e.sentence_with_blank, e.pronoun_options, "
    "d.id, d.format, d.behavior, b.instructions, b.lease_seconds"
)
PAYLOAD_JOINS = f"JOIN {BATCH} b ON b.id = i.batch_id JOIN {EXAMPLE} e ON e.id = i.example_id JOIN {DATASET} d ON d.id = e.dataset_id"

# The batches (b) a worker may work in: annotation.selectors decides who may see which batches and
# gives these parameters (WorkerScope.sql_params: every batch?, one owner's batches, the worker for
# the batches they entered through a link); worker_entitled there is the same rule in the ORM.
ENTITLED = f"(%s OR b.owner_id = %s OR EXISTS (SELECT 1 FROM {ENTRY} en WHERE en.batch_id = b.id AND en.worker_id = %s))"


def stopped(batch: str, worker: str) -> str:
    """The worker is stopped in the batch by quality control (annotation.services.quality): an open
    WorkerStop, found through its partial unique index (one open stop per batch and worker)."""
    return f"EXISTS (SELECT 1 FROM {STOP} s WHERE s.batch_id = {batch} AND s.worker_id = {worker} AND s.lifted_at IS NULL)"


# --- claim ---------------------------------------------------------------------------------------


@cache  # formatted once per variant (with or without a batch filter), not on every claim
def own_live_leases(batch_filter: bool) -> str:
    """The worker's live leases on running batches they are entitled to, oldest first (the one on
    screen, then the one fetched ahead). Params: worker, now[, batch], entitlement."""
    return (
        f"SELECT a.id, a.item_id, a.batch_id, a.claimed_at, a.expires_at, i.example_id, i.is_gold, {PAYLOAD_COLUMNS} "
        f"FROM {ASSIGNMENT} a JOIN {ITEM} i ON i.id = a.item_id {PAYLOAD_JOINS} "
        f"WHERE a.worker_id = %s AND a.status = '{ACTIVE}' AND a.expires_at > %s AND b.status = '{RUNNING}'"
        + (" AND a.batch_id = %s" if batch_filter else "")
        + f" AND {ENTITLED}"
        # A lease that a claim in flight took while the worker was being stopped is never shown to them.
        + f" AND NOT {stopped('a.batch_id', 'a.worker_id')}"
        + " ORDER BY a.claimed_at, a.id LIMIT 2"
    )


BATCH_INFO = f"SELECT status, gold_rate, quota_per_worker FROM {BATCH} WHERE id = %s"
# A batch with a quota: one claim of a worker at a time (two racing requests of one participant
# would both see room for one more), then what the quota bounds: judgments given plus live leases.
# NO KEY UPDATE, so that the worker's own inserts (KEY SHARE on the user row) need not wait on it.
WORKER_LOCK = f"SELECT id FROM {USER} WHERE id = %s" + lock("FOR NO KEY UPDATE")
QUOTA_USED = (
    f"SELECT (SELECT COUNT(*) FROM {JUDGMENT} WHERE batch_id = %s AND worker_id = %s) + "
    f"(SELECT COUNT(*) FROM {ASSIGNMENT} WHERE batch_id = %s AND worker_id = %s AND status = '{ACTIVE}' AND expires_at > %s)"
)

# Lazy reclaim. The subquery picks (and on PostgreSQL locks, skipping rows another sweep holds) at
# most `limit` expired leases; the caller hands their slots back item by item, in id order.
EXPIRE = (
    f"UPDATE {ASSIGNMENT} SET status = '{EXPIRED}' WHERE id IN ("
    f"SELECT id FROM {ASSIGNMENT} WHERE status = '{ACTIVE}' AND expires_at <= %s LIMIT %s"
    + lock("FOR UPDATE SKIP LOCKED")
    + ") RETURNING item_id"
)
SLOTS_RETURN = (
    f"UPDATE {ITEM} SET lease_count = CASE WHEN lease_count > %s THEN lease_count - %s ELSE 0 END "
    "WHERE id = %s AND NOT is_gold"
)


@cache
def candidate(gold: bool, batch_filter: bool) -> str:
    """The next item with an open slot for this worker, locked (skipping items that another claim
    or a submit holds), with the payload's columns, in a batch the worker is entitled to. Items
    closest to completion first, so that a partial batch yields complete items; `item_open_queue`
    serves this order for a batch. Without a batch, batches with a quota are left out: their quota
    is checked (under a lock) only when the batch is asked for by id.
    Params: candidate_params(worker, batch, scope)."""
    where = [f"b.status = '{RUNNING}'", "i.is_gold" if gold else "NOT i.is_gold"]
    if batch_filter:
        where.append("i.batch_id = %s")
    else:
        where.append("b.quota_per_worker IS NULL")
    where.append(ENTITLED)
    if not gold:
        # completed_at is set exactly when judgment_count reaches the item's target (k, or under
        # adaptive overlap what its answers so far still need): it lets item_open_queue serve this.
        where.append("i.completed_at IS NULL AND i.judgment_count < i.target - i.lease_count")
    where.append(
        f"NOT EXISTS (SELECT 1 FROM {ASSIGNMENT} m WHERE m.item_id = i.id AND m.worker_id = %s AND m.status NOT IN {RECLAIMABLE})"
    )
    # Nothing in a batch where quality control stopped the worker.
    where.append(f"NOT {stopped('i.batch_id', '%s')}")
    return (
        f"SELECT i.id, i.batch_id, i.example_id, i.is_gold, {PAYLOAD_COLUMNS}, "
        f"EXISTS (SELECT 1 FROM {ASSIGNMENT} x WHERE x.item_id = i.id AND x.worker_id = %s AND x.status IN {RECLAIMABLE}) "
        f"FROM {ITEM} i {PAYLOAD_JOINS} WHERE {' AND '.join(where)} "
        "ORDER BY i.judgment_count DESC, i.lease_count DESC, i.batch_id, i.position LIMIT 1"
        + lock("FOR UPDATE OF i SKIP LOCKED")
    )


def candidate_params(worker_id: int, batch_id: int | None, scope) -> list:
    # The placeholders' order in the SQL text: the select list's EXISTS, the batch, the entitlement,
    # the NOT EXISTS of a lease, the NOT EXISTS of a stop. scope: annotation.selectors.WorkerScope.
    return [
        worker_id, *([batch_id] if batch_id is not None else []), *scope.sql_params(worker_id), worker_id, worker_id
    ]  # fmt: skip


LEASE_INSERT = (
    f"INSERT INTO {ASSIGNMENT} (item_id, worker_id, batch_id, status, claimed_at, expires_at) "
    f"VALUES (%s, %s, %s, '{ACTIVE}', %s, %s) RETURNING id"
)
# A worker claiming an item again whose lease of theirs expired gets that row back (one per pair).
LEASE_REACTIVATE = (
    f"UPDATE {ASSIGNMENT} SET status = '{ACTIVE}', claimed_at = %s, expires_at = %s "
    "WHERE item_id = %s AND worker_id = %s RETURNING id"
)
# Also the claim's last look at quality control: a stop that committed after the candidate was read
# (read committed: each statement reads afresh) matches no row here, and the claim is rolled back.
# Params: item, worker.
LEASE_COUNT_UP = f"UPDATE {ITEM} SET lease_count = lease_count + 1 WHERE id = %s AND NOT {stopped(f'{ITEM}.batch_id', '%s')}"

# --- submit --------------------------------------------------------------------------------------

# Lock order, everywhere: assignments (in id order), then items, then the batch row. A submit
# first locks the assignment and the worker's other live lease in the batch (the item fetched
# ahead, which it updates), so that a second submit of the same one waits and then sees it
# submitted, and so that pausing, which locks the batch's leases in id order, waits for it
# instead of deadlocking. Params: worker, assignment, assignment.
SUBMIT_LEASES_LOCK = (
    f"SELECT id FROM {ASSIGNMENT} WHERE worker_id = %s AND (id = %s OR (status = '{ACTIVE}' AND "
    f"batch_id = (SELECT batch_id FROM {ASSIGNMENT} WHERE id = %s))) ORDER BY id" + lock("FOR UPDATE")
)
# Then the assignment (already locked) with its batch and its item, the item locked so that its
# counters change in turn; only in a batch the worker is entitled to. Params: assignment, worker,
# entitlement.
SUBMIT_LOCK = (
    "SELECT a.status, a.item_id, a.batch_id, a.claimed_at, a.expires_at, "
    "b.status, b.overlap, b.lease_seconds, i.is_gold, i.judgment_count, i.lease_count, i.target, "
    "b.overlap_policy, b.k_min, b.adapt_on_ambiguity, "
    f"e.question, e.pronoun_options, d.format, {stopped('a.batch_id', 'a.worker_id')} "
    f"FROM {ASSIGNMENT} a JOIN {BATCH} b ON b.id = a.batch_id JOIN {ITEM} i ON i.id = a.item_id "
    f"JOIN {EXAMPLE} e ON e.id = i.example_id JOIN {DATASET} d ON d.id = e.dataset_id "
    f"WHERE a.id = %s AND a.worker_id = %s AND {ENTITLED}" + lock("FOR UPDATE OF i")
)
JUDGMENT_INSERT = (
    f"INSERT INTO {JUDGMENT} (item_id, worker_id, assignment_id, batch_id, relevance, answer, ambiguous, "
    "comment, seconds, submitted_at, idempotency_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
# One statement: this assignment becomes submitted, and the worker's other live lease in the batch
# (the item fetched ahead) starts now, since the worker only now begins to work on it.
# Params: assignment x3, now, new expiry, assignment, worker, batch.
ASSIGNMENTS_AFTER_SUBMIT = (
    f"UPDATE {ASSIGNMENT} SET "
    f"status = CASE WHEN id = %s THEN '{SUBMITTED}' ELSE status END, "
    "claimed_at = CASE WHEN id = %s THEN claimed_at ELSE %s END, "
    "expires_at = CASE WHEN id = %s THEN expires_at ELSE %s END "
    f"WHERE id = %s OR (worker_id = %s AND batch_id = %s AND status = '{ACTIVE}')"
)
ITEM_COUNTERS = (
    f"UPDATE {ITEM} SET judgment_count = %s, lease_count = %s, target = %s, completed_at = %s WHERE id = %s"
)
# Adaptive overlap: the item's valid answers (engine.judgments_valid is the same rule in the ORM) (and ambiguity votes), read under the item's lock
# (SUBMIT_LOCK) so that its new target follows from every judgment before this one. Params: item.
ITEM_ANSWERS = f"SELECT answer, ambiguous FROM {JUDGMENT} WHERE item_id = %s AND NOT set_aside"

# Completions take the batch lock in turn, so that the last of two racing completions sees the
# other (the next statement reads after the lock, with a fresh snapshot). NO KEY UPDATE: a plain
# FOR UPDATE would also conflict with the KEY SHARE lock that every claim's and submit's INSERT
# takes on the batch row (foreign keys), serialising the whole batch behind one commit.
BATCH_LOCK = f"SELECT status FROM {BATCH} WHERE id = %s" + lock("FOR NO KEY UPDATE")
# Every non-gold item complete: the partial index item_open_queue holds exactly the open ones.
# Params: now, batch, batch.
BATCH_COMPLETE = (
    f"UPDATE {BATCH} SET status = '{COMPLETED}', completed_at = %s WHERE id = %s AND status = '{RUNNING}' "
    f"AND NOT EXISTS (SELECT 1 FROM {ITEM} o WHERE o.batch_id = %s AND NOT o.is_gold AND o.completed_at IS NULL)"
)

# --- submit and claim in one request ("next": true) -----------------------------------------------

# After the claim, in its transaction: the lease handed out is stored on the judgment, unless one
# already is (a replay of the same request raced this one: the caller then rolls its claim back and
# hands out the stored one). Params: assignment, judgment.
JUDGMENT_NEXT_SET = (
    f"UPDATE {JUDGMENT} SET next_assignment_id = %s WHERE id = %s AND next_assignment_id IS NULL"
)
