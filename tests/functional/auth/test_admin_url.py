"""The admin lives at settings.ADMIN_URL, read from the environment (admin/ by default)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHOW = "from django.urls import reverse; print(reverse('admin:index'))"


def _admin_path(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "ADMIN_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_the_admin_path_comes_from_admin_url():
    assert _admin_path(ADMIN_URL="staff-7f3a/") == "/staff-7f3a/"


def test_the_demo_keeps_admin():
    assert _admin_path() == "/admin/"
