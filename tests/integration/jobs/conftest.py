"""A real Celery worker on Redis, in a thread of the test process.

Eager mode is off, the worker listens on a queue of its own (named per run, purged first), and
the broker is CELERY_BROKER_URL from the environment (config/settings/test.py gives a default).
Tests using it need committed data: they run with a transactional database.
"""

import logging
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app as celery_app


def purge_queue(queue: str) -> int:
    with celery_app.connection_for_write() as conn:
        return conn.default_channel.queue_purge(queue) or 0


@pytest.fixture
def worker_queue(transactional_db):
    """Start a worker on a fresh queue; yield the queue's name. Restores the app and logging."""
    queue = f"tests.jobs.{uuid.uuid4().hex[:12]}"
    saved_conf = {
        key: celery_app.conf[key] for key in ("task_always_eager", "worker_hijack_root_logger")
    }
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    celery_app.conf.task_always_eager = False
    # Keep pytest's log capture on the root logger: the worker must not replace its handlers.
    celery_app.conf.worker_hijack_root_logger = False
    purge_queue(queue)
    try:
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            queues=[queue],
            loglevel="INFO",
            perform_ping_check=False,
            shutdown_timeout=30,
        ):
            yield queue
    finally:
        purge_queue(queue)
        celery_app.conf.update(saved_conf)
        root.setLevel(saved_level)
        root.handlers[:] = saved_handlers
