"""E-mail addresses: their form, shared mailboxes, and whether one is on an agency's domains."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from app.accounts.errors import AccountError
from app.accounts.models import Agency


# Local parts of shared or role mailboxes: everyone books with their own account.
GENERIC_LOCAL_PARTS = {
    "admin", "administrator", "accounts", "all", "bookings", "contact", "enquiries", "enquiry",
    "everyone", "finance", "general", "hello", "help", "hr", "info", "information", "mail",
    "mailbox", "noreply", "no-reply", "office", "postmaster", "reception", "safeguarding",
    "sales", "schooloffice", "staff", "support", "team", "training", "webmaster",
}


def normalise_email(address: str, field: str = "email") -> str:
    """Return the address lower-cased and checked for form (no DNS look-up)."""
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AccountError(
            "Enter an e-mail address in the correct format, like name@example.org", field
        ) from exc
    return result.normalized.lower()


def check_not_generic(address: str) -> None:
    """Refuse shared or role mailboxes, which cannot identify one person."""
    local = address.split("@", 1)[0].lower()
    if local in GENERIC_LOCAL_PARTS or local.split("+", 1)[0] in GENERIC_LOCAL_PARTS:
        raise AccountError(
            f"‘{local}@’ looks like a shared mailbox. Use your own work e-mail address: "
            "bookings, certificates and evaluations are personal.",
            "email",
        )


def email_matches_agency(address: str, agency: Agency) -> bool:
    """True when the agency has no domains or the address is on one of them (or a subdomain)."""
    if not agency.domains:
        return True
    domain = address.rsplit("@", 1)[1]
    return any(domain == d.domain or domain.endswith("." + d.domain) for d in agency.domains)
