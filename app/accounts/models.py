"""People, agencies, sectors and the roles people hold."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.passwords import hash_password, password_matches
from app.clock import utcnow
from app.extensions import db

# Roles a person can be granted; everyone is a learner.
LEARNER = "learner"
COORDINATOR = "coordinator"
TRAINER = "trainer"
ADMIN = "admin"
REVIEWER = "reviewer"
GRANTABLE_ROLES = (COORDINATOR, TRAINER, ADMIN, REVIEWER)
ROLE_LABELS = {
    LEARNER: "Learner",
    COORDINATOR: "Agency coordinator",
    TRAINER: "Trainer",
    ADMIN: "Administrator (L&D team)",
    REVIEWER: "Reviewer (L&D sub-group)",
}

# Account states.
PENDING_APPROVAL = "pending_approval"
ACTIVE = "active"
DEACTIVATED = "deactivated"
REFUSED = "refused"
ERASED = "erased"  # identity removed (app/privacy/erasure.py); the row keeps reports' counts true
STATUS_LABELS = {
    ACTIVE: "Active",
    PENDING_APPROVAL: "Waiting for approval",
    DEACTIVATED: "Deactivated",
    REFUSED: "Refused",
    ERASED: "Erased",
}


def new_session_token() -> str:
    """Return a fresh, unguessable session token."""
    return secrets.token_urlsafe(32)


class Sector(db.Model):
    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    agencies: Mapped[list[Agency]] = relationship(back_populates="sector")

    def __repr__(self) -> str:
        return f"<Sector {self.name}>"


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    sector_id: Mapped[int] = mapped_column(ForeignKey("sectors.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # The identity provider (its name in OIDC_PROVIDERS) the agency's staff must sign in with;
    # None lets them use a password (app/accounts/external_sign_in.py).
    sign_in_provider: Mapped[str | None] = mapped_column(String(50))

    sector: Mapped[Sector] = relationship(back_populates="agencies")
    domains: Mapped[list[AgencyDomain]] = relationship(
        back_populates="agency", cascade="all, delete-orphan", order_by="AgencyDomain.domain"
    )

    @property
    def domain_names(self) -> list[str]:
        return [d.domain for d in self.domains]

    def __repr__(self) -> str:
        return f"<Agency {self.name}>"


class AgencyDomain(db.Model):
    """An e-mail domain by which an agency's staff are recognised."""

    __tablename__ = "agency_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)

    agency: Mapped[Agency] = relationship(back_populates="domains")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    line_manager_name: Mapped[str] = mapped_column(String(200), default="")
    line_manager_email: Mapped[str] = mapped_column(String(255), default="")
    access_needs: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    email_verified_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    # When the person was told their unused account will be closed (app/privacy/jobs.py).
    dormant_warned_at: Mapped[datetime | None]
    # Secret for the personal calendar feed; reset by the person.
    calendar_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    # What the session and remember-me cookies carry (Flask-Login's get_id), instead of the row's
    # id: a new value ends every session signed in with the old one (sign-out, new password).
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", foreign_keys="RoleGrant.user_id"
    )

    def set_password(self, password: str) -> None:
        """Store a hash of the password (the policy is the services' to check)."""
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    def get_id(self) -> str:  # Flask-Login: what the cookies carry
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated people cannot stay signed in
        return self.status == ACTIVE

    @property
    def is_erased(self) -> bool:
        return self.status == ERASED

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def roles(self) -> set[str]:
        return {LEARNER} | {g.role for g in self.role_grants}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def coordinated_agency_ids(self) -> set[int]:
        return {g.agency_id for g in self.role_grants if g.role == COORDINATOR and g.agency_id}

    @property
    def sector(self) -> Sector | None:
        return self.agency.sector if self.agency else None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class RoleGrant(db.Model):
    """A role held by a person; coordinators hold it for one agency."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="role_grants", foreign_keys=[user_id])
    agency: Mapped[Agency | None] = relationship()


# The details a change of which is recorded field by field, with what they were and became.
DETAIL_LABELS = {
    "name": "Name",
    "email": "E-mail address",
    "job_title": "Job title",
    "agency": "Agency",
    "line_manager_name": "Line manager’s name",
    "line_manager_email": "Line manager’s e-mail address",
}


class AccountEvent(db.Model):
    """One thing that happened to an account: who did it, when and what.

    A change to one of the person's details (DETAIL_LABELS) names the field and keeps the value
    before and after, so the history shows what it was as well as what it became.
    """

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[str] = mapped_column(Text, default="")
    field: Mapped[str | None] = mapped_column(String(50))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def field_label(self) -> str:
        return DETAIL_LABELS.get(self.field or "", self.field or "")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


def find_user_by_email(email: str) -> User | None:
    """Return the account for an address, ignoring case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


class SignInFailure(db.Model):
    """One failed sign-in, kept for a day to slow down guessing from one client.

    The address is kept only as a keyed hash and is counted whether or not an account uses it, so
    these rows neither hold addresses nor show who has an account.
    """

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ExternalIdentity(db.Model):
    """An account at an identity provider that signs a person in here: the provider's issuer and
    its subject (the provider's lasting id for the person), linked at their first sign-in."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(50))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
