"""Production settings pass `manage.py check --deploy` with a real secret and hosts."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A clean environment: nothing from the test run (or a developer's shell) leaks in.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _deploy_env() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "billing.example.com",
        "ADMIN_URL": "staff-7f3a/",
        "DATABASE_URL": os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cloudbilling"
        ),
    }


def test_check_deploy_is_clean():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **_deploy_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_a_weak_secret_is_reported():
    env = {**_deploy_env(), "SECRET_KEY": "short"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret():
    env = _deploy_env()
    del env["SECRET_KEY"]
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_requires_its_own_admin_url():
    env = _deploy_env()
    del env["ADMIN_URL"]
    missing = _manage("check", **env)
    assert missing.returncode != 0
    assert "ADMIN_URL" in missing.stderr

    well_known = _manage("check", **{**env, "ADMIN_URL": "admin/"})
    assert well_known.returncode != 0
    assert "ADMIN_URL" in well_known.stderr


def test_production_pages_carry_the_csp_and_hsts():
    """The Content-Security-Policy comes from the base settings, so production sends it too,
    beside HSTS; plain HTTP is redirected to HTTPS."""
    script = (
        "import json; from django.test import Client; c = Client(); "
        "s = c.get('/login/', secure=True, HTTP_HOST='billing.example.com'); "
        "p = c.get('/login/', HTTP_HOST='billing.example.com'); "
        "print(json.dumps([s.status_code, s.get('Content-Security-Policy'), "
        "s.get('Strict-Transport-Security'), p.status_code, p.get('Location')]))"
    )
    result = _manage("shell", "-c", script, **_deploy_env())
    assert result.returncode == 0, result.stderr
    status, csp, hsts, plain, location = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200
    policy = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert "'unsafe-inline'" not in csp
    assert policy["default-src"] == policy["script-src"] == policy["style-src"] == ["'self'"]
    assert policy["object-src"] == policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == policy["form-action"] == ["'self'"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert (plain, location) == (301, "https://billing.example.com/login/")
