"""The trainer pool: commissioned providers, each trainer's profile, and when they cannot train.

A trainer is a person with the trainer role; their profile says whether they are internal or from
a provider, which courses they can deliver and on which weekdays they usually train, with dated
unavailability (leave, other work). Scheduling warns from these (app/courses/clashes.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.accounts.addresses import normalise_email
from app.accounts.errors import AccountError
from app.accounts.models import TRAINER, User
from app.clock import utcnow
from app.courses.models import Course, Provider, TrainerProfile, TrainerUnavailability
from app.courses.problems import CourseError, Problems, clean, saved
from app.courses.queries import provider_named, trainer_profile_of
from app.extensions import db


@dataclass
class ProviderDetails:
    name: str
    contact_name: str = ""
    email: str = ""
    phone: str = ""
    contract_reference: str = ""
    contract_starts_on: date | None = None
    contract_ends_on: date | None = None
    active: bool = True


@dataclass
class TrainerDetails:
    provider: Provider | None = None  # None: internal
    courses: list[Course] = field(default_factory=list)
    working_days: str = "01234"
    notes: str = ""


def create_provider(details: ProviderDetails, actor: User) -> Provider:
    """Add a provider commissioned to deliver training, with its contact and contract."""
    provider = Provider()
    _apply_provider(provider, details)
    return saved(provider, new=True)


def update_provider(provider: Provider, details: ProviderDetails, actor: User) -> Provider:
    """Change a provider's contact or contract."""
    _apply_provider(provider, details)
    return saved(provider)


def _apply_provider(provider: Provider, details: ProviderDetails) -> None:
    name, email = clean(details.name), clean(details.email)
    problems = Problems()
    if not name:
        problems.add("name", "Enter the organisation’s name")
    elif len(name) > 200:
        problems.add("name", "The name must be 200 characters or fewer")
    elif provider_named(name, other_than=provider.id):
        problems.add("name", f"There is already a provider called {name}")
    if email:
        try:
            normalise_email(email)  # the form every address here is checked by; stored as typed
        except AccountError as refusal:
            problems.add("email", refusal.message)
    if len(clean(details.phone)) > 50:
        problems.add("phone", "The phone number must be 50 characters or fewer")
    if len(clean(details.contact_name)) > 200:
        problems.add("contact_name", "The contact name must be 200 characters or fewer")
    if len(clean(details.contract_reference)) > 100:
        problems.add("contract_reference", "The contract reference must be 100 characters or fewer")
    if details.contract_starts_on and details.contract_ends_on and details.contract_ends_on < details.contract_starts_on:
        problems.add("contract_ends_on", "The contract must end on or after the day it starts")
    problems.raise_any()
    provider.name = name
    provider.contact_name = clean(details.contact_name)
    provider.email = email
    provider.phone = clean(details.phone)
    provider.contract_reference = clean(details.contract_reference)
    provider.contract_starts_on = details.contract_starts_on
    provider.contract_ends_on = details.contract_ends_on
    provider.active = details.active


def save_trainer_profile(person: User, details: TrainerDetails, actor: User) -> TrainerProfile:
    """Set a trainer's profile: internal or from a provider, the courses and the weekdays."""
    problems = Problems()
    if not person.has_role(TRAINER):
        problems.add(None, f"{person.name} does not have the trainer role: give it on their account first")
    days = "".join(sorted(set(details.working_days)))
    if not days:
        problems.add("working_days", "Choose at least one day they usually train")
    elif any(d not in "0123456" for d in days):
        problems.add("working_days", "Choose days of the week from the list")
    if len(clean(details.notes)) > 2000:
        problems.add("notes", "The notes must be 2000 characters or fewer")
    profile = trainer_profile_of(person.id)
    current_provider = profile.provider_id if profile is not None else None
    if details.provider is not None and not details.provider.active and details.provider.id != current_provider:
        problems.add("provider_id", f"{details.provider.name} is not commissioned now: choose another provider")
    problems.raise_any()
    if profile is None:
        profile = TrainerProfile(user=person)
        db.session.add(profile)
    profile.provider = details.provider
    profile.courses = list(details.courses)
    profile.working_days = days
    profile.notes = clean(details.notes)
    profile.updated_at = utcnow()
    return saved(profile)


def add_unavailability(person: User, starts_on: date | None, ends_on: date | None, reason: str,
                       actor: User) -> TrainerUnavailability:
    """Record days a trainer cannot train (first and last day inclusive)."""
    problems = Problems()
    if starts_on is None:
        problems.add("starts_on", "Enter the first day they are unavailable")
    if ends_on is None:
        problems.add("ends_on", "Enter the last day they are unavailable")
    if starts_on and ends_on and ends_on < starts_on:
        problems.add("ends_on", "The last day must be on or after the first day")
    if len(clean(reason)) > 200:
        problems.add("reason", "The reason must be 200 characters or fewer")
    profile = trainer_profile_of(person.id)
    if profile is None:
        problems.add(None, "Save the trainer’s profile before adding dates they are unavailable")
    problems.raise_any()
    away = TrainerUnavailability(starts_on=starts_on, ends_on=ends_on, reason=clean(reason))
    profile.unavailability.append(away)
    return saved(away)


def remove_unavailability(away: TrainerUnavailability, actor: User) -> None:
    """Remove dates a trainer was unavailable (entered by mistake, or plans changed)."""
    if away is None:
        raise CourseError("Those dates have already been removed")
    db.session.delete(away)
    db.session.flush()
