"""Writes on worker accounts from the researcher's workers page: deactivate (the worker's live
leases go back to the pool at once), reactivate, and a new password shown once."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from annotation.models import Assignment, Item
from annotation.selectors import PLATFORM
from annotation.worker_selectors import worker_manageable
from qa.errors import ApplicationError, NotAllowed
from qa.hashers import GeneratedPasswordHasher
from qa.roles import is_researcher


def _worker_for(*, researcher, worker_id: int):
    """The worker account, if this researcher may manage it; a 404 that names nothing otherwise."""
    if not is_researcher(researcher):
        raise NotAllowed("Only researchers manage worker accounts.")
    worker = get_user_model().objects.filter(pk=worker_id).first()
    if worker is None or is_researcher(worker) or not worker_manageable(researcher=researcher, worker=worker):
        raise ApplicationError("No such worker of yours.", status_code=404)
    return worker


@transaction.atomic(durable=True)
def worker_deactivate(*, researcher, worker_id: int):
    """The account can no longer log in or use its token (Django refuses inactive users), and its
    live leases are released now, their slots returned to their items, instead of waiting for expiry."""
    from annotation.services import _release_leases  # the same locking as pausing a batch

    worker = _worker_for(researcher=researcher, worker_id=worker_id)
    # Lock order of a submit: the worker's leases, then their items (see services._leases_locked).
    leases = list(
        Assignment.objects.filter(worker=worker, status=Assignment.Status.ACTIVE)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "item_id")
    )
    item_ids = sorted({item_id for _, item_id in leases})
    list(Item.objects.filter(pk__in=item_ids).order_by("pk").select_for_update().values_list("pk", flat=True))
    _release_leases(leases)
    worker.is_active = False
    worker.save(update_fields=["is_active"])
    return worker


@transaction.atomic(durable=True)
def worker_reactivate(*, researcher, worker_id: int):
    worker = _worker_for(researcher=researcher, worker_id=worker_id)
    worker.is_active = True
    worker.save(update_fields=["is_active"])
    return worker


@transaction.atomic(durable=True)
def worker_password_reset(*, researcher, worker_id: int) -> dict:
    """A fresh random password for an account the researcher made; returned once, stored hashed."""
    from annotation.services import _password

    worker = _worker_for(researcher=researcher, worker_id=worker_id)
    profile = getattr(worker, "worker_profile", None)
    if profile is not None and profile.platform == PLATFORM:
        raise ApplicationError(
            "A platform participant has no password: they enter through the study's link.", status_code=409
        )
    password = _password()
    worker.password = make_password(password, hasher=GeneratedPasswordHasher.algorithm)
    worker.save(update_fields=["password"])
    return {"username": worker.username, "password": password}
