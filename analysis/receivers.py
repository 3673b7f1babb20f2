"""Annotation says that judgments changed; analysis decides when to recompute."""

import logging

from analysis.services import judgments_changed

log = logging.getLogger(__name__)


def on_judgments_changed(sender, batch_id=None, **kwargs):
    # Runs after a worker's judgment committed: a failure here is logged, never theirs to see.
    if batch_id is None:
        return
    try:
        judgments_changed(batch_id=batch_id)
    except Exception:
        log.exception("marking the reports of batch %s stale failed", batch_id)


def connect() -> None:
    from annotation import signals

    signals.judgments_changed.connect(on_judgments_changed, dispatch_uid="analysis.judgments_changed")
