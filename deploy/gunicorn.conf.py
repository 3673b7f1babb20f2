"""gunicorn settings from the environment: GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS,
GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_MAX_REQUESTS, GUNICORN_ACCESSLOG.
What each timeout protects: deploy/README.md, "Timeouts"."""

import os

bind = os.getenv("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, one per core plus one: the request path is short and database-bound.
workers = int(os.getenv("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
threads = int(os.getenv("GUNICORN_THREADS", "1"))
# A sync worker serves one request at a time and tells the master it is alive only between
# requests, so `timeout` bounds a whole request: reading its body, the view, and writing the response
# (a streamed export included). A worker silent for longer is killed and replaced; that is what the
# timeout protects against (a request wedged on a lock or a dead peer). Long client transfers do not
# belong inside it: put a buffering proxy in front (nginx buffers request bodies and responses by
# default), so gunicorn reads a 100 MB upload and writes an export at local-network speed. Long
# computations go to Celery (imports, reports, generation runs) and never run in a request.
timeout = int(os.getenv("GUNICORN_TIMEOUT", "60"))
# On SIGTERM (deploys, bin/serve's Ctrl-C) a worker finishes the request in hand for this long.
graceful_timeout = int(os.getenv("GUNICORN_GRACEFUL_TIMEOUT", "30"))
max_requests = int(os.getenv("GUNICORN_MAX_REQUESTS", "0"))
accesslog = os.getenv("GUNICORN_ACCESSLOG", "-") or None
# The path without its query string (%(U)s), and no Referer: participants arrive from crowd platforms
# with their ids in the query (?PROLIFIC_PID=..., workerId=...), which must not reach the logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
