"""Writes of the annotation app, one module per concern:

- batches: create, launch, pause, resume, cancel;
- engine: the assignment engine (claim, submit, skip, expire, how many judgments an item needs)
  and the item a worker sees;
- workers: worker accounts (bulk, platform entry, invites) and the workers page's writes;
- quality: automatic quality control (rules, stop, set aside, reinstate).

The public services are re-exported here, so callers write `services.batch_launch(...)`.
"""

from annotation.services.batches import batch_cancel, batch_create, batch_launch, batch_pause, batch_resume
from annotation.services.engine import (
    ANY_BATCH,
    NEXT_CLAIMED,
    NEXT_CLOSED,
    NEXT_GONE,
    NEXT_NONE,
    NEXT_STATUSES,
    SAME_BATCH,
    JudgedAndNext,
    assignment_claim_next,
    assignment_skip,
    item_payload,
    item_target,
    items_settle,
    judgment_submit,
    judgment_submit_and_claim,
    leases_expire,
)
from annotation.services.quality import quality_evaluate, quality_rules_set, worker_reinstate, worker_stop
from annotation.services.workers import (
    worker_create_from_invite,
    worker_deactivate,
    worker_enter_from_platform,
    worker_password_reset,
    worker_reactivate,
    workers_bulk_create,
)

__all__ = [
    "ANY_BATCH",
    "NEXT_CLAIMED",
    "NEXT_CLOSED",
    "NEXT_GONE",
    "NEXT_NONE",
    "NEXT_STATUSES",
    "SAME_BATCH",
    "JudgedAndNext",
    "assignment_claim_next",
    "assignment_skip",
    "batch_cancel",
    "batch_create",
    "batch_launch",
    "batch_pause",
    "batch_resume",
    "item_payload",
    "item_target",
    "items_settle",
    "judgment_submit",
    "judgment_submit_and_claim",
    "leases_expire",
    "quality_evaluate",
    "quality_rules_set",
    "worker_create_from_invite",
    "worker_deactivate",
    "worker_enter_from_platform",
    "worker_password_reset",
    "worker_reactivate",
    "worker_reinstate",
    "worker_stop",
    "workers_bulk_create",
]
