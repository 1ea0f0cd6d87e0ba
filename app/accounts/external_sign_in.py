"""Signing in with an agency's own account (an identity provider in OIDC_PROVIDERS): linking the
provider's account to a person here, or creating one, and the agencies that must sign in that way.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.accounts.addresses import check_not_generic, email_matches_agency, normalise_email
from app.accounts.errors import AccountError
from app.accounts.history import record_event
from app.accounts.identity_providers import ExternalSignInFailed, Provider, provider_named
from app.accounts.models import (
    ACTIVE,
    DEACTIVATED,
    ERASED,
    PENDING_APPROVAL,
    REFUSED,
    Agency,
    ExternalIdentity,
    User,
    find_user_by_email,
)
from app.accounts.queries import agency_named, agency_owning_domain, external_identities, \
    external_identity
from app.clock import utcnow
from app.extensions import db


@dataclass(frozen=True)
class ExternalSignIn:
    """Who signed in, whether their account was made just now, and whether it waits for the
    L&D team's approval (then they are not signed in)."""

    person: User
    created: bool
    held: bool


UNVERIFIED = ("Your organisation’s account did not confirm your e-mail address, so we cannot use "
              "it to sign you in. Sign in with your e-mail address and password, or ask your IT "
              "team to send a verified address.")


def verified_email(provider: Provider, claims: dict) -> str:
    """Return the e-mail address in the claims if the provider vouches for it.

    `email_verified` true is enough everywhere. Entra ID leaves that claim out, so for it the
    optional claim `xms_edov` (the domain is verified in the tenant) counts, and so does an address
    on the domains of the agency whose own tenant (tenant_ids) signed the person in: that tenant
    is run by the agency, which is who vouches for those addresses in registration too.
    """
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw.strip():
        raise ExternalSignInFailed("no_email", UNVERIFIED)
    try:
        address = normalise_email(raw)
    except AccountError:
        raise ExternalSignInFailed("bad_email", UNVERIFIED) from None
    if claims.get("email_verified") is True:
        return address
    if provider.is_entra:
        if claims.get("xms_edov") in (True, 1, "1", "true"):
            return address
        tenant_agency = _tenant_agency(provider, claims)
        if tenant_agency is not None and tenant_agency.domains and email_matches_agency(
                address, tenant_agency):
            return address
    raise ExternalSignInFailed("unverified_email", UNVERIFIED)


def _tenant_agency(provider: Provider, claims: dict) -> Agency | None:
    name = provider.tenant_ids.get(str(claims.get("tid", "")).lower())
    return agency_named(name) if name else None


def _domain_served(provider: Provider, domain: str) -> bool:
    return not provider.domains or any(
        domain == d or domain.endswith("." + d) for d in provider.domains)


def _check_agency(provider: Provider, agency: Agency | None, claims: dict) -> None:
    """Refuse a person whose agency this provider (or this Entra tenant) does not serve."""
    if provider.agencies and (agency is None or agency.name.lower() not in
                              {a.lower() for a in provider.agencies}):
        raise ExternalSignInFailed(
            "agency_not_served",
            f"{provider.display_name} is not how your agency signs in here. Use your e-mail "
            "address and password, or the button for your agency’s service.")
    if provider.tenant_ids:
        tenant_agency = _tenant_agency(provider, claims)
        if tenant_agency is None or agency is None or tenant_agency.id != agency.id:
            raise ExternalSignInFailed(
                "tenant_mismatch",
                "The organisation you signed in with is not the agency your account belongs "
                "to. Sign in with your agency’s own account, or ask the L&D team.")
    required = agency.sign_in_provider if agency is not None else None
    if required and required != provider.name and provider_named(required) is not None:
        raise ExternalSignInFailed(
            "wrong_provider",
            f"{agency.name} signs in with {provider_named(required).display_name}. "
            "Use that button on the sign-in page.")


def _check_can_sign_in(person: User) -> None:
    if person.status in (DEACTIVATED, ERASED, REFUSED):
        raise ExternalSignInFailed(
            "account_closed", "This account has been closed. Contact the L&D team if you need it.")
    if person.status == PENDING_APPROVAL:
        raise ExternalSignInFailed(
            "account_pending",
            "Your account is waiting for the L&D team to approve it. We will e-mail you when "
            "it is approved.")
    if person.status != ACTIVE:
        raise ExternalSignInFailed(
            "account_closed", "This account cannot sign in. Contact the L&D team.")


def _name_from(claims: dict, address: str) -> str:
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    name = " ".join((name or "").split())[:200]
    return name or address.split("@", 1)[0]


def sign_in_with_provider(provider: Provider, claims: dict) -> ExternalSignIn:
    """Find or make the account for a provider's verified claims, and link the two.

    The link (issuer, subject) is used first; otherwise the account with the same verified
    address is linked; otherwise a new account is made in the agency that owns the address's
    domain, or, for a domain no agency owns, held for approval in the one agency this provider
    (or the person's Entra tenant) serves, as registration holds one outside an agency's domains.
    """
    now = utcnow()
    issuer, subject = claims["iss"], claims["sub"]
    link = external_identity(issuer, subject)
    address = verified_email(provider, claims)
    domain = address.rsplit("@", 1)[1]
    if not _domain_served(provider, domain):
        raise ExternalSignInFailed(
            "domain_not_served",
            f"{provider.display_name} does not sign in addresses at {domain} here. Sign in with "
            "your e-mail address and password.")
    person = db.session.get(User, link.user_id) if link else find_user_by_email(address)
    if person is not None:
        _check_agency(provider, person.agency, claims)
        _check_can_sign_in(person)
        if link is None:
            if any(i.issuer == issuer for i in external_identities(person)):
                raise ExternalSignInFailed(
                    "linked_elsewhere",
                    "Your account here is already linked to a different account at "
                    f"{provider.display_name}. Ask the L&D team to help.")
            link = ExternalIdentity(user_id=person.id, provider=provider.name, issuer=issuer,
                                    subject=subject, linked_at=now)
            db.session.add(link)
            record_event(person, person, "linked to sign-in service", provider.display_name)
            if person.email_verified_at is None:
                person.email_verified_at = now
                record_event(person, person, "verified", f"By {provider.display_name}")
        link.last_used_at = now
        person.last_sign_in_at = now
        return ExternalSignIn(person, created=False, held=False)
    return _create_person(provider, claims, address, now)


def _create_person(provider: Provider, claims: dict, address: str, now) -> ExternalSignIn:
    try:
        check_not_generic(address)
    except AccountError as exc:
        raise ExternalSignInFailed("generic_mailbox", exc.message) from None
    agency = agency_owning_domain(address.rsplit("@", 1)[1])
    held = False
    if agency is None:
        held = True
        agency = _tenant_agency(provider, claims)
        if agency is None and len(provider.agencies) == 1:
            agency = agency_named(provider.agencies[0])
    if agency is None or not agency.active:
        raise ExternalSignInFailed(
            "unknown_domain",
            f"No partner agency uses e-mail addresses at {address.rsplit('@', 1)[1]}, so we "
            "cannot tell which agency you work for. Create an account with your e-mail address "
            "and a password instead: you can choose your agency there.")
    _check_agency(provider, agency, claims)
    person = User(
        name=_name_from(claims, address), email=address, job_title="", agency=agency,
        status=PENDING_APPROVAL if held else ACTIVE, email_verified_at=now,
        last_sign_in_at=None if held else now,
    )
    db.session.add(person)
    db.session.flush()
    db.session.add(ExternalIdentity(user_id=person.id, provider=provider.name,
                                    issuer=claims["iss"], subject=claims["sub"], linked_at=now,
                                    last_used_at=now))
    record_event(person, None, "registered",
                 f"Agency: {agency.name}. Through {provider.display_name}")
    if held:
        record_event(person, None, "held", "E-mail address outside the agency's domains")
    return ExternalSignIn(person, created=True, held=held)


def required_provider(person: User) -> Provider | None:
    """The provider the person's agency requires for signing in, if any (and still configured)."""
    if person.agency is None or not person.agency.sign_in_provider:
        return None
    return provider_named(person.agency.sign_in_provider)


def set_required_provider(agency: Agency, provider_name: str, actor: User) -> None:
    """Make an agency's staff sign in with a provider (or, with "", let them use passwords)."""
    if provider_name and provider_named(provider_name) is None:
        raise AccountError("Choose one of the sign-in services in the list",
                           "sign_in_provider")
    agency.sign_in_provider = provider_name or None
