"""Annotation says that judgments changed; analysis decides when to recompute (annotation never
imports analysis)."""

from django.dispatch import Signal

# Sent after the transaction that accepted judgments commits. Keyword argument: batch_id.
judgments_changed = Signal()
