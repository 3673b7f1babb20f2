"""`python manage.py start`: migrate, seed the demo on a first run, print where to go, serve.

This is the embedded default for a first look (bin/start calls it). Production runs gunicorn and
Celery workers instead: see deploy/.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from qa.demo import demo_seed


class Command(BaseCommand):
    help = "Migrate, create the demo (first run only), print the URL and logins, and run the web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", default="8000", help="Port to listen on (default 8000).")
        parser.add_argument("--no-serve", action="store_true", help="Set up and print, but do not serve.")

    def handle(self, *args, host, port, no_serve, **options):
        self.stdout.write("Migrating the database ...")
        call_command("migrate", interactive=False, verbosity=0)
        state = demo_seed()
        db = settings.DATABASES["default"]
        where = db["NAME"] if settings.DB_VENDOR == "sqlite" else f"{db.get('HOST')}/{db['NAME']}"
        celery = "tasks run in-process (eager)" if settings.CELERY_TASK_ALWAYS_EAGER else settings.CELERY_BROKER_URL
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        url = f"http://{shown_host}:{port}/"

        lines = [
            "",
            "evals-qa is ready" + (" (demo created)" if state.created else ""),
            f"  Open      {url}",
            f"  API docs  {url}api/docs/",
            *([f"  Report    {url}reports/batches/{state.judged_batch_id}/ (a demo batch judged by a simulated crowd)"]
              if state.judged_batch_id else []),
            f"  Database  {settings.DB_VENDOR} ({where})",
            f"  Celery    {celery}",
            "",
            "  Log in as:",
        ]
        for role, username, password in state.credentials:
            lines.append(f"    {role:<10} {username:<10} {password}")
        if not state.credentials:
            lines.append(f"    (the demo accounts were made earlier; their passwords are not in {state.credentials_file})")
        lines.append(f"  (logins kept in {state.credentials_file})")
        lines.append("")
        self.stdout.write("\n".join(lines))
        if not no_serve:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
