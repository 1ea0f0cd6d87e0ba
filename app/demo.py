"""`flask demo load`: invented demo data for a London borough's partnership.

Every person here is invented. Each domain adds its part to DEMO_STEPS in order.
"""
from __future__ import annotations

import random

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.accounts.models import (
    ADMIN,
    COORDINATOR,
    REVIEWER,
    TRAINER,
    Agency,
    AgencyDomain,
    RoleGrant,
    Sector,
    User,
)
from app import clock
from app.clock import utcnow
from app.extensions import db
from app.jobs import run_jobs

# Published in the README, so guessable by design: the demo sets it without the password policy
# (app.accounts.passwords.check_password_strength refuses it), and only on invented accounts.
DEMO_PASSWORD = "safeguarding-demo"

DEFAULT_SECTORS = [
    "Children's Social Care", "Early Help", "Adult Social Care", "Health - acute",
    "Health - community", "Health - mental health", "Health - GP and primary care", "Police",
    "Probation and Youth Justice", "Education - schools", "Education - colleges and FE",
    "Early Years and childminders", "Housing", "Voluntary and Community", "Faith",
    "Sport and Leisure", "Private and independent providers", "Other",
]

# (agency, sector, e-mail domains)
DEMO_AGENCIES = [
    ("Northbridge Council - Children's Social Care", "Children's Social Care", ["northbridge-council.example"]),
    ("Northbridge Council - Early Help Service", "Early Help", ["earlyhelp.northbridge-council.example"]),
    ("Northbridge Council - Adult Social Care", "Adult Social Care", ["adults.northbridge-council.example"]),
    ("Northbridge Council - Housing Needs", "Housing", ["housing.northbridge-council.example"]),
    ("Northbridge Homes (housing association)", "Housing", ["northbridgehomes.example"]),
    ("St Brigid's University Hospital NHS Trust", "Health - acute", ["stbrigids-nhs.example"]),
    ("Northbridge Community Health NHS Trust", "Health - community", ["nch-nhs.example"]),
    ("Riverside Mental Health NHS Foundation Trust", "Health - mental health", ["riverside-mh.example"]),
    ("Marlowe Road Medical Practice", "Health - GP and primary care", ["marloweroad-gp.example"]),
    ("Canal Side Surgery", "Health - GP and primary care", ["canalside-gp.example"]),
    ("Metropolitan Police - North Area BCU", "Police", ["met-north.police.example"]),
    ("National Probation Service - Northbridge", "Probation and Youth Justice", ["probation-nb.example"]),
    ("Northbridge Youth Offending Service", "Probation and Youth Justice", ["yos.northbridge-council.example"]),
    ("Hillcrest Primary School", "Education - schools", ["hillcrest.sch.example"]),
    ("Northbridge Academy", "Education - schools", ["northbridge-academy.sch.example"]),
    ("Greenway Special School", "Education - schools", ["greenway.sch.example"]),
    ("Northbridge College", "Education - colleges and FE", ["northbridge-college.example"]),
    ("Little Acorns Day Nursery", "Early Years and childminders", []),
    ("Northbridge Childminding Network", "Early Years and childminders", []),
    ("Safe Haven Women's Aid", "Voluntary and Community", ["safehaven-wa.example"]),
    ("Young Northbridge Youth Trust", "Voluntary and Community", ["youngnorthbridge.example"]),
    ("Family Action Northbridge", "Voluntary and Community", []),
    ("Northbridge Interfaith Forum", "Faith", []),
    ("St Mark's Parish Church", "Faith", []),
    ("Northbridge Leisure Trust", "Sport and Leisure", ["nbleisure.example"]),
    ("Brightstart Fostering Agency", "Private and independent providers", ["brightstart-fostering.example"]),
]

FIRST_NAMES = [
    "Amara", "Ben", "Chloe", "Dev", "Eilidh", "Farid", "Grace", "Harvey", "Imani", "Jonah",
    "Kasia", "Leon", "Maryam", "Niall", "Olu", "Priya", "Quentin", "Rosa", "Samir", "Tamsin",
    "Uzma", "Vikram", "Wendy", "Xander", "Yasmin", "Zac", "Aoife", "Bilal", "Carys", "Dimitri",
]
SURNAMES = [
    "Achterberg", "Bramwell", "Castellane", "Dunmore", "Eskdale", "Fairweather", "Gorringe",
    "Hollinshead", "Ilsley", "Jephcott", "Kettlewell", "Lindqvist", "Marchbank", "Nettleford",
    "Okonkwo-Bray", "Pendleford", "Quarrington", "Rowbotham", "Sowerby", "Thistlewood",
    "Underhay", "Vantongeren", "Wetherall", "Yardley", "Zielinska-Hart",
]
# Job titles that fit each sector's agencies (a police constable works for the police, not a GP).
JOB_TITLES = {
    "Children's Social Care": ["Social worker", "Senior social worker", "Team manager", "Family support worker"],
    "Early Help": ["Early help practitioner", "Family support worker", "Parenting practitioner"],
    "Adult Social Care": ["Social worker", "Occupational therapist", "Care coordinator"],
    "Health - acute": ["Paediatric nurse", "Midwife", "Emergency department nurse", "Paediatric registrar"],
    "Health - community": ["Health visitor", "School nurse", "Community nurse"],
    "Health - mental health": ["Mental health nurse", "Clinical psychologist", "Psychiatrist"],
    "Health - GP and primary care": ["GP", "Practice nurse", "Practice manager", "Receptionist"],
    "Police": ["Police constable", "Detective constable", "Police community support officer"],
    "Probation and Youth Justice": ["Probation officer", "Youth justice worker", "Case manager"],
    "Education - schools": ["Teacher", "Designated safeguarding lead", "Teaching assistant", "Head of year"],
    "Education - colleges and FE": ["Lecturer", "Student support officer", "Designated safeguarding lead"],
    "Early Years and childminders": ["Early years practitioner", "Early years SENCo", "Setting manager"],
    "Housing": ["Housing officer", "Tenancy support officer", "Homelessness caseworker"],
    "Voluntary and Community": ["Youth worker", "Domestic abuse advocate", "Volunteer coordinator"],
    "Faith": ["Safeguarding officer", "Youth leader", "Children's worker"],
    "Sport and Leisure": ["Swimming instructor", "Sports coach", "Leisure centre manager"],
    "Private and independent providers": ["Supervising social worker", "Foster carer support worker"],
    "Other": ["Safeguarding lead"],
}

# (e-mail local part, name, agency index, roles) for the named demo logins in the README.
DEMO_LOGINS = [
    ("learner", "Lena Marchbank", 0, [], "Social worker"),
    ("coordinator", "Colin Eskdale", 5, [COORDINATOR], "Named nurse for safeguarding"),
    ("trainer", "Tara Pendleford", 0, [TRAINER], "Safeguarding trainer"),
    ("admin", "Adaeze Fairweather", 0, [ADMIN], "Learning and development manager"),
    ("reviewer", "Rhys Quarrington", 10, [REVIEWER], "Detective sergeant, L&D sub-group member"),
]

DEMO_STEPS: list = []


def demo_step(func):
    """Add a loader to `flask demo load`, run in the order registered."""
    DEMO_STEPS.append(func)
    return func


def _domain_for(agency: Agency) -> str:
    return agency.domains[0].domain if agency.domains else "mail.example"


@demo_step
def load_people(rng: random.Random) -> str:
    """Sectors, agencies and invented people for every role."""
    sectors = {}
    for position, name in enumerate(DEFAULT_SECTORS):
        sectors[name] = Sector(name=name, position=position)
        db.session.add(sectors[name])
    agencies = []
    for name, sector, domains in DEMO_AGENCIES:
        agency = Agency(name=name, sector=sectors[sector])
        agency.domains = [AgencyDomain(domain=d) for d in domains]
        db.session.add(agency)
        agencies.append(agency)
    db.session.flush()
    now = utcnow()
    people = []
    for local, name, agency_index, roles, title in DEMO_LOGINS:
        agency = agencies[agency_index]
        person = User(
            name=name, email=f"{local}@{_domain_for(agency)}", job_title=title, agency=agency,
            line_manager_name="Morag Hollinshead",
            line_manager_email=f"morag.hollinshead@{_domain_for(agency)}", email_verified_at=now,
        )
        person.set_password(DEMO_PASSWORD)
        for role in roles:
            person.role_grants.append(RoleGrant(role=role, agency=agency if role == COORDINATOR else None))
        db.session.add(person)
        people.append(person)
    # A crowd of staff across every agency, so reports and quotas have something to show.
    used = {p.email for p in people}
    password_hash = people[0].password_hash  # hashing once keeps the load quick
    for agency in agencies:
        titles = JOB_TITLES[agency.sector.name]
        for _ in range(rng.randint(4, 9)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
            email = f"{first}.{last}@{_domain_for(agency)}".lower()
            if email in used:
                continue
            used.add(email)
            db.session.add(User(
                name=f"{first} {last}", email=email, job_title=rng.choice(titles),
                agency=agency, line_manager_name="Morag Hollinshead",
                line_manager_email=f"morag.hollinshead@{_domain_for(agency)}",
                email_verified_at=now, password_hash=password_hash,
            ))
    db.session.flush()
    return f"{len(sectors)} sectors, {len(agencies)} agencies, {len(used)} people"


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


def load_demo(seed: int = 2015) -> list[str]:
    """Load every domain's demo data into an empty database."""
    rng = random.Random(seed)
    return [step(rng) for step in DEMO_STEPS]


demo_cli = AppGroup("demo", help="Invented demo data.")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has people in it.")
def load_command(if_empty: bool) -> None:
    """Load the demo data (sectors, agencies, people, programme...)."""
    if not database_is_empty():
        if if_empty:
            click.echo("The database already has data; demo data not loaded.")
            return
        raise click.ClickException("The database is not empty; demo data goes into an empty one.")
    for line in load_demo():
        click.echo(line)
    db.session.commit()


@demo_cli.command("advance")
@click.option("--days", type=click.IntRange(min=1), help="Move the demo's clock forward this many days.")
@click.option("--reset", is_flag=True, help="Put the demo's clock back to the real time.")
def advance_command(days: int | None, reset: bool) -> None:
    """Move the demo's clock forward and run the jobs that fall due (development only)."""
    if current_app.config["ENV_NAME"] != "development":
        raise click.ClickException(
            "The demo clock exists only in development (APP_ENV=development); nothing was changed.")
    if reset:
        clock.set_demo_offset(0)
    elif days:
        clock.set_demo_offset(clock.demo_offset().days + days)
    ahead = clock.demo_offset().days
    click.echo(f"The demo's clock is {ahead} days ahead: it is now {clock.utcnow():%-d %B %Y, %H:%M} UTC"
               if ahead else "The demo's clock shows the real time.")
    if days:
        for name, result in run_jobs().items():
            click.echo(f"{name}: {result}")
        db.session.commit()


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
