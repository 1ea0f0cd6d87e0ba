"""Settings read from the environment (a .env file in development)."""
import os
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")

DEV_SECRET_KEY = "development-only-secret-key-change-me"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    ENV_NAME = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'training.db'}"
    )
    # Test each pooled connection before use, so a database restart costs no request an error.
    # A database error's text leaves out the statement's values (e-mail addresses, names), so a
    # logged traceback never carries them.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    PARTNERSHIP_NAME = os.environ.get(
        "PARTNERSHIP_NAME", "Northbridge Safeguarding Children Partnership"
    )
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "Safeguarding training")
    # Absolute base for links in e-mails (the request's host is not known in cron jobs). Unset, it
    # follows PORT, so `PORT=8000 make run` (and a second terminal with the same PORT) links to 8000.
    BASE_URL = (os.environ.get("BASE_URL") or f"http://127.0.0.1:{_int('PORT', 5000)}").rstrip("/")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    # Unset, it follows the development mail sink's port (`MAIL_SINK_PORT=1026 make run`).
    MAIL_PORT = _int("MAIL_PORT", _int("MAIL_SINK_PORT", 1025))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Safeguarding training <training@northbridge-scp.example>"
    )
    # Seconds to wait for the mail server to connect or answer any command.
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # A message the server keeps refusing for a time is retried for this long, then marked failed.
    MAIL_RETRY_HOURS = _int("MAIL_RETRY_HOURS", 48)
    # How long one delivery pass may run before it hands back to the job runner.
    MAIL_DELIVERY_SECONDS = _int("MAIL_DELIVERY_SECONDS", 240)
    L_AND_D_EMAIL = os.environ.get("L_AND_D_EMAIL", "training@northbridge-scp.example")

    # Signed links (hours unless said).
    VERIFY_LINK_HOURS = _int("VERIFY_LINK_HOURS", 48)
    RESET_LINK_HOURS = _int("RESET_LINK_HOURS", 2)
    # Sign-in pauses after failed attempts, per address and client, and per client (see
    # app.accounts.throttling); a pause doubles with every further MAX_FAILED_SIGN_INS in a day.
    MAX_FAILED_SIGN_INS = _int("MAX_FAILED_SIGN_INS", 5)
    LOCKOUT_MINUTES = _int("LOCKOUT_MINUTES", 15)
    MAX_FAILED_SIGN_INS_PER_CLIENT = _int("MAX_FAILED_SIGN_INS_PER_CLIENT", 30)
    # Requests per client (per person for the colleague look-up), in Flask-Limiter's notation.
    # Generous enough for a whole agency behind one office address.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # memory:// counts in each process; with several gunicorn workers use a shared store,
    # e.g. redis://localhost:6379/0 (needs the redis package).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_SIGN_IN = os.environ.get("RATELIMIT_SIGN_IN", "20 per minute; 200 per hour")
    RATELIMIT_REGISTER = os.environ.get("RATELIMIT_REGISTER", "10 per minute; 60 per hour")
    RATELIMIT_EMAIL_LINKS = os.environ.get("RATELIMIT_EMAIL_LINKS", "5 per minute; 30 per hour")
    RATELIMIT_COLLEAGUE_LOOKUP = os.environ.get("RATELIMIT_COLLEAGUE_LOOKUP", "10 per hour")
    # Calls to the API (/api/v1) per token (per client address for calls without a valid token).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute; 5000 per hour")
    # The longest an API token may be made to work, in days (the choices are 30, 90, 180 and 365).
    API_TOKEN_MAX_DAYS = _int("API_TOKEN_MAX_DAYS", 365)
    # Proxies in front of the app (nginx: 1) whose X-Forwarded-For is trusted for the client's
    # address; 0 trusts none. Limits and sign-in pauses are per client, so set this behind a proxy.
    TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
    REMEMBER_COOKIE_DURATION_DAYS = _int("REMEMBER_COOKIE_DURATION_DAYS", 14)

    # Identity providers people may sign in with (OpenID Connect; app/accounts/identity_providers.py):
    # a JSON list of {name, display_name, issuer, client_id, client_secret, domains?, agencies?,
    # tenant_ids?}. Empty: passwords only. OIDC_TIMEOUT_SECONDS bounds each call to a provider.
    OIDC_PROVIDERS = os.environ.get("OIDC_PROVIDERS", "[]")
    OIDC_TIMEOUT_SECONDS = _int("OIDC_TIMEOUT_SECONDS", 10)

    # Werkzeug's strong default; tests use a cheap one so hundreds of test users stay quick.
    PASSWORD_HASH_METHOD = "scrypt"
    # Two-stage evaluation (days unless said).
    EVALUATION_STAGE1_EXPIRY_DAYS = _int("EVALUATION_STAGE1_EXPIRY_DAYS", 28)
    EVALUATION_STAGE2_EXPIRY_DAYS = _int("EVALUATION_STAGE2_EXPIRY_DAYS", 42)
    EVALUATION_FIRST_REMINDER_DAYS = _int("EVALUATION_FIRST_REMINDER_DAYS", 7)
    EVALUATION_SECOND_REMINDER_DAYS = _int("EVALUATION_SECOND_REMINDER_DAYS", 14)
    # Nothing is sent for a session that ended (or a second stage that fell due) longer ago.
    EVALUATION_LATEST_SEND_DAYS = _int("EVALUATION_LATEST_SEND_DAYS", 90)
    # New courses release certificates only once the first evaluation is sent (per course after).
    EVALUATION_CERTIFICATE_GATE = _bool("EVALUATION_CERTIFICATE_GATE", True)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Flask-Login reads only REMEMBER_COOKIE_DURATION (a timedelta; its own default is a year).
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_COOKIE_DURATION_DAYS)
    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session

    TIMEZONE = "Europe/London"

    # Logs (app.operations.logs): the level of the app's own lines, and their format: `json` for
    # one JSON object a line, `text` for key=value.
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
    # /readyz fails when no job runner has finished a job or renewed a lease for this many
    # minutes; 0 leaves the runner out of readiness.
    READY_JOB_RUNNER_MINUTES = _int("READY_JOB_RUNNER_MINUTES", 15)

    # Registers and attendance.
    # Days after a session's last part during which its trainers may still mark the register.
    ATTENDANCE_MARKING_DAYS = _int("ATTENDANCE_MARKING_DAYS", 14)
    # The largest pre-course material file a trainer may upload (app.attendance.materials), in MB.
    MATERIAL_MAX_MB = _int("MATERIAL_MAX_MB", 10)
    # This many no-shows (did not attend, turned away) within the window suspend booking.
    NO_SHOW_LIMIT = _int("NO_SHOW_LIMIT", 2)
    NO_SHOW_WINDOW_MONTHS = _int("NO_SHOW_WINDOW_MONTHS", 12)
    SUSPENSION_MONTHS = _int("SUSPENSION_MONTHS", 6)
    # Certificates wait for the registered gates (the first evaluation) when this is on.
    CERTIFICATE_REQUIRES_EVALUATION = _bool("CERTIFICATE_REQUIRES_EVALUATION", True)
    # Refreshers due within this many days are shown as due to people and coordinators.
    REFRESHER_DUE_SOON_DAYS = _int("REFRESHER_DUE_SOON_DAYS", 90)
    # Accounts with no sign-in and no booking for this long are closed and anonymised (after a
    # warning this many days before): a Level 3 refresher falls due every 36 months, so anyone
    # still training here signs in or books within that time.
    DORMANT_ACCOUNT_MONTHS = _int("DORMANT_ACCOUNT_MONTHS", 36)
    DORMANT_WARNING_DAYS = _int("DORMANT_WARNING_DAYS", 30)

    # Prometheus metrics at /metrics (app.operations.metrics): off unless turned on. A scraper
    # sends `Authorization: Bearer <METRICS_TOKEN>`; production serves nothing without a token.
    # METRICS_ALLOW_FROM: comma-separated client networks (CIDR) allowed to scrape; empty, any.
    METRICS_ENABLED = _bool("METRICS_ENABLED", False)
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    METRICS_ALLOW_FROM = os.environ.get("METRICS_ALLOW_FROM", "")

    # Retention of personal data (app/privacy/retention.py; the reasons are in the README's
    # "Personal data"). Access and dietary needs given with a booking, days after the session's last day.
    RETENTION_ACCESS_NEEDS_DAYS = _int("RETENTION_ACCESS_NEEDS_DAYS", 30)
    # The subject, bodies and attachments of e-mails, days after they were sent or failed.
    RETENTION_MESSAGE_BODY_DAYS = _int("RETENTION_MESSAGE_BODY_DAYS", 90)
    # Failed sign-in records (at least a day: the longest sign-in pause reads a day of them).
    RETENTION_FAILED_SIGN_IN_DAYS = _int("RETENTION_FAILED_SIGN_IN_DAYS", 1)

    # The access log (who saw other people's data) is kept this long, then removed by the job runner.
    ACCESS_LOG_RETENTION_MONTHS = _int("ACCESS_LOG_RETENTION_MONTHS", 24)

    # No evaluation figure, and no board report figure outside the L&D team, is shown for a group
    # of fewer people than this (issue 16): "fewer than 5" instead.
    SMALL_GROUP_MINIMUM = max(_int("SMALL_GROUP_MINIMUM", 5), 2)


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    MAIL_SUPPRESS_SEND = False
    BASE_URL = "http://localhost"
    SERVER_NAME = None
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    # The suite signs in hundreds of times from one address; the tests of limits turn them on.
    RATELIMIT_ENABLED = False


def config_for_environment():
    """Pick the settings class named by APP_ENV."""
    return ProductionConfig if os.environ.get("APP_ENV") == "production" else Config
