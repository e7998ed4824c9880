"""Jobs that cannot hang: every task of the apps has soft and hard time limits and is acknowledged
late (each is idempotent), and a billing run's logs name the run and the chunk."""

import logging

import pytest

from billing import runs
from config.celery import app as celery_app
from tests.factories import billing as bf
from tests.factories.billing import d

OUR_TASKS = ("billing.", "orders.", "resellers.", "dashboard.")


def _our_tasks():
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if name.startswith(OUR_TASKS)}


def test_every_task_has_a_soft_and_a_hard_time_limit_and_acks_late():
    tasks = _our_tasks()
    assert {"billing.tasks.billing_run_chunk", "orders.tasks.resume_stalled_orders"} <= set(tasks)
    for name, task in tasks.items():
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        hard = task.time_limit or celery_app.conf.task_time_limit
        assert soft and hard and soft < hard, name
        visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
        assert hard < visibility, name  # killed before the broker would hand it out again
        assert task.acks_late, name


@pytest.mark.django_db(transaction=False)
def test_a_runs_log_lines_name_the_run_and_the_chunk(caplog):
    w = bf.world()
    bf.subscribe(w, today=d("2026-01-01"))
    with caplog.at_level(logging.INFO, logger="billing"):
        run = runs.run_start(run_date=d("2026-02-01"), inline=True)

    chunk_lines = [r for r in caplog.records if getattr(r, "chunk", None) is not None]
    assert chunk_lines, caplog.text
    for record in chunk_lines:
        assert record.run_id == run.pk
        assert f"{run.pk}" in record.getMessage()
