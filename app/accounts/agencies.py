"""Sectors and agencies, with the e-mail domains that show someone works for an agency: kept as
data by the L&D team."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.accounts.errors import AccountError
from app.accounts.models import Agency, AgencyDomain, Sector, User
from app.accounts.queries import people_in_agency
from app.extensions import db


# Free webmail: anyone can have an address there, so it can never show that someone works for
# an agency, and accepting it as an agency domain would let anyone skip the approval check.
PUBLIC_MAIL_DOMAINS = {
    "aol.com", "btinternet.com", "gmail.com", "googlemail.com", "hotmail.co.uk", "hotmail.com",
    "icloud.com", "live.co.uk", "live.com", "me.com", "msn.com", "outlook.com", "protonmail.com",
    "proton.me", "sky.com", "talktalk.net", "virginmedia.com", "yahoo.co.uk", "yahoo.com",
}


_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def parse_domains(text: str) -> list[str]:
    """Read e-mail domains from a comma-, space- or line-separated list; refuse malformed ones."""
    domains: list[str] = []
    for raw in re.split(r"[\s,;]+", text or ""):
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        labels = domain.split(".")
        if (len(domain) > 253 or len(labels) < 2 or not labels[-1][:1].isalpha()
                or not all(_DOMAIN_LABEL.match(label) for label in labels)):
            raise AccountError(
                f"‘{raw.strip()}’ is not an e-mail domain. Enter domains like nhs.net or "
                "northbridge.gov.uk, separated by commas or on separate lines.",
                "domains",
            )
        if domain in PUBLIC_MAIL_DOMAINS:
            raise AccountError(
                f"{domain} is a public e-mail service that anyone can use, so it cannot "
                "identify an agency’s staff.",
                "domains",
            )
        if domain not in domains:
            domains.append(domain)
    return domains


def _clean_name(name: str, what: str, max_length: int) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise AccountError(f"Enter the {what}’s name", "name")
    if len(cleaned) > max_length:
        raise AccountError(f"The {what}’s name must be {max_length} characters or fewer", "name")
    return cleaned


def _references(table_name: str, row_id: int, ignore: tuple[str, ...] = ()) -> int:
    """Count rows in any table that point at a row, so a used row is never deleted."""
    total = 0
    for table in db.metadata.sorted_tables:
        if table.name in ignore:
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name:
                total += db.session.scalar(
                    select(func.count()).select_from(table).where(fk.parent == row_id)
                )
    return total


def _check_sector_name(name: str, sector: Sector | None) -> str:
    cleaned = _clean_name(name, "sector", 120)
    clash = db.session.scalar(
        select(Sector).where(func.lower(Sector.name) == cleaned.lower())
    )
    if clash is not None and clash is not sector:
        raise AccountError(f"There is already a sector called ‘{clash.name}’", "name")
    return cleaned


def create_sector(name: str, actor: User) -> Sector:
    """Add a sector at the end of the list."""
    cleaned = _check_sector_name(name, None)
    last = db.session.scalar(select(func.max(Sector.position))) or 0
    sector = Sector(name=cleaned, position=last + 1, active=True)
    db.session.add(sector)
    db.session.flush()
    return sector


def update_sector(sector: Sector, name: str, active: bool, actor: User) -> Sector:
    """Rename a sector or change whether new agencies can be put in it."""
    sector.name = _check_sector_name(name, sector)
    sector.active = active
    db.session.flush()
    return sector


def delete_sector(sector: Sector, actor: User) -> None:
    """Remove a sector nothing refers to; one in use must be deactivated instead."""
    if _references("sectors", sector.id):
        raise AccountError(
            f"‘{sector.name}’ has agencies or other records in it, so it cannot be deleted. "
            "Deactivate it instead."
        )
    db.session.delete(sector)
    db.session.flush()


def _check_agency(agency: Agency | None, name: str, sector: Sector | None,
                  domains_text: str) -> tuple[str, list[str]]:
    cleaned = _clean_name(name, "agency", 200)
    clash = db.session.scalar(select(Agency).where(func.lower(Agency.name) == cleaned.lower()))
    if clash is not None and clash is not agency:
        raise AccountError(f"There is already an agency called ‘{clash.name}’", "name")
    if sector is None:
        raise AccountError("Choose the agency’s sector", "sector_id")
    if not sector.active and (agency is None or agency.sector_id != sector.id):
        raise AccountError(f"The sector ‘{sector.name}’ is no longer in use. Choose another.",
                           "sector_id")
    domains = parse_domains(domains_text)
    if domains:
        taken = db.session.execute(
            select(AgencyDomain.domain, Agency.name)
            .join(Agency, AgencyDomain.agency_id == Agency.id)
            .where(AgencyDomain.domain.in_(domains))
            .where(AgencyDomain.agency_id != (agency.id if agency else -1))
            .order_by(AgencyDomain.domain)
        ).first()
        if taken is not None:
            raise AccountError(
                f"{taken.domain} already belongs to {taken.name}. A domain can belong to "
                "one agency only.",
                "domains",
            )
    return cleaned, domains


def _set_domains(agency: Agency, domains: list[str]) -> None:
    # Keep rows whose domain stays: deleting and re-adding one would clash on its unique index.
    for row in list(agency.domains):
        if row.domain not in domains:
            agency.domains.remove(row)
    kept = {row.domain for row in agency.domains}
    for domain in domains:
        if domain not in kept:
            agency.domains.append(AgencyDomain(domain=domain))


def create_agency(name: str, sector: Sector | None, domains: str, actor: User) -> Agency:
    """Add an agency people can register with."""
    cleaned, domain_list = _check_agency(None, name, sector, domains)
    agency = Agency(name=cleaned, sector=sector, active=True)
    _set_domains(agency, domain_list)
    db.session.add(agency)
    db.session.flush()
    return agency


def update_agency(agency: Agency, name: str, sector: Sector | None, domains: str,
                  active: bool, actor: User) -> Agency:
    """Change an agency's name, sector, e-mail domains or whether people can choose it."""
    cleaned, domain_list = _check_agency(agency, name, sector, domains)
    agency.name = cleaned
    agency.sector = sector
    agency.active = active
    _set_domains(agency, domain_list)
    db.session.flush()
    return agency


def delete_agency(agency: Agency, actor: User) -> None:
    """Remove an agency nobody belongs to; one in use must be deactivated instead."""
    people = people_in_agency(agency)
    if people:
        raise AccountError(
            f"{people} {'person belongs' if people == 1 else 'people belong'} to "
            f"‘{agency.name}’, so it cannot be deleted. Deactivate it instead: their records "
            "keep it, and nobody new can choose it."
        )
    if _references("agencies", agency.id, ignore=("agency_domains",)):
        raise AccountError(
            f"‘{agency.name}’ is used by bookings, roles or other records, so it cannot be "
            "deleted. Deactivate it instead."
        )
    db.session.delete(agency)
    db.session.flush()
