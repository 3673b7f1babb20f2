"""gunicorn settings from the environment: GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS."""

import os

bind = os.getenv("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, one per core plus one: the request path is short and database-bound.
workers = int(os.getenv("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
threads = int(os.getenv("GUNICORN_THREADS", "1"))
timeout = int(os.getenv("GUNICORN_TIMEOUT", "60"))
# Long uploads and streaming exports are fine; a stuck worker is recycled after timeout.
max_requests = int(os.getenv("GUNICORN_MAX_REQUESTS", "0"))
accesslog = os.getenv("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
