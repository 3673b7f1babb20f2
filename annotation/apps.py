import logging

from django.apps import AppConfig

log = logging.getLogger(__name__)


def _on_judgments_changed(sender, batch_id=None, **kwargs):
    # After a worker's judgment committed: quality control looks at it (one evaluation per burst).
    # A failure here is logged, never theirs to see.
    if batch_id is None:
        return
    from annotation.services.quality import quality_changed

    try:
        quality_changed(batch_id=batch_id)
    except Exception:
        log.exception("quality control of batch %s could not be enqueued", batch_id)


class AnnotationConfig(AppConfig):
    name = "annotation"

    def ready(self):
        from annotation import signals

        signals.judgments_changed.connect(_on_judgments_changed, dispatch_uid="annotation.quality_changed")
