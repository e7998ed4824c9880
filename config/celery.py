"""The Celery app. Redis is the broker (CELERY_BROKER_URL); tasks live in each app's tasks.py.

    celery -A config worker --loglevel INFO
    celery -A config beat --loglevel INFO

The beat schedule is static, in code: CELERY_BEAT_SCHEDULE in config/settings/base.py. With no
CELERY_BROKER_URL (the embedded demo default) tasks run eagerly, in the caller's process.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("cloudbilling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
