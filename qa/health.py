"""What /healthz reports: can this process reach the database and the broker, answered quickly.

Each check returns a word, never raises: a health check that answers with a traceback (or hangs
for the broker's default 4 s connect timeout times its retries) is no use to a load balancer.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection

log = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 1.0


def database_check() -> str:
    """"ok" when a `SELECT 1` runs on the default database, else "unreachable"."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        log.warning("healthz: database unreachable: %s", error)
        # Drop the broken connection now, so the next request opens a fresh one.
        connection.close_if_unusable_or_obsolete()
        return "unreachable"
    return "ok"


def broker_check() -> str:
    """"eager" without a broker (tasks run in-process), "ok" when the broker accepts a connection
    within BROKER_TIMEOUT_SECONDS, else "unreachable"."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return "eager"
    from kombu import Connection

    broker = Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
            "max_retries": 0,
        },
    )
    try:
        broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as error:  # kombu raises transport-specific errors; all of them mean "unreachable"
        log.warning("healthz: broker unreachable: %s", error)
        return "unreachable"
    finally:
        broker.release()
    return "ok"


def health_report() -> tuple[dict, bool]:
    """The report and whether the service can do its work (database reachable, and the broker when
    one is configured)."""
    database = database_check()
    broker = broker_check()
    healthy = database == "ok" and broker in ("ok", "eager")
    return {"ok": healthy, "database": database, "broker": broker, "vendor": settings.DB_VENDOR}, healthy
