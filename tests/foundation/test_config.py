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
