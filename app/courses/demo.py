"""Demo programme: the 2014/15 and 2015/16 courses, Northbridge venues and a year of sessions.

The courses are those of the annual review; descriptions are written in plain words for the demo.
Sessions are spread over the year around today: some past, most to come, one cancelled. Level 3
is commissioned from an outside provider, whose trainer delivers its sessions.
"""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.accounts.models import ADMIN, TRAINER, Agency, RoleGrant, Sector, User
from app.clock import add_months, london_to_utc, today_london, utcnow
from app.courses.models import (
    AUDIT,
    CANCELLED,
    DRAFT,
    IN_PROGRESS,
    MET,
    OPEN,
    PLENARY,
    PUBLISHED,
    SECTION_11,
    SERIOUS_CASE_REVIEW,
    WORKSHOP,
    Course,
    Level,
    ProgrammeItem,
    Provider,
    Reservation,
    Session,
    SessionChange,
    SessionPart,
    Theme,
    TrainerProfile,
    TrainerUnavailability,
    Venue,
)
from app.courses.recommendations import SourceDetails, add_recommendation, create_source, link_training
from app.demo import DEMO_PASSWORD, demo_step
from app.extensions import db

LEVELS = [
    ("Level 1/2 (online)", "Levels 1 and 2 (2 to 4 hours)"),
    ("Level 3", "Level 3 core (6 hours)"),
    ("Level 3 refresher", "Level 3 core (refresher)"),
    ("Level 3 specialist", "Level 3 specialist (12 to 16 hours over 3 years)"),
    ("Level 4", "Level 4 (24 hours over 3 years)"),
    ("Induction", "Level 2 (3 to 4 hours)"),
    ("Conference", "Level 3 specialist (counts towards hours)"),
]

THEMES = [
    "CSE", "Gangs and serious youth violence", "Domestic abuse", "Sexual violence", "Neglect",
    "Prevent", "SCR learning", "Early help", "Substance misuse", "Trafficking and modern slavery",
    "Private fostering", "Fabricated or induced illness", "Working with fathers", "Child protection conferences",
    "Governance",
]

VENUES = [
    ("Northbridge Civic Centre, Committee Room 2", "Civic Centre\n1 Town Hall Square\nNorthbridge NB1 1AA",
     "Step-free entrance on Town Hall Square. Hearing loop. Pay-and-display parking behind the building; "
     "Northbridge Central station is a 5-minute walk. Sign in at the main reception."),
    ("Canal Street Learning Centre", "14 Canal Street\nNorthbridge NB2 4QP",
     "Training rooms on the first floor with a lift. No parking on site; buses 41 and 212 stop outside."),
    ("St Brigid's Hospital Education Centre", "St Brigid's University Hospital\nHospital Road\nNorthbridge NB4 8TT",
     "Follow signs to the Education Centre (Gate C). Step-free throughout. Visitor parking is charged."),
    ("Riverside Conference Hall", "Riverside Quay\nNorthbridge NB3 2RQ",
     "Large hall for up to 200 people. Step-free, hearing loop, quiet room. Riverside tram stop next door."),
    ("Northbridge Police Station Training Suite", "99 High Road\nNorthbridge NB5 6PS",
     "Ground-floor suite with step-free access. Bring photo identification to sign in."),
]

L3_OUTCOMES = """Recognise signs that a child is being abused or neglected
Explain the thresholds for early help, child in need and child protection in Northbridge
Make a clear referral and record your concerns and decisions
Take part confidently in strategy discussions, child protection conferences and core groups
Describe what each agency does and how to share information lawfully"""

# (code, title, level, themes, sectors ("" = everyone), hours, refresher months, online,
#  description, outcomes, grew from, charge in pounds, notice days, prerequisite codes)
COURSES = [
    ("L12-ONLINE", "Safeguarding Children Level 1 and 2 (e-learning)", "Level 1/2 (online)", ["Neglect"], [],
     "2.5", 36, True,
     "An introduction to safeguarding children for everyone who works with children or their families, done online at your own pace.",
     "Know what abuse and neglect look like\nKnow who to tell and how in your own agency\nKnow when to ask for advice",
     "The board's training needs analysis: many volunteers and front-line staff had no basic training.", 0, 0, []),
    ("L3", "Safeguarding Children Level 3", "Level 3", ["Neglect", "Child protection conferences"], [],
     "12", 36, False,
     "Two days of multi-agency training for practitioners who work directly with children and families and could contribute to assessing, planning and reviewing a child's needs.",
     L3_OUTCOMES,
     "The core course of the programme: 262 people attended in six months of 2014/15.", 90, 5, ["L12-ONLINE"]),
    ("L3-REFRESH", "Safeguarding Children Level 3 Refresher", "Level 3 refresher", ["SCR learning", "Neglect"], [],
     "6", 36, False,
     "A one-day update for people who did Level 3 within the last three years: recent case reviews, changes in procedures and practice.",
     "Apply recent local and national learning to your own cases\nUse the current Northbridge threshold guidance\nReflect on how you escalate concerns",
     "Requested by agencies so staff can keep their Level 3 current every three years.", 75, 5, ["L3"]),
    ("STRENGTHEN", "Strengthening Families in Child Protection Conferences", "Level 3 specialist",
     ["Child protection conferences"], [], "6", None, False,
     "How the Strengthening Families model works in Northbridge conferences, and how to write reports that families understand.",
     "Explain the Strengthening Families framework\nWrite a conference report in plain language\nContribute to a safety plan with the family",
     "Conferences moved to the Strengthening Families model in 2014.", 75, 5, ["L3"]),
    ("DASV", "Domestic Abuse and Sexual Violence", "Level 3 specialist", ["Domestic abuse", "Sexual violence"], [],
     "6", None, False,
     "The impact of domestic abuse and sexual violence on children and young people, risk assessment and the local MARAC.",
     "Use the DASH risk checklist\nRefer to MARAC and specialist services\nPlan safely with a non-abusing parent",
     "Domestic abuse featured in most Northbridge child protection plans in 2014/15.", 75, 5, []),
    ("CSE-GANGS", "Child Sexual Exploitation and Gangs", "Level 3 specialist", ["CSE", "Gangs and serious youth violence"], [],
     "6", None, False,
     "Spotting exploitation early, the links between gangs and sexual exploitation, and the Northbridge CSE pathway.",
     "Recognise the signs of sexual and criminal exploitation\nUse the CSE screening tool\nRefer to the MASE panel",
     "National inquiries into child sexual exploitation and a local audit of missing children.", 75, 5, []),
    ("CSE-2015", "Child Sexual Exploitation (revised 2015)", "Level 3 specialist", ["CSE"], [],
     "6", None, False,
     "The revised CSE course with the 2015 pan-London operating protocol, online exploitation and working with young people who do not see themselves as victims.",
     "Apply the pan-London CSE operating protocol\nRespond to online exploitation\nKeep young people engaged",
     "Revised after the 2015 pan-London protocol and feedback from the first year's course.", 75, 5, []),
    ("SCR-MGR", "Serious Case Review Workshop: managers and strategic leads", "Level 4", ["SCR learning"], [],
     "3", None, False,
     "A workshop on the findings of recent Northbridge and national serious case reviews and what managers must change.",
     "Summarise the findings of recent reviews\nPlan changes in your service\nSupport staff through a review",
     "Serious Case Review 'Child B' (2014) recommended workshops for managers.", 50, 5, []),
    ("SCR-PRAC", "Serious Case Review Workshop: practitioners", "Level 3 specialist", ["SCR learning"], [],
     "3", None, False,
     "A workshop for front-line staff on the learning from recent serious case reviews: what went wrong, and what we now do differently.",
     "Describe the learning from recent reviews\nChallenge and escalate when you disagree\nRecord and share information well",
     "Serious Case Review 'Child B' (2014): 244 people attended these workshops in six months.", 50, 5, []),
    ("EHA-LP", "Early Help Assessments and the Role of the Lead Professional", "Level 3", ["Early help"], [],
     "6", None, False,
     "How to carry out an Early Help Assessment, lead a team around the family and step up or down.",
     "Complete an Early Help Assessment with a family\nRun a team around the family meeting\nStep up to or down from social care",
     "The Early Help strategy 2014 asked every agency to act as lead professional.", 75, 5, []),
    ("SUBSTANCE", "Impact of Substance Misuse on Children and Families", "Level 3 specialist", ["Substance misuse", "Neglect"], [],
     "6", None, False,
     "How parental drug and alcohol use affects children, and working with adult treatment services.",
     "Recognise the impact of parental substance misuse\nWork jointly with adult services\nAssess risk to unborn babies",
     "A local audit of neglect cases found parental substance misuse in half of them.", 75, 5, []),
    ("PARENT-PRISON", "Children Affected by Parental Imprisonment", "Level 3 specialist", ["Neglect"], [],
     "3", None, False,
     "The hidden needs of children with a parent in prison and how schools and services can help.",
     "Identify children affected by imprisonment\nSupport contact and transitions\nUse local and national support",
     "Raised by the Probation and Youth Justice members of the board.", 50, 5, []),
    ("PRIV-FOSTER", "Private Fostering", "Level 3 specialist", ["Private fostering"], [],
     "3", None, False,
     "What private fostering is, why it matters, and the duty to tell the local authority.",
     "Recognise a private fostering arrangement\nNotify the local authority\nExplain the arrangements to carers",
     "Low notification numbers in Northbridge compared with similar areas.", 50, 5, []),
    ("S11", "Section 11 Workshop for Board Members", "Level 4", ["Governance"], [],
     "3", None, False,
     "For board members and senior leads completing the Section 11 safeguarding audit for their agency.",
     "Complete the Section 11 audit\nEvidence your agency's arrangements\nPlan improvements",
     "The 2014/15 Section 11 audit round.", 0, 2, []),
    ("PREVENT", "Prevent: Workshop to Raise Awareness", "Level 3 specialist", ["Prevent"], [],
     "3", None, False,
     "How young people can be drawn into extremism, and the Prevent and Channel processes.",
     "Recognise vulnerability to radicalisation\nRefer through Prevent and Channel\nExplain the Prevent duty",
     "The Prevent duty (Counter-Terrorism and Security Act 2015).", 50, 5, []),
    ("TRAFFICKING", "Child Trafficking", "Level 3 specialist", ["Trafficking and modern slavery"], [],
     "6", None, False,
     "Identifying trafficked children and the National Referral Mechanism.",
     "Recognise indicators of trafficking\nRefer through the National Referral Mechanism\nSafeguard a missing trafficked child",
     "A national case review of trafficked children going missing from care.", 75, 5, []),
    ("FII", "Fabricated and Induced Illness", "Level 3 specialist", ["Fabricated or induced illness"], [],
     "3", None, False,
     "Understanding fabricated or induced illness and the joint health and social care response.",
     "Recognise warning signs of FII\nFollow the joint protocol\nRecord carefully",
     "A local case reviewed in 2014.", 50, 5, []),
    ("ENGAGING-MEN", "Engaging Men", "Level 3 specialist", ["Working with fathers"], [],
     "6", None, False,
     "Including fathers and male carers in assessments and plans, including men who are a risk.",
     "Identify every man in a child's life\nEngage fathers in assessment\nAssess risk from male carers",
     "Serious case reviews repeatedly found fathers and male carers were invisible.", 75, 5, []),
    ("SYSTEMIC", "Systemic Practice", "Level 3 specialist", ["Child protection conferences"], [],
     "12", None, False,
     "Two days introducing systemic ideas and tools for working with whole families.",
     "Use a genogram with a family\nAsk circular questions\nReflect on your own position",
     "Children's social care's move to systemic practice units.", 90, 7, ["L3"]),
    ("EVYP", "Engaging Vulnerable Young People", "Level 3 specialist", ["CSE", "Gangs and serious youth violence"], [],
     "6", None, False,
     "Building trust with young people who are hard to reach, including those at risk of exploitation.",
     "Use approaches that build trust\nPlan contact that suits young people\nWork with youth services",
     "New in 2015/16 after the CSE training feedback.", 75, 5, []),
    ("INDUCTION", "Safeguarding Induction Day for New Staff", "Induction", ["Neglect", "Early help"], [],
     "6", None, False,
     "A first day for staff new to Northbridge: the board, thresholds, local procedures and who's who.",
     "Find the Northbridge procedures\nUse the threshold document\nKnow your agency's safeguarding lead",
     "New in 2015/16: agencies asked for a shared induction.", 0, 2, []),
    ("CONF", "Annual Safeguarding Conference", "Conference", ["SCR learning", "CSE", "Domestic abuse"], [],
     "6", None, False,
     "The partnership's annual conference: national speakers, local learning and workshops.",
     "Hear the latest national learning\nMeet colleagues from every agency\nTake one change back to your team",
     "Held every year by the board.", 0, 5, []),
]

# Sessions per course across the year around today, and their shape.
RUNS = {
    "L3": 10, "L3-REFRESH": 5, "SCR-PRAC": 6, "SCR-MGR": 2, "DASV": 4, "CSE-GANGS": 2, "CSE-2015": 3,
    "STRENGTHEN": 3, "EHA-LP": 4, "SUBSTANCE": 2, "PARENT-PRISON": 2, "PRIV-FOSTER": 2, "S11": 1, "PREVENT": 4,
    "TRAFFICKING": 2, "FII": 2, "ENGAGING-MEN": 2, "SYSTEMIC": 2, "EVYP": 2, "INDUCTION": 4, "CONF": 1,
}
MORNING = (time(9, 30), time(12, 30))
AFTERNOON = (time(13, 30), time(16, 30))
DAY = (time(9, 30), time(16, 30))
ONLINE_LINK = "https://meet.northbridge-scp.example/training/{code}-{n}"


def _working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _session_days(code: str, first: date) -> list[tuple[date, tuple[time, time]]]:
    if code in ("L3", "SYSTEMIC"):
        second = _working_day(first + timedelta(days=7))  # two days a week apart
        return [(first, DAY), (second, DAY)]
    if code in ("SCR-PRAC", "SCR-MGR", "PARENT-PRISON", "PRIV-FOSTER", "S11", "PREVENT", "FII"):
        return [(first, MORNING if first.day % 2 else AFTERNOON)]
    return [(first, DAY)]


# The annual conference's day (issue 17): (minutes after the start, minutes long, kind, title,
# speakers or lead, room). Workshops starting together are one slot; people choose one in each.
# Speakers and leads are invented.
CONFERENCE_PROGRAMME = (
    (0, 15, PLENARY, "Welcome and the year in review", "Independent Chair of the Partnership", "Main hall"),
    (15, 60, PLENARY, "Keeping young people safe online: learning from a national case",
     "Dr Morwenna Ashdown, consultant clinical psychologist", "Main hall"),
    (90, 75, WORKSHOP, "Child sexual exploitation and missing episodes", "Detective Sergeant Ivo Marchetti", "Room 1"),
    (90, 75, WORKSHOP, "FGM: spotting the signs and what to do", "Nia Okonjo-Reyes, specialist midwife", "Room 2"),
    (90, 75, WORKSHOP, "Early help and the lead professional", "Early Help Hub team", "Room 3"),
    (225, 75, WORKSHOP, "Serious case review learning: Child M", "Dr Imogen Castellane, independent reviewer", "Room 1"),
    (225, 75, WORKSHOP, "Gangs, county lines and schools", "Youth Justice Service", "Room 2"),
    (225, 75, WORKSHOP, "Hearing the voice of the child", "Young people from the Children in Care Council", "Room 3"),
    (315, 75, PLENARY, "Panel: what we will do differently", "Board members and practitioners", "Main hall"),
)


def conference_programme(session: Session) -> list[ProgrammeItem]:
    """The annual conference's plenaries and workshops, from the session's start (workshop places
    share the session's capacity between the three rooms of each slot)."""
    start = session.parts[0].starts_at
    places = -(-session.capacity // 3) + 5
    return [
        ProgrammeItem(kind=kind, starts_at=start + timedelta(minutes=at), ends_at=start + timedelta(minutes=at + length),
                      title=title, leads=leads, room=room, capacity=places if kind == WORKSHOP else None)
        for at, length, kind, title, leads, room in CONFERENCE_PROGRAMME
    ]


def _joining_instructions(days: list[tuple[date, tuple[time, time]]], online: bool) -> str:
    """Say what a learner needs for this session: lunch only where a day runs over lunchtime."""
    if online:
        return "Join five minutes early and check your camera and microphone."
    hours = min((datetime.combine(d, end) - datetime.combine(d, start)).seconds / 3600 for d, (start, end) in days)
    if hours >= 6:
        return "Please arrive 15 minutes early to sign in. Lunch and refreshments are provided."
    return "Please arrive 15 minutes early to sign in. Tea and coffee are provided; this short session has no lunch break."


@demo_step
def load_programme(rng: random.Random) -> str:
    """Levels, themes, venues, the 2014/15 and 2015/16 courses and a year of sessions."""
    levels = {}
    for position, (name, intercollegiate) in enumerate(LEVELS, start=1):
        levels[name] = Level(name=name, intercollegiate_level=intercollegiate, position=position)
        db.session.add(levels[name])
    themes = {name: Theme(name=name) for name in THEMES}
    db.session.add_all(themes.values())
    venues = [Venue(name=n, address=a, access_information=i) for n, a, i in VENUES]
    db.session.add_all(venues)
    sectors = {s.name: s for s in db.session.scalars(select(Sector))}
    courses = {}
    for (code, title, level, theme_names, sector_names, hours, refresher, online, description, outcomes,
         grew_from, charge, notice, prerequisites) in COURSES:
        course = Course(
            code=code, title=title, level=levels[level], themes=[themes[t] for t in theme_names],
            audience_sectors=[sectors[s] for s in sector_names if s in sectors],
            duration_hours=Decimal(hours), refresher_months=refresher, is_online=online,
            description=description, learning_outcomes=outcomes, grew_from=grew_from,
            audience_roles="Practitioners and managers who work with children, young people or parents",
            non_attendance_charge_pence=charge * 100, cancellation_notice_days=notice,
            requires_manager_approval=not online and code not in ("CONF", "S11"),
            evaluation_delay_months=3,
        )
        course.prerequisites = [courses[p] for p in prerequisites]
        courses[code] = course
        db.session.add(course)
    # Board members' and managers' courses are for fewer sectors.
    courses["S11"].audience_roles = "Board members and senior safeguarding leads"
    courses["SCR-MGR"].audience_roles = "Managers and strategic leads"
    courses["INDUCTION"].audience_roles = "Staff in their first six months in Northbridge"
    # Attending the refresher keeps Level 3 current: it restarts Level 3's three-year clock.
    courses["L3-REFRESH"].renews = courses["L3"]
    db.session.flush()

    trainers = list(db.session.scalars(
        select(User).where(User.role_grants.any(RoleGrant.role == TRAINER)).order_by(User.id)
    ))
    reservations = [("Health - acute", 2), ("Health - community", 2), ("Education - schools", 4),
                    ("Children's Social Care", 4), ("Police", 2)]
    today = today_london()
    sessions = []
    for code, runs in RUNS.items():
        course = courses[code]
        # Spread the runs from about four months ago to eight months ahead.
        span = 360 // runs
        for n in range(runs):
            offset = -120 + n * span + rng.randint(0, max(span // 2, 1))
            first = _working_day(today + timedelta(days=offset))
            days = _session_days(code, first)
            conference = code == "CONF"
            online = code in ("PREVENT", "PRIV-FOSTER") and n % 2 == 1
            session = Session(
                course=course,
                venue=None if online else (venues[3] if conference else venues[(n + len(code)) % 3]),
                online_url=ONLINE_LINK.format(code=code.lower(), n=n + 1) if online else "",
                capacity=rng.choice([150, 180, 200]) if conference else rng.choice([20, 24, 25, 30]),
                status=PUBLISHED if offset < 150 else DRAFT,
                reservation_release_days=14,
                joining_instructions=_joining_instructions(days, online),
                external_trainers="Dr Imogen Castellane (independent reviewer)" if code.startswith("SCR") else "",
            )
            session.parts = [
                SessionPart(starts_at=london_to_utc(datetime.combine(d, start)),
                            ends_at=london_to_utc(datetime.combine(d, end)))
                for d, (start, end) in days
            ]
            session.starts_at = session.parts[0].starts_at
            session.ends_at = session.parts[-1].ends_at
            session.booking_closes_at = session.starts_at - timedelta(days=2)
            if conference:
                session.programme = conference_programme(session)
                session.choices_close_at = session.starts_at - timedelta(days=7)
            if code in ("L3", "L3-REFRESH", "SCR-PRAC", "DASV", "CONF"):
                for sector_name, places in reservations:
                    if sector_name in sectors:
                        scale = 10 if conference else 1
                        session.reservations.append(Reservation(sector=sectors[sector_name], places=places * scale))
            if trainers and not conference:
                session.trainers = [trainers[n % len(trainers)]]
            db.session.add(session)
            sessions.append(session)
    # This year's conference too (issue 17), five weeks ahead: its workshops still to choose and
    # its check-in to come. Made without the random numbers, so the rest of the demo is as before.
    upcoming_conference = not any(s.course.code == "CONF" and s.starts_at.date() > today for s in sessions)
    if upcoming_conference:
        day = _working_day(today + timedelta(days=35))
        conference = Session(course=courses["CONF"], venue=venues[3], capacity=200, status=PUBLISHED,
                             reservation_release_days=14,
                             joining_instructions=_joining_instructions([(day, DAY)], False))
        conference.parts = [SessionPart(starts_at=london_to_utc(datetime.combine(day, DAY[0])),
                                        ends_at=london_to_utc(datetime.combine(day, DAY[1])))]
        conference.starts_at, conference.ends_at = conference.parts[0].starts_at, conference.parts[0].ends_at
        conference.booking_closes_at = conference.starts_at - timedelta(days=2)
        conference.programme = conference_programme(conference)
        conference.choices_close_at = conference.starts_at - timedelta(days=7)
        db.session.add(conference)
        sessions.append(conference)
    db.session.flush()
    # One upcoming published session cancelled, as the programme would show it.
    upcoming = [s for s in sessions if s.status == PUBLISHED and s.course.code == "DASV"
                and s.starts_at.date() > today + timedelta(days=14)]
    if upcoming:
        cancelled = upcoming[0]
        cancelled.status = CANCELLED
        cancelled.cancellation_reason = "The trainer is unavailable; the session will be rearranged."
        cancelled.cancelled_at = utcnow()
        cancelled.sequence += 1
        db.session.add(SessionChange(session=cancelled, kind="cancelled", detail=cancelled.cancellation_reason,
                                     sequence=cancelled.sequence, at=cancelled.cancelled_at,
                                     notified_at=cancelled.cancelled_at))
    db.session.flush()
    published = sum(1 for s in sessions if s.status == PUBLISHED)
    return f"{len(courses)} courses, {len(venues)} venues, {len(sessions)} sessions ({published} published)"


# Invented reviews, anonymised as partnerships publish them, with the training that answers them.
# (kind, title, months since published or None, summary, [(number, text, status, courses, one-off sessions of)])
LEARNING_SOURCES = [
    (SERIOUS_CASE_REVIEW, "Child R", 10,
     "A seven-month-old baby seriously injured at home. Agencies knew of domestic abuse and of missed "
     "health appointments, but no one put what they knew together, and the baby's father was never seen.",
     [(1, "All agencies release front-line staff for multi-agency workshops on the learning from this "
          "review within twelve months of its publication.", IN_PROGRESS, ["SCR-PRAC"], []),
      (2, "Managers make sure supervision asks who the men in a child's household are, and that "
          "assessments include fathers and male carers.", IN_PROGRESS, ["SCR-MGR", "ENGAGING-MEN"], ["CONF"]),
      (3, "Health visitors and GPs escalate repeatedly missed appointments for babies under one.", OPEN,
       [], [])]),
    (SERIOUS_CASE_REVIEW, "Child B", 140,
     "A young person exploited by older men while missing from care; agencies saw each episode on its own.",
     [(1, "Managers and strategic leads attend workshops on the learning from this review.", MET,
       ["SCR-MGR"], []),
      (2, "Practitioners use the CSE screening tool whenever a young person goes missing.", MET,
       ["CSE-2015"], [])]),
    (AUDIT, "Multi-agency audit of neglect cases", None,
     "A case file audit of twenty children on plans for neglect (not yet published).",
     [(1, "Practitioners use the neglect screening tool and record the child's lived experience.", OPEN,
       ["L3-REFRESH"], [])]),
    (SECTION_11, "Section 11 audit 2025-26", 4,
     "Agencies' self-assessments against Section 11 of the Children Act 2004, with a challenge event.",
     [(1, "Board members understand their agency's Section 11 duties and report on them each year.", MET,
       ["S11"], [])]),
]


@demo_step
def load_learning_sources(rng: random.Random) -> str:
    """Reviews, audits and a Section 11 finding, their recommendations and the training linked to them."""
    actor = db.session.scalar(select(User).join(RoleGrant, RoleGrant.user_id == User.id)
                              .where(RoleGrant.role == ADMIN).order_by(User.id).limit(1))
    courses = {c.code: c for c in db.session.scalars(select(Course))}
    today = today_london()
    count = 0
    for kind, title, months, summary, recommendations in LEARNING_SOURCES:
        published = add_months(today, -months) if months is not None else None
        source = create_source(SourceDetails(kind, title, published, summary), actor)
        for number, text, status, codes, one_off_codes in recommendations:
            recommendation = add_recommendation(source, number, text, actor, status=status)
            one_offs = [s for code in one_off_codes if code in courses
                        for s in courses[code].sessions if s.status == PUBLISHED][:1]
            link_training(recommendation, [courses[c] for c in codes if c in courses], one_offs, actor)
            count += 1
    return f"{len(LEARNING_SOURCES)} reviews, audits and findings with {count} recommendations"
@demo_step
def load_trainer_pool(rng: random.Random) -> str:
    """The trainer pool: Level 3 commissioned from an outside provider, and the internal trainer."""
    today = today_london()
    provider = Provider(
        name="Harbourside Safeguarding Associates", contact_name="Odile Penhallow",
        email="contracts@harbourside-safeguarding.example", phone="01632 960 418",
        contract_reference="NSCP/2026/017", contract_starts_on=today - timedelta(days=200),
        contract_ends_on=today + timedelta(days=530),
    )
    db.session.add(provider)
    # The provider's staff book and train as any partner's do: their organisation is an agency.
    other = db.session.scalar(select(Sector).where(Sector.name == "Other"))
    agency = Agency(name="Harbourside Safeguarding Associates", sector=other)
    associate = User(
        name="Wynne Carraway", email="wynne.carraway@harbourside-safeguarding.example",
        job_title="Safeguarding lead", agency=agency, email_verified_at=utcnow(),
    )
    associate.set_password(DEMO_PASSWORD)
    associate.role_grants.append(RoleGrant(role=TRAINER))
    db.session.add_all([agency, associate])
    courses = {c.code: c for c in db.session.scalars(select(Course))}
    level_3 = [courses[code] for code in ("L3", "L3-REFRESH") if code in courses]
    db.session.add(TrainerProfile(user=associate, provider=provider, courses=level_3, working_days="123"))
    for session in db.session.scalars(select(Session).where(Session.course_id.in_([c.id for c in level_3]))):
        session.trainers = [associate]
    internal = db.session.scalar(select(User).where(User.role_grants.any(RoleGrant.role == TRAINER),
                                                    User.id != associate.id).order_by(User.id))
    if internal is not None:
        profile = TrainerProfile(user=internal, working_days="01234",
                                 courses=[c for c in courses.values() if c.code not in ("L3", "L3-REFRESH", "CONF")])
        # A fixed date, not from `rng`: the later steps' draws stay as they were without this step.
        start = today + timedelta(days=30)
        profile.unavailability.append(TrainerUnavailability(starts_on=start, ends_on=start + timedelta(days=9),
                                                            reason="Annual leave"))
        db.session.add(profile)
    db.session.flush()
    return f"1 provider ({provider.name}) delivering Level 3, {2 if internal else 1} trainer profiles"
@demo_step
def load_closed_session(rng: random.Random) -> str:
    """A closed session: the bespoke Level 3 package for the council's housing staff only."""
    housing = db.session.scalar(select(Agency).where(Agency.name.ilike("%Housing Needs%")))
    course = db.session.scalar(select(Course).where(Course.code == "L3"))
    venue = db.session.scalar(select(Venue).order_by(Venue.id).limit(1))
    if housing is None or course is None:
        return "closed session: no housing agency or Level 3 course"
    day = _working_day(today_london() + timedelta(days=40 + rng.randint(0, 10)))
    days = _session_days("L3", day)
    session = Session(
        course=course, venue=venue, capacity=20, status=PUBLISHED, reservation_release_days=0,
        closed_to_agency=housing, joining_instructions=_joining_instructions(days, False),
    )
    session.parts = [SessionPart(starts_at=london_to_utc(datetime.combine(d, start)),
                                 ends_at=london_to_utc(datetime.combine(d, end))) for d, (start, end) in days]
    session.starts_at, session.ends_at = session.parts[0].starts_at, session.parts[-1].ends_at
    session.booking_closes_at = session.starts_at - timedelta(days=2)
    db.session.add(session)
    db.session.flush()
    return f"closed session: Level 3 for {housing.name} only, on {day:%-d %B %Y}"
