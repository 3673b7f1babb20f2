"""Invite links for would-be workers: signed with django.core.signing, valid for INVITE_DAYS, and
usable once. No model of their own: each link carries a random nonce, and the account it creates
records that nonce in WorkerProfile (platform "invite", external_id nonce), whose unique
(platform, external_id) constraint refuses a second use even when two people race on one link."""

import secrets

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction

from annotation import services
from annotation.models import WorkerProfile
from qa.errors import ApplicationError
from qa.roles import is_researcher

INVITE_SALT = "annotation.invite"
INVITE_DAYS = 7
INVITE_PLATFORM = "invite"


def invite_make(*, inviter) -> str:
    """A fresh signed token; put it in the URL named 'invite-accept'."""
    return signing.dumps({"by": inviter.pk, "n": secrets.token_urlsafe(9)}, salt=INVITE_SALT)


def invite_read(signed: str):
    """(inviter, nonce) of a valid, unused invite; ApplicationError with a message otherwise."""
    try:
        data = signing.loads(signed, salt=INVITE_SALT, max_age=INVITE_DAYS * 86400)
        inviter_id, nonce = data["by"], str(data["n"])
    except signing.SignatureExpired:
        raise ApplicationError(f"This invite link has expired (links last {INVITE_DAYS} days).") from None
    except (signing.BadSignature, KeyError, TypeError):
        raise ApplicationError("This invite link is not valid.") from None
    inviter = get_user_model().objects.filter(pk=inviter_id, is_active=True).first()
    if inviter is None or not is_researcher(inviter):
        raise ApplicationError("This invite link is no longer valid.")
    if WorkerProfile.objects.filter(platform=INVITE_PLATFORM, external_id=nonce).exists():
        raise ApplicationError("This invite link has already been used. Ask the researcher for a new one.")
    return inviter, nonce


def invite_accept(*, signed: str, username: str, password: str):
    """Create the worker account the invite promised, and spend the invite."""
    inviter, nonce = invite_read(signed)
    try:
        with transaction.atomic():
            user = services.worker_create_from_invite(
                invited_by=inviter, username=username, password=password
            )
            WorkerProfile.objects.filter(user=user).update(platform=INVITE_PLATFORM, external_id=nonce)
    except IntegrityError:
        raise ApplicationError(
            "This invite link has already been used. Ask the researcher for a new one."
        ) from None
    return user
