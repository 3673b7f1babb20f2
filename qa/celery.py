import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qa.settings")

app = Celery("qa")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Generation runs and diversity maps keep their tasks beside their services, in subpackages.
app.autodiscover_tasks(["generation.runs", "analysis.diversity"])
