"""Template context for every page: whether the person is a crowd-platform participant, whose
header then shows nothing they have no use for (their internal user name, the API docs)."""

from annotation.selectors import worker_is_participant
from qa.roles import is_researcher, is_worker


def participant_context(request) -> dict:
    user = getattr(request, "user", None)
    participant = (
        is_worker(user)
        and not is_researcher(user)
        and not user.is_superuser
        and worker_is_participant(worker=user)
    )
    return {"is_participant": participant}
