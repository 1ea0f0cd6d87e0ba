"""Settings: production refuses the development secret key."""
import pytest

from app import create_app
from config import DEV_SECRET_KEY, ProductionConfig


def test_production_refuses_the_development_secret_key():
    class Unsafe(ProductionConfig):
        SECRET_KEY = DEV_SECRET_KEY
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="development SECRET_KEY"):
        create_app(Unsafe)


def test_production_starts_with_a_real_secret_key():
    class Safe(ProductionConfig):
        SECRET_KEY = "a-long-random-production-secret"
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Safe)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def _settings(**env) -> list[str]:
    """BASE_URL and MAIL_PORT as a fresh process reads them from this environment."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    clean = {k: v for k, v in os.environ.items() if k not in {"BASE_URL", "PORT", "MAIL_PORT", "MAIL_SINK_PORT"}}
    out = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.BASE_URL, Config.MAIL_PORT)"],
        env={**clean, **env}, cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_links_and_mail_follow_the_development_ports_unless_set():
    assert _settings() == ["http://127.0.0.1:5000", "1025"]
    assert _settings(PORT="8000", MAIL_SINK_PORT="1026") == ["http://127.0.0.1:8000", "1026"]
    assert _settings(PORT="8000", BASE_URL="https://training.example.org/", MAIL_SINK_PORT="1026",
                     MAIL_PORT="587") == ["https://training.example.org", "587"]
