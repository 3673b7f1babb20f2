import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")

app = Celery("qa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Generation runs, diversity maps and model evaluations keep their tasks beside their services.
app.autodiscover_tasks(["generation.runs", "analysis.diversity", "analysis.evaluations"])
