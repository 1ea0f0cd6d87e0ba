"""The reads behind the accounts pages: people, their history, sectors and agencies."""
from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import (
    GRANTABLE_ROLES,
    STATUS_LABELS,
    AccountEvent,
    Agency,
    AgencyDomain,
    ExternalIdentity,
    RoleGrant,
    Sector,
    User,
)
from app.extensions import db


def user_for_session(session_token: str) -> User | None:
    """The person a session (or remember-me cookie) belongs to, if it still works."""
    return db.session.scalar(select(User).where(User.session_token == session_token))


def active_agencies() -> list[Agency]:
    """The agencies people can choose, by name."""
    return list(db.session.scalars(
        select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)
    ))


def all_agencies() -> list[Agency]:
    """Every agency, active or not, by name."""
    return list(db.session.scalars(select(Agency).order_by(Agency.name)))


def agencies_with_domains() -> list[Agency]:
    """Every agency by name, with its sector and e-mail domains loaded."""
    return list(db.session.scalars(
        select(Agency)
        .options(joinedload(Agency.sector), selectinload(Agency.domains))
        .order_by(Agency.name)
    ))


def agency_owning_domain(domain: str) -> Agency | None:
    """The agency whose e-mail domains include this domain (or a domain it is a subdomain of)."""
    labels = domain.lower().split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    rows = db.session.execute(
        select(AgencyDomain.domain, Agency).join(Agency, AgencyDomain.agency_id == Agency.id)
        .where(AgencyDomain.domain.in_(candidates))
    ).all()
    # The longest (most particular) domain wins: a school's own domain over its council's.
    return max(rows, key=lambda row: len(row.domain)).Agency if rows else None


def agency_named(name: str) -> Agency | None:
    """The agency with this name, ignoring case."""
    return db.session.scalar(select(Agency).where(func.lower(Agency.name) == name.strip().lower()))


def external_identity(issuer: str, subject: str) -> ExternalIdentity | None:
    """The link from a provider's account (issuer and subject) to a person here, if any."""
    return db.session.scalar(select(ExternalIdentity).where(
        ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject))


def external_identities(person: User) -> list[ExternalIdentity]:
    """The provider accounts linked to a person, oldest first."""
    return list(db.session.scalars(select(ExternalIdentity).where(
        ExternalIdentity.user_id == person.id).order_by(ExternalIdentity.id)))


def sectors() -> list[Sector]:
    """Every sector in the order the L&D team set."""
    return list(db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)))


def agency_counts_by_sector() -> dict[int, int]:
    """How many agencies each sector has."""
    return dict(
        db.session.execute(select(Agency.sector_id, func.count()).group_by(Agency.sector_id)).all()
    )


def people_counts_by_agency() -> dict[int, int]:
    """How many people belong to each agency."""
    return dict(db.session.execute(
        select(User.agency_id, func.count()).where(User.agency_id.is_not(None))
        .group_by(User.agency_id)
    ).all())


def people_in_agency(agency: Agency) -> int:
    """How many people belong to an agency."""
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.agency_id == agency.id)
    )


def people_query(text: str = "", agency_id: int | None = None, status: str = "",
                 role: str = "") -> Select:
    """Build the search for people by name, e-mail or agency, with what each row shows loaded."""
    query = (
        select(User)
        .outerjoin(Agency, User.agency_id == Agency.id)
        .options(joinedload(User.agency).joinedload(Agency.sector),
                 selectinload(User.role_grants))
        .order_by(func.lower(User.name), User.id)
    )
    words = (text or "").split()
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(
            User.name.ilike(pattern, escape="\\"),
            User.email.ilike(pattern, escape="\\"),
            Agency.name.ilike(pattern, escape="\\"),
        ))
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    if status in STATUS_LABELS:
        query = query.where(User.status == status)
    if role in GRANTABLE_ROLES:
        query = query.where(User.role_grants.any(RoleGrant.role == role))
    return query


def person_with_roles(person_id: int) -> User | None:
    """A person with their agency, sector and roles loaded, for their page."""
    return db.session.scalar(
        select(User).where(User.id == person_id)
        .options(joinedload(User.agency).joinedload(Agency.sector),
                 selectinload(User.role_grants).joinedload(RoleGrant.agency))
    )


def account_history(person: User) -> list[AccountEvent]:
    """Everything that happened to an account, newest first, with who did it."""
    return list(db.session.scalars(
        select(AccountEvent).where(AccountEvent.user_id == person.id)
        .options(joinedload(AccountEvent.actor))
        .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
    ))


def detail_changes(person: User) -> list[AccountEvent]:
    """The changes to a person's details, newest first, for them to see."""
    return list(db.session.scalars(
        select(AccountEvent)
        .where(AccountEvent.user_id == person.id, AccountEvent.field.is_not(None))
        .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
    ))
