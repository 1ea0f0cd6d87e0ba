"""The production recipe in deploy/: systemd accepts the units and gunicorn loads its settings."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

from app import create_app
from tests.conftest import make_test_config
from tests.operations.databases import ROOT

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _verify(directory: Path, units: list[Path]) -> subprocess.CompletedProcess:
    """systemd-analyze verify on copies whose /srv/training is this checkout, so it finds the commands."""
    directory = directory / "checked"
    directory.mkdir()
    copies = []
    for unit in units:
        copy = directory / unit.name
        copy.write_text(unit.read_text().replace("/srv/training", str(ROOT)))
        copies.append(str(copy))
    return subprocess.run(["systemd-analyze", "verify", "--man=no", *copies], capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed here (Debian's systemd package has it)")
def test_systemd_accepts_the_units_without_a_warning(tmp_path):
    assert [unit.name for unit in UNITS] == ["training-jobs.service", "training-web.service"]
    checked = _verify(tmp_path, UNITS)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), checked

    # It would have said so: a misspelt setting is a warning it prints.
    misspelt = tmp_path / "misspelt"
    misspelt.mkdir()
    unit = misspelt / "training-web.service"
    unit.write_text((DEPLOY / "systemd" / "training-web.service").read_text().replace(
        "TimeoutStopSec=", "TimeoutStopSecs="))
    assert "Unknown key 'TimeoutStopSecs'" in _verify(misspelt, [unit]).stderr


def _gunicorn(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GUNICORN), *args, "wsgi:app"], cwd=ROOT, capture_output=True, text=True)


def test_gunicorn_loads_the_config_and_the_app():
    checked = _gunicorn("--check-config", "--config", "deploy/gunicorn.conf.py")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    printed = _gunicorn("--print-config", "--config", "deploy/gunicorn.conf.py")
    settings = dict(line.split(" = ", 1) for line in printed.stdout.splitlines() if " = " in line)
    settings = {name.strip(): value.strip() for name, value in settings.items()}
    assert settings["worker_class"] == "gthread" and settings["threads"] == "4"
    assert settings["timeout"] == "60" and settings["graceful_timeout"] == "30"
    assert settings["max_requests"] == "1000" and settings["max_requests_jitter"] == "100"
    assert settings["bind"] == "['127.0.0.1:8000']"
    # No gunicorn access log (it would print paths, which hold secret links, and addresses): the
    # app logs each request itself, by route.
    assert settings["accesslog"] == "None"


def test_gunicorn_refuses_a_broken_config(tmp_path):
    broken = tmp_path / "gunicorn.conf.py"
    broken.write_text((DEPLOY / "gunicorn.conf.py").read_text().replace("timeout = 60", "timeout = 'a minute'"))
    assert _gunicorn("--check-config", "--config", str(broken)).returncode != 0


@pytest.mark.parametrize("hops, seen", [(0, ("http", "127.0.0.1")), (1, ("https", "203.0.113.9"))])
def test_behind_trusted_proxies_the_app_sees_the_clients_address_and_https(smtp_server, hops, seen):
    application = create_app(make_test_config(smtp_server.port, TRUSTED_PROXY_HOPS=hops))
    application.add_url_rule("/_seen", "seen", lambda: f"{request.scheme} {request.remote_addr}")
    response = application.test_client().get(
        "/_seen", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert tuple(response.get_data(as_text=True).split()) == seen
