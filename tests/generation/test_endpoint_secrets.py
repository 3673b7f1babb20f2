"""Endpoint API keys: encrypted at rest, never in a message, describe() or provenance."""

import importlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import connection

from generation.backends import BackendError, backend_load
from generation.models import ModelEndpoint
from generation.runs import services

pytestmark = pytest.mark.django_db

KEY = "sk-live-0123456789abcdef"


def _stored(endpoint) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT api_key FROM {ModelEndpoint._meta.db_table} WHERE id = %s", [endpoint.pk])
        return cursor.fetchone()[0]


def _endpoint(user):
    return services.endpoint_create(user=user, name="vllm", kind="openai", model="m", base_url="http://vllm:8000/v1", api_key=KEY)


def test_a_database_dump_does_not_reveal_an_api_key(researcher):
    endpoint = _endpoint(researcher)
    stored = _stored(endpoint)
    assert KEY not in stored and stored.startswith("fernet:")
    assert ModelEndpoint.objects.get().api_key == KEY


def test_the_key_comes_from_field_encryption_key_and_a_wrong_one_reads_as_no_key(researcher, settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    _endpoint(researcher)
    assert ModelEndpoint.objects.get().api_key == KEY
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()  # a rotated key without the old one
    assert ModelEndpoint.objects.get().api_key == ""


def test_keys_stored_before_encryption_are_encrypted_by_the_migration(researcher):
    endpoint = _endpoint(researcher)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ModelEndpoint._meta.db_table} SET api_key = %s WHERE id = %s", [KEY, endpoint.pk])
    migration = importlib.import_module("generation.migrations.0004_encrypt_endpoint_api_keys")

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.encrypt(apps, editor)
    assert _stored(endpoint).startswith("fernet:") and KEY not in _stored(endpoint)
    assert ModelEndpoint.objects.get().api_key == KEY
    migration.encrypt(apps, editor)  # again: nothing changes
    assert ModelEndpoint.objects.get().api_key == KEY


@pytest.fixture
def echoing_server():
    """Answers 400 with the request's headers in the body, as some servers' error pages do."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            data = json.dumps({"error": "bad request", "authorization": self.headers["Authorization"]}).encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_a_server_that_echoes_the_key_in_an_error_does_not_put_it_in_the_message(echoing_server):
    backend = backend_load(kind="openai", model="m", base_url=echoing_server, api_key=KEY)
    with pytest.raises(BackendError) as error:
        backend.generate(["x"], n=1)
    assert "refused the request: 400" in str(error.value) and "[API key]" in str(error.value)
    assert KEY not in str(error.value)
    assert KEY not in json.dumps(backend.describe())


def test_the_endpoint_page_and_the_admin_never_show_the_key(client, researcher, admin_user):
    endpoint = _endpoint(researcher)
    client.force_login(researcher)
    page = client.get("/datasets/runs/endpoints/").content.decode()
    assert "vllm" in page and KEY not in page and _stored(endpoint) not in page
    client.force_login(admin_user)
    page = client.get(f"/admin/generation/modelendpoint/{endpoint.pk}/change/").content.decode()
    assert KEY not in page and _stored(endpoint) not in page
