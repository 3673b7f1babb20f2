"""Secrets at rest: model endpoints' API keys are stored encrypted (Fernet), so that a database
dump alone does not reveal them.

The key is FIELD_ENCRYPTION_KEY (one Fernet key, or several comma-separated: the first encrypts,
all decrypt, for rotation); unset, one derived from SECRET_KEY. Stored values carry a prefix, so
a value written before encryption is told apart from a token.
"""

import base64
import hashlib
import logging
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

log = logging.getLogger(__name__)

PREFIX = "fernet:"


@cache
def _fernet(field_key: str, secret_key: str):
    from cryptography.fernet import Fernet, MultiFernet

    keys = [k.strip() for k in field_key.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"evals-qa field encryption\x00" + secret_key.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY: expected Fernet keys (32 url-safe base64-encoded bytes), comma-separated; "
            'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        ) from None


def fernet():
    return _fernet(getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "", settings.SECRET_KEY)


def secret_encrypt(value: str) -> str:
    if not value or value.startswith(PREFIX):
        return value
    return PREFIX + fernet().encrypt(value.encode()).decode()


def secret_decrypt(stored: str | None) -> str:
    """The plain value; "" (and a warning in the log) for a token no configured key opens."""
    from cryptography.fernet import InvalidToken

    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption; the data migration encrypts these
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        log.warning("a stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY (or SECRET_KEY): set it again")
        return ""


class EncryptedTextField(models.TextField):
    """Plain text in Python, a Fernet token in the database. Not for lookups."""

    def from_db_value(self, value, expression, connection):
        return secret_decrypt(value)

    def get_prep_value(self, value):
        return secret_encrypt(super().get_prep_value(value) or "")
