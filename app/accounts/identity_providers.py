"""The identity providers people may sign in with (OpenID Connect), read from OIDC_PROVIDERS, and
the protocol with them: discovery, the authorization code flow with PKCE, and checking the ID
token against the provider's keys (Authlib's OAuth 2 client and joserfc; no JWT code of ours).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.common.security import generate_token, is_secure_transport
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from app.accounts.errors import AccountError

log = logging.getLogger(__name__)

# Entra ID's multi-tenant ("organizations", "common") metadata names its issuer with this
# placeholder; each token's issuer has the tenant's id in its place.
TENANT_PLACEHOLDER = "{tenantid}"
# Asymmetric algorithms only: "none" and shared-secret (HS*) signatures are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512")
# How long discovery documents are trusted before they are read again; keys are read again at
# once whenever a token names a key the cached set does not hold (the provider rotated them).
METADATA_SECONDS = 3600
CLOCK_LEEWAY_SECONDS = 60


class ProviderSettingsError(ValueError):
    """OIDC_PROVIDERS cannot be read; the app refuses to start with it."""


class ExternalSignInFailed(AccountError):
    """Signing in through a provider did not work. `reason` is a fixed code for the log (never
    personal data); the message is for the person."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    """One identity provider, as an IT team configured it."""

    name: str
    display_name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # E-mail domains and agency names the provider serves; empty serves any.
    domains: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    # Entra ID: tenant id -> the name of the agency that tenant belongs to. A token from a tenant
    # not listed is refused, and a person's agency must be their tenant's.
    tenant_ids: dict[str, str] = field(default_factory=dict)
    scopes: str = "openid email profile"

    @property
    def is_entra(self) -> bool:
        return self.issuer.startswith("https://login.microsoftonline.com/")

    @property
    def multi_tenant(self) -> bool:
        return self.is_entra and self.issuer.split("/")[3] in {"organizations", "common"}


def _text(entry: dict, key: str, where: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ProviderSettingsError(f"OIDC_PROVIDERS: {where} needs '{key}' (text)")
    return value.strip()


def _texts(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ProviderSettingsError(f"OIDC_PROVIDERS: {where} '{key}' must be a list of text")
    return tuple(v.strip() for v in value)


def parse_providers(raw: str) -> dict[str, Provider]:
    """Read OIDC_PROVIDERS (a JSON list); raise ProviderSettingsError saying what is wrong."""
    try:
        entries = json.loads(raw or "[]")
    except ValueError as exc:
        raise ProviderSettingsError(f"OIDC_PROVIDERS is not JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ProviderSettingsError("OIDC_PROVIDERS must be a JSON list of providers")
    providers: dict[str, Provider] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"provider {number}"
        if not isinstance(entry, dict):
            raise ProviderSettingsError(f"OIDC_PROVIDERS: {where} is not a JSON object")
        name = _text(entry, "name", where).lower()
        if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 50:
            raise ProviderSettingsError(
                f"OIDC_PROVIDERS: {where} 'name' must be letters, digits, - or _ (at most 50)")
        if name in providers:
            raise ProviderSettingsError(f"OIDC_PROVIDERS: two providers are called '{name}'")
        issuer = _text(entry, "issuer", where).rstrip("/")
        if not is_secure_transport(issuer):
            raise ProviderSettingsError(
                f"OIDC_PROVIDERS: {where} 'issuer' must be an https:// address")
        tenants = entry.get("tenant_ids", {})
        if not isinstance(tenants, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in tenants.items()):
            raise ProviderSettingsError(
                f"OIDC_PROVIDERS: {where} 'tenant_ids' must map tenant ids to agency names")
        provider = Provider(
            name=name,
            display_name=_text(entry, "display_name", where),
            issuer=issuer,
            client_id=_text(entry, "client_id", where),
            client_secret=_text(entry, "client_secret", where),
            domains=tuple(d.lower().lstrip("@") for d in _texts(entry, "domains", where)),
            agencies=_texts(entry, "agencies", where),
            tenant_ids={k.strip().lower(): v.strip() for k, v in tenants.items()},
        )
        if provider.multi_tenant and not provider.tenant_ids:
            raise ProviderSettingsError(
                f"OIDC_PROVIDERS: {where} signs in from any Entra tenant; list the agencies' "
                "tenants in 'tenant_ids'")
        providers[name] = provider
    return providers


_parsed: dict[str, dict[str, Provider]] = {}


def configured_providers() -> dict[str, Provider]:
    """Return the providers in this app's settings, by name."""
    raw = current_app.config.get("OIDC_PROVIDERS") or "[]"
    if raw not in _parsed:
        _parsed[raw] = parse_providers(raw)
    return _parsed[raw]


def provider_named(name: str | None) -> Provider | None:
    """Return the configured provider with this name, or None."""
    return configured_providers().get((name or "").lower())


# --- Discovery and keys, cached per process ------------------------------------------------

_UNAVAILABLE = ("We could not reach your organisation’s sign-in service. Try again in a few "
                "minutes, or sign in with your e-mail address and password if you have one.")


_lock = threading.Lock()
_metadata: dict[str, tuple[float, dict]] = {}
_key_sets: dict[str, KeySet] = {}


def _get_json(url: str) -> dict:
    if not is_secure_transport(url):
        raise ExternalSignInFailed("insecure_url", _UNAVAILABLE)
    try:
        response = requests.get(url, timeout=current_app.config["OIDC_TIMEOUT_SECONDS"])
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise ExternalSignInFailed("provider_unreachable", _UNAVAILABLE) from None
    if not isinstance(document, dict):
        raise ExternalSignInFailed("provider_unreachable", _UNAVAILABLE)
    return document


def metadata(provider: Provider) -> dict:
    """Return the provider's discovery document (its endpoints and issuer)."""
    with _lock:
        cached = _metadata.get(provider.issuer)
    if cached and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    document = _get_json(provider.issuer + "/.well-known/openid-configuration")
    expected = provider.issuer
    if provider.multi_tenant:
        expected = f"https://login.microsoftonline.com/{TENANT_PLACEHOLDER}/v2.0"
    if document.get("issuer", "").rstrip("/") != expected.rstrip("/") or not all(
            isinstance(document.get(k), str) for k in
            ("authorization_endpoint", "token_endpoint", "jwks_uri")):
        raise ExternalSignInFailed("bad_discovery", _UNAVAILABLE)
    with _lock:
        _metadata[provider.issuer] = (time.monotonic(), document)
    return document


def _key_set(jwks_uri: str, refresh: bool) -> KeySet:
    with _lock:
        keys = _key_sets.get(jwks_uri)
    if keys is None or refresh:
        try:
            keys = KeySet.import_key_set(_get_json(jwks_uri))
        except JoseError:
            raise ExternalSignInFailed("bad_jwks", _UNAVAILABLE) from None
        with _lock:
            _key_sets[jwks_uri] = keys
    return keys


def forget_cached_documents() -> None:
    """Drop cached discovery documents and keys (tests, and a provider that moved)."""
    with _lock:
        _metadata.clear()
        _key_sets.clear()


# --- The flow --------------------------------------------------------------------------------

def _client(provider: Provider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        provider.client_id, provider.client_secret, scope=provider.scopes,
        redirect_uri=redirect_uri, code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def authorization_request(provider: Provider, redirect_uri: str) -> tuple[str, dict]:
    """Return where to send the person, and what to keep in their session for the answer."""
    pending = {
        "provider": provider.name,
        "state": generate_token(40),
        "nonce": generate_token(40),
        "code_verifier": generate_token(64),
    }
    extra = {}
    if provider.is_entra:
        extra["prompt"] = "select_account"
    with _client(provider, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            metadata(provider)["authorization_endpoint"], state=pending["state"],
            code_verifier=pending["code_verifier"], nonce=pending["nonce"], **extra)
    return url, pending


CANCELLED = ("You did not finish signing in with your organisation’s account. You can try again, "
             "or sign in with your e-mail address and password if you have one.")
TRY_AGAIN = ("Signing in with your organisation’s account did not work. Start again from the "
             "sign-in page.")


def finish_authorization(provider: Provider, pending: dict | None, answer: dict[str, str],
                         redirect_uri: str) -> dict[str, Any]:
    """Check the provider's answer against what this session started, exchange the code and
    return the ID token's verified claims."""
    if (not pending or pending.get("provider") != provider.name
            or not answer.get("state") or answer.get("state") != pending.get("state")):
        # No sign-in was started here, or this answer was already used (a replay).
        raise ExternalSignInFailed("state_mismatch", TRY_AGAIN)
    if answer.get("iss") and not provider.multi_tenant and answer["iss"] != provider.issuer:
        # RFC 9207: the answer names who sent it; another provider's answer is a mix-up attack.
        raise ExternalSignInFailed("wrong_issuer", TRY_AGAIN)
    if answer.get("error"):
        reason = "cancelled" if answer["error"] == "access_denied" else "provider_error"
        raise ExternalSignInFailed(reason, CANCELLED if reason == "cancelled" else TRY_AGAIN)
    if not answer.get("code"):
        raise ExternalSignInFailed("no_code", TRY_AGAIN)
    token = exchange_code(provider, redirect_uri, answer["code"], pending["code_verifier"])
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise ExternalSignInFailed("no_id_token", TRY_AGAIN)
    return verify_id_token(provider, id_token, pending["nonce"])


def exchange_code(provider: Provider, redirect_uri: str, code: str, code_verifier: str) -> dict:
    """Swap the authorization code (with the PKCE verifier) for the provider's tokens."""
    try:
        with _client(provider, redirect_uri) as client:
            return dict(client.fetch_token(
                metadata(provider)["token_endpoint"], grant_type="authorization_code",
                code=code, code_verifier=code_verifier,
                timeout=current_app.config["OIDC_TIMEOUT_SECONDS"]))
    except requests.RequestException:
        raise ExternalSignInFailed("provider_unreachable", _UNAVAILABLE) from None
    except AuthlibBaseError:  # the provider refused the code: used already, expired, or not ours
        raise ExternalSignInFailed("code_refused", TRY_AGAIN) from None


def verify_id_token(provider: Provider, id_token: str, nonce: str) -> dict[str, Any]:
    """Return the ID token's claims once its signature, issuer, audience, times and nonce hold."""
    document = metadata(provider)
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in offered if a in SIGNING_ALGORITHMS]
    try:
        try:
            token = jwt.decode(id_token, _key_set(document["jwks_uri"], refresh=False),
                               algorithms=algorithms)
        except InvalidKeyIdError:
            # A key we have not seen: the provider may have rotated its keys. Read them again.
            log.info("Reading a sign-in service's keys again: provider=%s", provider.name)
            token = jwt.decode(id_token, _key_set(document["jwks_uri"], refresh=True),
                               algorithms=algorithms)
    except (BadSignatureError, InvalidKeyIdError):
        raise ExternalSignInFailed("bad_signature", TRY_AGAIN) from None
    except (JoseError, ValueError):
        raise ExternalSignInFailed("malformed_token", TRY_AGAIN) from None
    claims = token.claims
    issuer = provider.issuer
    if provider.multi_tenant:
        tenant = str(claims.get("tid", "")).lower()
        if tenant not in provider.tenant_ids:
            raise ExternalSignInFailed(
                "unknown_tenant",
                "Your organisation’s Microsoft 365 is not one this service accepts. Sign in with "
                "your e-mail address and password, or ask the L&D team.")
        issuer = document["issuer"].replace(TENANT_PLACEHOLDER, tenant)
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise ExternalSignInFailed("expired_token", TRY_AGAIN) from None
    except (InvalidClaimError, MissingClaimError) as exc:
        raise ExternalSignInFailed(f"bad_{exc.claim}", TRY_AGAIN) from None
    except JoseError:
        raise ExternalSignInFailed("bad_claims", TRY_AGAIN) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise ExternalSignInFailed("bad_azp", TRY_AGAIN)
    return claims
