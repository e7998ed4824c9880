"""The README's first command, bin/demo, as a newcomer runs it: no environment but a port.

It installs the project into .venv, migrates the embedded SQLite database, seeds the demo and
serves the panels; the demo logins then work in the panel and against the API.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = _free_port()
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env |= {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        [str(ROOT / "bin" / "demo")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"bin/demo did not serve:\n{log.read()}")
                time.sleep(0.5)
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def _login(base: str, username: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": "demo", "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": base})
    response = opener.open(request)
    assert "/login/" not in response.geturl(), f"{username} could not log in"
    return opener, response.read().decode()


def test_a_newcomer_can_log_in_as_provider_and_reseller1(demo_server):
    base, log = demo_server
    log.seek(0)
    output = log.read()
    assert "reseller1" in output and "password for each: demo" in output

    provider, _ = _login(base, "provider")
    resellers = provider.open(f"{base}/billing/resellers/").read().decode()
    assert "Northwind Cloud Services" in resellers and "Southridge IT" in resellers

    _, landing = _login(base, "reseller1")
    assert "Northwind Cloud Services" in landing
    assert "Southridge IT" not in landing

    request = urllib.request.Request(
        f"{base}/api/v1/auth/token/",
        data=urllib.parse.urlencode({"username": "reseller1", "password": "demo"}).encode(),
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["token"]
