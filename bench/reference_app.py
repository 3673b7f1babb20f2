"""The bare reference loop that bench/annotation_loop.py --server reference compares the service with.

    gunicorn bench.reference_app:application -c deploy/gunicorn.conf.py

"The same two transactions behind minimal DRF views on gunicorn with persistent connections and
nothing else": the claim and the submit as raw SQL on the service's own tables (same database,
DATABASE_URL), behind two DRF APIViews at the service's URLs, with token authentication, no
middleware, no serializers, no roles, no lease expiry, no batch completion, no idempotent replay.
It is the floor the service is measured against, not a second service: it imports nothing from the
project, and its settings are the few lines below.
"""

import os
from datetime import timedelta

import dj_database_url
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=os.environ.get("SECRET_KEY", "reference-" + "x" * 40),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework.authtoken",
    ],
    DATABASES={"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)},
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
    TIME_ZONE="UTC",
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

CHOICES = [" Yes", " No"]

CLAIM = (
    "SELECT i.id FROM annotation_item i WHERE i.batch_id = %s AND NOT i.is_gold AND i.completed_at IS NULL "
    "AND i.judgment_count + i.lease_count < %s "
    "AND NOT EXISTS (SELECT 1 FROM annotation_assignment a WHERE a.item_id = i.id AND a.worker_id = %s) "
    "ORDER BY i.judgment_count DESC, i.lease_count DESC, i.position LIMIT 1 FOR UPDATE SKIP LOCKED"
)


class AssignmentNext(APIView):
    def post(self, request):
        batch_id, worker_id = request.data.get("batch"), request.user.pk
        if not isinstance(batch_id, int):
            return Response({"batch": "an integer"}, status=400)
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT overlap, lease_seconds FROM annotation_batch WHERE id = %s AND status = 'running'",
                [batch_id],
            )
            row = cur.fetchone()
            if row is None:
                return Response(status=204)
            k, lease_seconds = row
            cur.execute(CLAIM, [batch_id, k, worker_id])
            row = cur.fetchone()
            if row is None:
                return Response(status=204)
            item_id = row[0]
            expires = now + timedelta(seconds=lease_seconds)
            cur.execute(
                "INSERT INTO annotation_assignment (item_id, worker_id, batch_id, status, claimed_at, expires_at) "
                "VALUES (%s, %s, %s, 'active', %s, %s) RETURNING id",
                [item_id, worker_id, batch_id, now, expires],
            )
            assignment_id = cur.fetchone()[0]
            cur.execute("UPDATE annotation_item SET lease_count = lease_count + 1 WHERE id = %s", [item_id])
        return Response(
            {
                "id": assignment_id,
                "item": item_id,
                "batch": batch_id,
                "expires_at": expires,
                "choices": CHOICES,
            }
        )


class JudgmentSubmit(APIView):
    def post(self, request, id: int):
        data = request.data
        relevance, answer, ambiguous = data.get("relevance"), data.get("answer"), data.get("ambiguous")
        key = data.get("idempotency_key", "")
        if not (
            isinstance(relevance, int)
            and 1 <= relevance <= 5
            and answer in CHOICES
            and isinstance(ambiguous, bool)
        ):
            return Response(
                {"detail": "relevance 1-5, answer one of the choices, ambiguous a boolean"}, status=400
            )
        if not (isinstance(key, str) and len(key) <= 64):
            return Response({"idempotency_key": "at most 64 characters"}, status=400)
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                "SELECT a.item_id, a.batch_id, a.claimed_at, a.status, b.overlap FROM annotation_assignment a "
                "JOIN annotation_batch b ON b.id = a.batch_id WHERE a.id = %s AND a.worker_id = %s FOR UPDATE OF a",
                [id, request.user.pk],
            )
            row = cur.fetchone()
            if row is None:
                return Response({"detail": "not found"}, status=404)
            item_id, batch_id, claimed_at, state, k = row
            if state != "active":
                return Response({"detail": f"assignment is {state}"}, status=409)
            cur.execute("SELECT judgment_count FROM annotation_item WHERE id = %s FOR UPDATE", [item_id])
            count = cur.fetchone()[0] + 1
            cur.execute(
                "INSERT INTO annotation_judgment (item_id, worker_id, assignment_id, batch_id, relevance, answer, "
                "ambiguous, comment, seconds, submitted_at, idempotency_key) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, '', %s, %s, %s) RETURNING id",
                [
                    item_id,
                    request.user.pk,
                    id,
                    batch_id,
                    relevance,
                    answer,
                    ambiguous,
                    (now - claimed_at).total_seconds(),
                    now,
                    key,
                ],
            )
            judgment_id = cur.fetchone()[0]
            cur.execute("UPDATE annotation_assignment SET status = 'submitted' WHERE id = %s", [id])
            cur.execute(
                "UPDATE annotation_item SET judgment_count = %s, lease_count = lease_count - 1, "
                "completed_at = CASE WHEN %s >= %s THEN %s ELSE completed_at END WHERE id = %s",
                [count, count, k, now, item_id],
            )
        return Response(
            {"id": judgment_id, "item": item_id, "assignment": id, "submitted_at": now}, status=201
        )


urlpatterns = [
    path("api/v1/assignments/next", AssignmentNext.as_view()),
    path("api/v1/assignments/<int:id>/judgment", JudgmentSubmit.as_view()),
]

application = get_wsgi_application()
