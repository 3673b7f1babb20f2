"""Helpers for the few statements written as SQL (hot paths compiled once, see annotation/sql.py):
values in and out of a raw cursor the way the ORM would convert them, on PostgreSQL and SQLite."""

import hashlib
import json
from datetime import UTC

from django.db import connection


def db_datetime(value):
    """A datetime as the backend stores it (SQLite: text in the one format that compares right)."""
    return connection.ops.adapt_datetimefield_value(value)


def aware(value):
    """A datetime read back: SQLite gives raw cursors naive UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def json_value(value):
    """A JSON column read back: both backends give raw cursors its text."""
    return json.loads(value) if isinstance(value, str) else value


def advisory_xact_lock(name: str) -> None:
    """Take turns on a name until the transaction ends: a PostgreSQL advisory lock. SQLite needs
    none, its IMMEDIATE transactions serialise writers already."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
