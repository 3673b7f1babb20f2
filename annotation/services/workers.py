"""Worker accounts: bulk creation by a researcher, entry from a crowd platform's link, invites;
and the workers page's writes: deactivate (live leases go back to the pool at once), reactivate,
a new password shown once."""

import logging
import re
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from annotation import accounts, bounds
from annotation.models import Assignment, Batch, BatchEntry, Item, WorkerProfile
from annotation.selectors import PLATFORM
from annotation.services.batches import _release_leases  # the same locking as pausing a batch
from annotation.worker_selectors import worker_manageable
from qa.errors import ApplicationError, Conflict, NotAllowed
from qa.hashers import GeneratedPasswordHasher
from qa.rawsql import advisory_xact_lock
from qa.roles import WORKER, is_researcher, role_group, user_add_role

log = logging.getLogger(__name__)
Status = Batch.Status
LIVE = Assignment.Status.ACTIVE


def _password() -> str:
    # 96 random bits: what lets workers_bulk_create store it with a fast hash (qa/hashers.py). Never a
    # leading "-": a spreadsheet would read the credentials CSV's cell as a formula.
    while (password := secrets.token_urlsafe(12)).startswith("-"):
        pass
    return password


@transaction.atomic(durable=True)
def workers_bulk_create(
    *, created_by, count: int | None = None, usernames: list[str] | None = None
) -> list[dict]:
    """Worker accounts with fresh passwords, returned once (they are stored hashed).

    Generated passwords are random, so they are hashed with the fast GeneratedPasswordHasher
    instead of PBKDF2 (qa/hashers.py says why), and the rows are written with bulk_create: 1,000
    accounts are a few queries and milliseconds of CPU, not minutes of one web process."""
    if not is_researcher(created_by):
        raise NotAllowed("Only researchers create worker accounts.")
    User = get_user_model()
    if (count is None) == (usernames is None):
        raise ApplicationError("Give either count or usernames.")
    if count is not None:
        bounds.WORKER_COUNT.check("count", count)
        # Two researchers asking for names at once would pick the same free range: take turns until
        # commit (SQLite's IMMEDIATE transactions take turns already).
        advisory_xact_lock("annotation.workers_bulk_create")
        cleaned = accounts.usernames_next(prefix="worker", count=count)
    else:
        cleaned = [
            accounts.username_clean(raw, field="usernames") for raw in usernames if str(raw or "").strip()
        ]
        if not cleaned:
            raise ApplicationError("usernames: no names given", {"field": "usernames"})
        if len(cleaned) > bounds.WORKER_COUNT.high:
            raise ApplicationError(
                f"usernames: at most {bounds.WORKER_COUNT.high} names at once", {"field": "usernames"}
            )
    accounts.usernames_check_free(cleaned, field="usernames")
    passwords = [_password() for _ in cleaned]
    try:
        users = User.objects.bulk_create(
            [
                User(
                    username=name, password=make_password(password, hasher=GeneratedPasswordHasher.algorithm)
                )
                for name, password in zip(cleaned, passwords, strict=True)
            ]
        )
    except IntegrityError:  # someone took one of the names since the check (lower(username) is unique)
        raise Conflict(
            "usernames: one of the names was taken meanwhile; try again", {"field": "usernames"}
        ) from None
    group = role_group(WORKER)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users]
    )
    WorkerProfile.objects.bulk_create([WorkerProfile(user=u, created_by=created_by) for u in users])
    return [
        {"username": name, "password": password} for name, password in zip(cleaned, passwords, strict=True)
    ]


PLATFORM_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
CLOSED = {
    Status.DRAFT: "This study has not started yet.",
    Status.PAUSED: "This study is paused. Please try again a little later.",
    Status.COMPLETED: "This study is complete: it needs no more participants.",
    Status.CANCELLED: "This study has been closed by the researcher.",
}
ANOTHER_BROWSER = (
    "This participant id has already started this study in another browser. Please continue in that "
    "browser, or open the study again from the platform's own link."
)


def _platform_field(name: str, value: str, required: bool) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            raise ApplicationError(f"{name} is missing from the link.", {"field": name})
        return ""
    if "{" in value or "%" in value:
        raise ApplicationError(
            f"{name}: the link still holds the platform's placeholder instead of a value. "
            "The study's URL on the platform must let the platform fill it in.",
            {"field": name},
        )
    if len(value) > 128:
        raise ApplicationError(f"{name} is longer than 128 characters.", {"field": name})
    if not PLATFORM_ID.fullmatch(value):
        raise ApplicationError(f"{name}: may only hold letters, digits, _ and -.", {"field": name})
    return value


def worker_enter_from_platform(
    *,
    batch: Batch,
    external_id: str,
    study_id: str = "",
    session_id: str = "",
    proven_user_id: int | None = None,
):
    """The worker bound to a crowd-platform id (Prolific's PROLIFIC_PID), created on first entry,
    with an entry into this batch (annotation.selectors: the batches a participant may work in).

    The participant id alone is not a credential (anyone who learns it could type it): an id that
    already has an account is let in again only with proof that it is the same participant, either
    proven_user_id (the caller's signed cookie set at first entry, or the session already logged in
    as them) or, for a batch they entered before, the platform's SESSION_ID of that first entry.
    Otherwise NotAllowed, and nothing changes. A batch that is not running creates nothing: no
    account, no entry (a returning participant of it still gets their account, for its end page)."""
    external_id = _platform_field("PROLIFIC_PID", external_id, required=True)
    study_id = _platform_field("STUDY_ID", study_id, required=False)
    session_id = _platform_field("SESSION_ID", session_id, required=False)
    User = get_user_model()
    try:
        with transaction.atomic(durable=True):
            profile = (
                WorkerProfile.objects.select_related("user")
                .filter(platform=PLATFORM, external_id=external_id)
                .first()
            )
            if profile is None:
                if batch.status != Status.RUNNING:
                    raise Conflict(CLOSED[batch.status], {"status": batch.status})
                user = User.objects.create_user(username=f"prolific-{secrets.token_hex(6)}")
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user_add_role(user=user, role=WORKER)
                WorkerProfile.objects.create(
                    user=user, platform=PLATFORM, external_id=external_id, entry_batch=batch,
                    study_id=study_id, session_id=session_id,
                )  # fmt: skip
                BatchEntry.objects.create(batch=batch, worker=user, session_id=session_id)
                return user
            entry = BatchEntry.objects.filter(batch=batch, worker_id=profile.user_id).first()
            same_session = entry is not None and entry.session_id != "" and entry.session_id == session_id
            if proven_user_id != profile.user_id and not same_session:
                raise NotAllowed(ANOTHER_BROWSER)
            if entry is None:
                if batch.status != Status.RUNNING:
                    raise Conflict(CLOSED[batch.status], {"status": batch.status})
                BatchEntry.objects.create(batch=batch, worker_id=profile.user_id, session_id=session_id)
            given = {"study_id": study_id, "session_id": session_id}
            changed = [f for f, v in given.items() if v and getattr(profile, f) != v]
            for field in changed:
                setattr(profile, field, given[field])
            if changed:
                profile.save(update_fields=changed)
            return profile.user
    except IntegrityError:
        # Two first entries with one id at once: the other one made the account.
        raise NotAllowed(ANOTHER_BROWSER) from None


def worker_create_from_invite(*, invited_by, username: str, password: str):
    """A person who followed a researcher's invite link chooses their own name and password."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    username = accounts.username_clean(username)
    User = get_user_model()
    if accounts.usernames_taken([username]):
        raise ApplicationError(f"username: {username!r} is taken, choose another", {"field": "username"})
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ApplicationError("password: " + " ".join(exc.messages), {"field": "password"}) from None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
            user_add_role(user=user, role=WORKER)
            WorkerProfile.objects.create(user=user, created_by=invited_by)
    except IntegrityError:  # taken meanwhile, in another case (lower(username) is unique)
        raise ApplicationError(
            f"username: {username!r} is taken, choose another", {"field": "username"}
        ) from None
    return user


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
    worker = _worker_for(researcher=researcher, worker_id=worker_id)
    # Lock order of a submit: the worker's leases, then their items (see batches._leases_locked).
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
