"""Test settings: PostgreSQL and Redis, as in CI and production.

DATABASE_URL defaults to the local PostgreSQL (pytest-django creates test_<name>);
CELERY_BROKER_URL to a Redis database of its own. Eager mode stays off: tests that need a task to
run start a real worker.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cloudbilling")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_DEFAULT_QUEUE = "tests"
