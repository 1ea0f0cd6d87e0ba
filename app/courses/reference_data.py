"""The programme's reference lists: levels, themes (topic tags) and venues."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.accounts.models import User
from app.courses.models import Course, Level, Theme, Venue
from app.courses.problems import CourseError, Problems, clean, saved
from app.extensions import db


def create_level(name: str, intercollegiate_level: str, actor: User, position: int | None = None) -> Level:
    """Add one of the partnership's levels, mapped to an Intercollegiate level."""
    level = Level()
    _apply_level(level, name, intercollegiate_level, position)
    return saved(level, new=True)


def update_level(level: Level, name: str, intercollegiate_level: str, actor: User,
                 position: int | None = None) -> Level:
    """Rename a level or change the Intercollegiate level it maps to."""
    _apply_level(level, name, intercollegiate_level, position)
    return saved(level)


def _apply_level(level: Level, name: str, intercollegiate_level: str, position: int | None) -> None:
    name = clean(name)
    problems = Problems()
    if not name:
        problems.add("name", "Enter the level’s name")
    elif len(name) > 100:
        problems.add("name", "The name must be 100 characters or fewer")
    elif db.session.scalar(select(Level.id).where(func.lower(Level.name) == name.lower(),
                                                  Level.id != (level.id or 0))):
        problems.add("name", f"There is already a level called {name}")
    if len(clean(intercollegiate_level)) > 100:
        problems.add("intercollegiate_level", "The Intercollegiate level must be 100 characters or fewer")
    problems.raise_any()
    level.name = name
    level.intercollegiate_level = clean(intercollegiate_level)
    if position is None and level.position is None:
        position = (db.session.scalar(select(func.max(Level.position))) or 0) + 1
    if position is not None:
        level.position = position


def create_theme(name: str, actor: User) -> Theme:
    """Add a theme tag (CSE, domestic abuse, neglect...)."""
    theme = Theme()
    _apply_theme(theme, name)
    return saved(theme, new=True)


def rename_theme(theme: Theme, name: str, actor: User) -> Theme:
    """Rename a theme tag (courses keep it)."""
    _apply_theme(theme, name)
    return saved(theme)


def _apply_theme(theme: Theme, name: str) -> None:
    name = clean(name)
    if not name:
        raise CourseError("Enter the theme’s name", "name")
    if len(name) > 100:
        raise CourseError("The name must be 100 characters or fewer", "name")
    if db.session.scalar(select(Theme.id).where(func.lower(Theme.name) == name.lower(),
                                                Theme.id != (theme.id or 0))):
        raise CourseError(f"There is already a theme called {name}", "name")
    theme.name = name


def delete_theme(theme: Theme, actor: User) -> None:
    """Remove a theme tag, taking it off every course that had it."""
    for course in db.session.scalars(select(Course).where(Course.themes.any(Theme.id == theme.id))):
        course.themes.remove(theme)
    db.session.delete(theme)
    db.session.flush()


@dataclass
class VenueDetails:
    name: str
    address: str = ""
    access_information: str = ""
    active: bool = True


def create_venue(details: VenueDetails, actor: User) -> Venue:
    """Add a venue with its address and access information."""
    venue = Venue()
    _apply_venue_details(venue, details)
    return saved(venue, new=True)


def update_venue(venue: Venue, details: VenueDetails, actor: User) -> Venue:
    """Change a venue's details (sessions there show the new ones)."""
    _apply_venue_details(venue, details)
    return saved(venue)


def _apply_venue_details(venue: Venue, details: VenueDetails) -> None:
    name = clean(details.name)
    problems = Problems()
    if not name:
        problems.add("name", "Enter the venue’s name")
    elif len(name) > 200:
        problems.add("name", "The name must be 200 characters or fewer")
    if not clean(details.address):
        problems.add("address", "Enter the venue’s address")
    problems.raise_any()
    venue.name = name
    venue.address = clean(details.address)
    venue.access_information = clean(details.access_information)
    venue.active = details.active

