"""All settings, read from the environment (see .env.example and the README's configuration table).

Nothing set gives the embedded default: SQLite and Celery tasks run eagerly in-process.
DATABASE_URL switches to PostgreSQL, CELERY_BROKER_URL to a real broker and workers.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from qa.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("QA_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "insecure-embedded-default-only-for-DEBUG"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]", "testserver"]
else:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so {' and '.join(missing)} must be set in the environment (see .env.example)"
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "qa.error_pages.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files: no CDN
    "qa",
    "generation",
    "annotation",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "qa.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Body size and unstorable text, before CsrfViewMiddleware.process_view or a view reads the body.
    "qa.request_limits.RequestLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "qa.throttle.LoginThrottleMiddleware",  # the login pages' 429 (see qa/throttle.py)
]

ROOT_URLCONF = "qa.urls"
WSGI_APPLICATION = "qa.wsgi.application"
ASGI_APPLICATION = "qa.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "qa" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qa.roles.roles_context",
                "annotation.context.participant_context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        if env_bool("DB_PREPARED_STATEMENTS", True):
            # Server-side binding lets psycopg prepare a statement after its 5th run on a
            # connection, so PostgreSQL stops planning the hot claim/submit statements anew each
            # time (planning was most of their database CPU). Turn off behind a transaction-mode
            # pooler such as PgBouncer < 1.21, which cannot keep prepared statements.
            DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # IMMEDIATE takes the write lock at BEGIN, so concurrent claimers queue instead of
            # failing on lock upgrade; the timeout is how long they wait in that queue.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": env_str("SQLITE_TEST_PATH", str(VAR_DIR / "test.sqlite3"))},
        }
    }
DB_VENDOR = "postgresql" if DATABASES["default"]["ENGINE"].endswith("postgresql") else "sqlite"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",  # first: what every chosen password gets
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    # Generated 96-bit passwords only (bulk worker accounts); see qa/hashers.py for why.
    "qa.hashers.GeneratedPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Passwords are checked behind the failed-login throttle; ModelBackend stays listed for sessions
# that name it (invites and entry links log people in with it) and is never reached by authenticate().
AUTHENTICATION_BACKENDS = ["qa.throttle.ThrottledModelBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 50)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60)
# How many reverse proxies in front add an X-Forwarded-For entry; 0: the client is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "qa" / "static"]
MEDIA_ROOT = VAR_DIR / "media"
# Request bodies are refused with 413 before they are read (qa/request_limits.py): uploads and forms
# over UPLOAD_MAX_BYTES, JSON over JSON_MAX_BYTES (no JSON endpoint needs megabytes; a small cap keeps
# parsing cheap). JSON nested deeper than JSON_MAX_DEPTH is refused before parsing (qa/parsers.py).
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 100 * 1024 * 1024)
JSON_MAX_BYTES = env_int("JSON_MAX_BYTES", 1024 * 1024)
JSON_MAX_DEPTH = env_int("JSON_MAX_DEPTH", 64)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
# Local models that runs and endpoints may load: a path must resolve (after symlinks) inside one of
# these folders. Colon- or comma-separated; the web user never names an arbitrary server path.
MODEL_DIRS = [Path(p.strip()) for p in env_str("MODEL_DIRS", str(VAR_DIR / "models")).replace(":", ",").split(",") if p.strip()]
# Encrypts ModelEndpoint.api_key at rest (a Fernet key: 32 url-safe base64 bytes). Unset: derived
# from SECRET_KEY, so a database dump alone does not reveal the keys.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- HTTPS and browser protections (`manage.py check --deploy` is clean with DEBUG off) -------
if not DEBUG:
    # Production sits behind an HTTPS proxy that sets X-Forwarded-Proto. SECURE_COOKIES=0 says it
    # does not (a plain-HTTP test install): then cookies, redirect and HSTS stop insisting on HTTPS,
    # unless SECURE_SSL_REDIRECT or SECURE_HSTS_SECONDS say otherwise.
    _HTTPS = env_bool("SECURE_COOKIES", True)
    SESSION_COOKIE_SECURE = _HTTPS
    CSRF_COOKIE_SECURE = _HTTPS
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _HTTPS)
    # A year, subdomains included, preload allowed (as cookiecutter-django): a browser that has
    # seen the site once never talks plain HTTP to it again. 0 turns HSTS off.
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if _HTTPS else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Load balancers and container health checks probe over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Scripts only from our own static files (no inline script, no event handler attributes), no
# plugins, no framing, forms post only here. Styles likewise: sizes set from data- attributes by
# qa/static/qa/site.js. qa/csp.py sends it; CSP_REPORT_ONLY=1 sends it as Report-Only instead.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)

# --- Cache ------------------------------------------------------------------------------------
# Holds the failed-login counters, so it must be shared by every web process: Redis in production
# (CACHE_URL=redis://host:6379/1), a file cache that the processes of one machine share by default.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
elif CACHE_URL.startswith("locmem://"):  # one process only: tests, or a single runserver
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": CACHE_URL[9:]}}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: expected redis://, rediss://, unix:// or locmem://")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20_000},  # counters of many addresses; culling would forget them
        }
    }

# --- REST framework --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a bad or missing token is a 401 with WWW-Authenticate, as API clients expect.
        "qa.authentication.TokenAuthentication",  # DRF's, with the roles in the same query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qa.errors.api_exception_handler",
    # JSON with a size and depth limit and a check for text the database cannot store.
    "DEFAULT_PARSER_CLASSES": [
        "qa.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "evals-qa API",
    "DESCRIPTION": "Import LM-written evaluation datasets, run crowd annotation batches, read agreement reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation also declares the errors it can answer, in the one error shape.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "qa.openapi.error_responses"],
}

# --- Celery ----------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Without a broker the embedded default runs every task eagerly, in the calling process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 6 * 3600 - 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Model work (generation runs, embedding for the diversity map, scoring models) goes to the GPU worker.
CELERY_TASK_ROUTES = {
    "generation.runs.tasks.*": {"queue": "gpu"},
    "analysis.diversity.tasks.*": {"queue": "gpu"},
    "analysis.evaluations.tasks.*": {"queue": "gpu"},
}
# Reports, import jobs and generation runs are state in the database; a message is only a wake-up.
# Every WORK_SWEEP_SECONDS the work sweep enqueues again what lost its message or its worker:
# reports behind their judgments, jobs queued for longer than a period, and jobs running whose
# heartbeat (written every period / 4 while a worker holds them) is older than 3 periods.
WORK_SWEEP_SECONDS = env_int("WORK_SWEEP_SECONDS", 60)
if WORK_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(f"WORK_SWEEP_SECONDS={WORK_SWEEP_SECONDS}: give a whole number of seconds, at least 1")
# With a broker, a report is recomputed this long after the first judgment that made it stale.
REPORT_DEBOUNCE_SECONDS = env_int("REPORT_DEBOUNCE_SECONDS", 15)
CELERY_BEAT_SCHEDULE = {
    "expire-leases": {"task": "annotation.tasks.leases_expire", "schedule": env_int("LEASE_SWEEP_SECONDS", 60)},
    "heal-work": {"task": "qa.tasks.work_heal", "schedule": WORK_SWEEP_SECONDS},
}
# Redis (and SQS) hand a message that was delivered but not acknowledged to another worker after
# visibility_timeout seconds. Our acks_late tasks keep their message unacknowledged while they
# run, so a longer task is delivered twice: harmless (each task claims its job, and a job held by
# a live worker is left alone), but keep it above the usual task. A worker that died loses
# nothing either way: the work sweep enqueues its job again within a few periods.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Known, with no setting that avoids it (celery 5.7, kombu 5.7, redis-py 8): a worker holding an
# unacknowledged message (a running acks_late task, or a countdown message it prefetched) when
# Redis goes away exits with "Unrecoverable error: AttributeError('NoneType' object has no
# attribute 'hostname')": closing the broken connection restores the unacknowledged messages
# through a client already released (the kombu#582 family). Run workers under a supervisor that
# restarts them (systemd Restart=always, compose restart policies); the work sweep recovers the
# work once one runs again (tests/faults).

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"client_error_without_traceback": {"()": "qa.log_filters.ClientErrorWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_error_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives "django" a console handler of its own (with DEBUG on) that
        # also propagates to ours: every refused request was printed twice. One handler, ours.
        "django": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO"), "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
