"""What the work sweep heals, kind by kind; each app owns its query (qa knows the apps)."""

import logging

log = logging.getLogger(__name__)


def work_heal(*, now=None) -> dict:
    """Enqueue again every report behind its judgments and every import job, generation run,
    diversity map, model evaluation and quality-control evaluation that lost its message or its
    worker. Returns the ids woken, by kind."""
    from analysis.diversity.services import maps_heal
    from analysis.evaluations.services import evaluations_heal
    from analysis.services import reports_heal
    from annotation.services.quality import quality_heal
    from generation.runs.services import runs_heal
    from generation.services import import_jobs_heal

    woken = {
        "reports": reports_heal(now=now),
        "imports": import_jobs_heal(now=now),
        "runs": runs_heal(now=now),
        "maps": maps_heal(now=now),
        "evaluations": evaluations_heal(now=now),
        "quality": quality_heal(now=now),
    }
    if any(woken.values()):
        log.info("work sweep woke %s", woken)
    return woken
