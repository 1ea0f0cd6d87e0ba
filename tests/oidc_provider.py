"""A real OpenID provider on 127.0.0.1 for the sign-in tests: tests/accounts/oidc_provider/server.mjs
(the oidc-provider npm package), started once per test run and stopped after.

The tests hold its private signing keys, so they can also sign tokens it never issued (with a key
its JWKS has, or one it does not) and rotate its keys.
"""
from __future__ import annotations

import json
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "accounts" / "oidc_provider" / "server.mjs"
CLIENT_ID = "training-booking"
CLIENT_SECRET = "test-client-secret-with-enough-length"
PROVIDER_NAME = "testorg"
DISPLAY_NAME = "Northbridge Council account"
# The redirect address registered; as a native (loopback) client any port on 127.0.0.1 is allowed.
REDIRECT_URI = f"http://127.0.0.1/sign-in/with/{PROVIDER_NAME}/callback"
PROVIDER_PASSWORD = "provider-password"

# The provider's accounts (all invented): `login` is what is typed at its page, the rest are the
# claims it issues.
ACCOUNTS = [
    {"sub": "sub-ada", "login": "ada.okafor@northbridge.gov.uk", "email": "ada.okafor@northbridge.gov.uk",
     "email_verified": True, "name": "Ada Okafor"},
    {"sub": "sub-ben", "login": "ben.hartley@northbridge.gov.uk",
     "email": "ben.hartley@northbridge.gov.uk", "email_verified": True, "name": "Ben Hartley"},
    {"sub": "sub-cleo", "login": "cleo.unverified@northbridge.gov.uk",
     "email": "cleo.unverified@northbridge.gov.uk", "email_verified": False, "name": "Cleo Marsh"},
    {"sub": "sub-dev", "login": "dev.nowhere@unknown-partner.example",
     "email": "dev.nowhere@unknown-partner.example", "email_verified": True, "name": "Dev Anand"},
]


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"},
                               private=True)


class TestProvider:
    """The running provider: its issuer, its keys, and ways to drive it like a person would."""

    __test__ = False

    def __init__(self, process: subprocess.Popen, port: int, key: RSAKey, directory: Path):
        self.process = process
        self.directory = directory
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = key

    def settings(self, **extra) -> str:
        """OIDC_PROVIDERS naming this provider."""
        entry = {"name": PROVIDER_NAME, "display_name": DISPLAY_NAME, "issuer": self.issuer,
                 "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **extra}
        return json.dumps([entry])

    def rotate(self, key: RSAKey) -> None:
        """Sign from now on with a new key (the old one leaves the JWKS)."""
        response = requests.post(self.issuer + "/test/keys",
                                 data=json.dumps({"keys": [key.as_dict(private=True)]}), timeout=10)
        response.raise_for_status()
        self.key = key

    def sign(self, claims: dict, key: RSAKey | None = None) -> str:
        """An ID token signed with the provider's current key, or another."""
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def id_token_claims(self, session_nonce: str, **changes) -> dict:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "sub-ada", "iat": now,
                  "exp": now + 300, "nonce": session_nonce, "email": ACCOUNTS[0]["email"],
                  "email_verified": True, "name": "Ada Okafor"}
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def log_in(self, authorization_url: str, login: str, password: str = PROVIDER_PASSWORD,
               cancel: bool = False) -> str:
        """Go through the provider's own pages as a person would; return where it sends them back
        to (our callback address, with the code and state)."""
        browser = requests.Session()
        response = browser.get(authorization_url, allow_redirects=False, timeout=10)
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(self.issuer):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
        assert response.status_code == 200, response.text
        interaction = urlsplit(response.url).path
        if cancel:
            response = browser.post(self.issuer + interaction + "/abort", allow_redirects=False,
                                    timeout=10)
        else:
            response = browser.post(self.issuer + interaction + "/login",
                                    data={"email": login, "password": password},
                                    allow_redirects=False, timeout=10)
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if not location.startswith(self.issuer):
                return location
            response = browser.get(location, allow_redirects=False, timeout=10)
        raise AssertionError(f"The provider did not send the person back: {response.status_code}")


def start_provider():
    """Start server.mjs with this module's client, accounts and a fresh key."""
    key = new_key("key-1")
    config = {
        "clients": [{
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "application_type": "native", "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }],
        "jwks": {"keys": [key.as_dict(private=True)]},
        "accounts": [{**a, "password": PROVIDER_PASSWORD} for a in ACCOUNTS],
    }
    config_file = Path(tempfile.mkdtemp(prefix="oidc-provider-")) / "config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    # Its warnings and errors go to a file beside the config, so a full pipe never stalls it.
    errors = (config_file.parent / "provider.log").open("w", encoding="utf-8")
    process = subprocess.Popen(["node", str(SERVER), str(config_file)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=errors, text=True)
    errors.close()
    ready, _, _ = select.select([process.stdout], [], [], 20)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("listening "):
        process.kill()
        shutil.rmtree(config_file.parent, ignore_errors=True)
        raise RuntimeError(f"The test OpenID provider did not start: {line!r}")
    return TestProvider(process, int(line.split()[1]), key, config_file.parent)


@pytest.fixture(scope="session")
def oidc_provider():
    provider = start_provider()
    yield provider
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
    shutil.rmtree(provider.directory, ignore_errors=True)
