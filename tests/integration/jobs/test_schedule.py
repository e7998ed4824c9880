"""The static beat schedule, and the `celery -A config worker|beat` commands starting for real."""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery.beat import Scheduler
from celery.schedules import crontab
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[3]


def _nightly_entries(schedule: dict) -> list:
    return [e for e in schedule.values() if e["task"] == "billing.tasks.verify_balances"]


def test_beat_schedule_runs_verify_balances_once_a_night():
    [entry] = _nightly_entries(settings.CELERY_BEAT_SCHEDULE)
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
    assert schedule.day_of_month == set(range(1, 32))


def test_the_app_loads_the_schedule_and_knows_the_task():
    assert _nightly_entries(celery_app.conf.beat_schedule)
    celery_app.loader.import_default_modules()
    assert "billing.tasks.verify_balances" in celery_app.tasks
    scheduler = Scheduler(app=celery_app, lazy=True)
    scheduler.setup_schedule()
    names = {e.task for e in scheduler.schedule.values()}
    assert "billing.tasks.verify_balances" in names


class _Process:
    """A command whose merged output is read line by line in the background."""

    def __init__(self, args: list[str]):
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} not seen; output:\n{''.join(self.lines)}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


@pytest.mark.worker
def test_celery_worker_command_starts():
    name = f"tests-{uuid.uuid4().hex[:8]}@%h"
    proc = _Process(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "-Q", f"tests.cli.{uuid.uuid4().hex[:8]}", "-n", name, "--loglevel", "INFO",
         "--without-mingle", "--without-gossip", "--without-heartbeat"]
    )  # fmt: skip
    try:
        proc.wait_for("billing.tasks.verify_balances")  # the banner lists registered tasks
        proc.wait_for("ready.")
    finally:
        proc.stop()


@pytest.mark.worker
def test_celery_beat_command_starts_with_the_schedule(tmp_path):
    proc = _Process(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "DEBUG",
         "--schedule", str(tmp_path / "celerybeat-schedule"), "--max-interval", "1"]
    )  # fmt: skip
    try:
        proc.wait_for("beat: Starting...")
        proc.wait_for("billing.tasks.verify_balances")  # "Current schedule:" lists each entry
    finally:
        proc.stop()
