"""Annotation says that judgments changed; analysis decides when to recompute."""

from analysis.services import judgments_changed


def on_judgments_changed(sender, batch_id=None, **kwargs):
    if batch_id is not None:
        judgments_changed(batch_id=batch_id)


def connect() -> None:
    from annotation import signals

    signals.judgments_changed.connect(on_judgments_changed, dispatch_uid="analysis.judgments_changed")
