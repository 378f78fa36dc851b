"""A realistic, deterministic demo: Florida's boards, partnerships, rosters and three cycles.

Everything comes from `random.Random(seed)`, so the same seed builds the same demo.
Answers are written with one bulk INSERT so the whole demo builds in seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session

from survey.config import site_today
from survey.db import Base
from survey.models import (
    Answer,
    Board,
    BoardStatus,
    BoardTarget,
    Comment,
    Cycle,
    CycleStatus,
    Invitation,
    InvitationStatus,
    Member,
    OutcomeValue,
    Participation,
    Partnership,
    PartnershipBoard,
    Role,
    User,
)
from survey.questionnaire import Questionnaire
from survey.schema import load_default_boards
from survey.sectors import find_sector
from survey.services.invitations import add_token

DEMO_SEED = 2026
DEMO_ADMIN = "admin@example.org"
CLOSED_CYCLES = (("2024", dt.date(2024, 3, 4), dt.date(2024, 4, 26)),
                 ("2025", dt.date(2025, 3, 3), dt.date(2025, 4, 25)))
OPEN_CYCLE = "2026"

MFG = "Advanced Manufacturing"
HEALTH = "Healthcare"
IT = "Information Technology"
LOGISTICS = "Logistics and Distribution"
BUILD = "Construction"
AERO = "Aviation and Aerospace"
TOURISM = "Hospitality and Tourism"
FINANCE = "Financial Services"
MARINE = "Marine"
AGRI = "Agriculture"

# Board code: (region used in names, main city, sectors that matter there first).
REGIONS = {
    "01": ("Escarosa", "Pensacola", (AERO, MARINE, HEALTH)),
    "02": ("Emerald Coast", "Fort Walton Beach", (AERO, TOURISM)),
    "03": ("Chipola", "Marianna", (AGRI, MFG, HEALTH)),
    "04": ("Gulf Coast", "Panama City", (MARINE, BUILD, TOURISM)),
    "05": ("Capital Region", "Tallahassee", (IT, HEALTH, BUILD)),
    "06": ("North Florida", "Live Oak", (AGRI, LOGISTICS)),
    "07": ("Florida Crown", "Lake City", (LOGISTICS, MFG)),
    "08": ("First Coast", "Jacksonville", (LOGISTICS, FINANCE, HEALTH)),
    "09": ("North Central Florida", "Gainesville", (HEALTH, IT)),
    "10": ("Nature Coast", "Ocala", (LOGISTICS, AGRI, MFG)),
    "11": ("Volusia-Flagler", "Daytona Beach", (AERO, HEALTH, TOURISM)),
    "12": ("Central Florida", "Orlando", (TOURISM, IT, HEALTH)),
    "13": ("Space Coast", "Melbourne", (AERO, MFG, MARINE)),
    "14": ("Pinellas", "Clearwater", (MFG, FINANCE, MARINE)),
    "15": ("Tampa Bay", "Tampa", (HEALTH, FINANCE, IT)),
    "16": ("Pasco-Hernando", "New Port Richey", (HEALTH, BUILD, MFG)),
    "17": ("Polk", "Lakeland", (LOGISTICS, MFG, AGRI)),
    "18": ("Suncoast", "Sarasota", (HEALTH, BUILD, TOURISM)),
    "19": ("Heartland", "Sebring", (AGRI, HEALTH)),
    "20": ("Treasure Coast", "Port St. Lucie", (MARINE, HEALTH, BUILD)),
    "21": ("Palm Beach", "West Palm Beach", (FINANCE, HEALTH, MARINE)),
    "22": ("Broward", "Fort Lauderdale", (MARINE, LOGISTICS, IT)),
    "23": ("South Florida", "Miami", (TOURISM, FINANCE, LOGISTICS)),
    "24": ("Southwest Florida", "Fort Myers", (BUILD, HEALTH, TOURISM)),
}
STRONG_BOARDS = {"08": 0.45, "12": 0.4, "13": 0.35, "15": 0.5, "21": 0.3}
WEAK_BOARDS = {"03": -0.35, "06": -0.3, "19": -0.4}

# Sector: (word in partnership names, nouns for business names).
SECTORS = {
    "Advanced Manufacturing": ("Manufacturing", ("Precision Machining", "Composites", "Plastics",
                                                 "Metal Works", "Electronics", "Fabrication")),
    "Healthcare": ("Healthcare", ("Regional Medical Center", "Health System", "Family Clinics",
                                  "Rehabilitation Hospital", "Home Health", "Senior Living")),
    "Information Technology": ("Tech", ("Software", "Cybersecurity", "Data Systems",
                                        "Cloud Services", "Networks")),
    "Logistics and Distribution": ("Logistics", ("Freight", "Distribution", "Trucking",
                                                 "Cold Chain", "Port Services")),
    "Construction": ("Construction", ("Builders", "Electrical Contractors", "Mechanical",
                                      "Roofing", "Civil Constructors")),
    "Aviation and Aerospace": ("Aerospace", ("Aerospace", "Aviation Services", "Avionics",
                                             "Aircraft Maintenance", "Launch Systems")),
    "Hospitality and Tourism": ("Hospitality", ("Resort", "Hotel Group", "Restaurant Group",
                                                "Attractions", "Cruise Services")),
    "Financial Services": ("Financial Services", ("Credit Union", "Bank", "Insurance Group",
                                                  "Wealth Advisors")),
    "Marine": ("Marine Industries", ("Boatworks", "Marine Services", "Shipyard", "Yacht Services")),
    "Agriculture": ("Agribusiness", ("Citrus Growers", "Farms", "Nurseries", "Cattle Company",
                                     "Packing House")),
}
SUFFIXES = ("Collaborative", "Partnership", "Alliance", "Consortium", "Council",
            "Sector Partnership", "Talent Network", "Workforce Council")
BRANDS = ("Gulfstream", "Coastal", "Sunshine", "Palmetto", "Cypress", "Seminole", "Osprey",
          "Pelican", "Magnolia", "Manatee", "Bayside", "Keystone", "Harbor", "Atlantic",
          "Citrus", "Heron", "Tarpon", "Live Oak", "Suncrest", "Coquina", "Mangrove", "Sabal")
FIRST_NAMES = (
    "Maria", "James", "Ana", "Michael", "Jennifer", "Carlos", "Linda", "David", "Patricia",
    "Luis", "Angela", "Robert", "Yolanda", "Kevin", "Denise", "Jose", "Tamika", "Brian",
    "Sofia", "William", "Keisha", "Daniel", "Rosa", "Anthony", "Nicole", "Marcus", "Elena",
    "Thomas", "Priya", "Jorge", "Lauren", "Andre", "Mei", "Christopher", "Gabriela", "Steven",
    "Monique", "Rafael", "Heather", "Darnell", "Kimberly", "Vivian", "Eric", "Camila", "Gregory",
    "Farah", "Jamal", "Rachel", "Tuan", "Beatriz", "Samuel", "Olivia", "Hector", "Latoya",
)
LAST_NAMES = (
    "Garcia", "Johnson", "Rodriguez", "Smith", "Williams", "Martinez", "Brown", "Hernandez",
    "Jones", "Lopez", "Davis", "Gonzalez", "Miller", "Perez", "Wilson", "Sanchez", "Moore",
    "Rivera", "Taylor", "Torres", "Thomas", "Ramirez", "Jackson", "Flores", "White", "Diaz",
    "Harris", "Cruz", "Martin", "Reyes", "Thompson", "Morales", "Robinson", "Gutierrez", "Clark",
    "Ortiz", "Lewis", "Castillo", "Walker", "Nguyen", "Hall", "Patel", "Young", "Alvarez",
    "King", "Mendoza", "Wright", "Baptiste", "Scott", "Pierre", "Green", "Chen", "Adams",
)
# One partnership whose partners are split (SPEC 15's agreement reads "split"): on these
# elements its business partners choose the lowest levels and the others the highest.
SPLIT_PARTNERSHIP = ("15", "Financial Services")
SPLIT_ELEMENTS = ("industry", "alignment")
# Two weak items for the instrument page (SPEC 15): partners mostly cannot say whether
# funding is steady (don't know), and read "collected in the same way" each their own
# way (answers unrelated to the rest of the element). Drawn from their own generator.
UNKNOWN_ITEM = ("measured-4", 0.35)
NOISY_ITEM = "measured-7"
ELEMENT_EFFECT = {"data": -0.1, "vision": 0.25, "industry": 0.15, "alignment": -0.15,
                  "services": -0.2, "measured": -0.35}
COMMENTS = {
    "data": ("We reviewed the regional labor market report together at the spring meeting.",
             "Employer surveys are done but the results have not been shared with partners yet."),
    "vision": ("The shared vision statement was adopted by all partners last year.",
               "Partners agree on the goal but not yet on the region it covers."),
    "industry": ("Business co-chairs set the agenda and run the meetings.",
                 "Industry attendance drops after the first quarter; staff still drive it."),
    "alignment": ("The college added a certificate after the partnership asked for it.",
                  "I don't know how the other agencies have changed their budgets."),
    "services": ("Job seekers now get referred straight to employer hiring events.",
                 "Services have not changed much from my side of the table."),
    "measured": ("We track hires and wage gains each quarter.",
                 "There is no agreed set of measures yet."),
}


@dataclass
class DemoResult:
    """What the demo built: counts, a few partner tokens and the staff logins."""

    boards: int = 0
    partnerships: int = 0
    members: int = 0
    invitations: int = 0
    answers: int = 0
    comments: int = 0
    seconds: float = 0.0
    links: list[tuple[str, str]] = field(default_factory=list)  # (who, token)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (email, role, password)


def demo_state(session: Session) -> str:
    """'empty' (no partnerships, cycles or users), 'demo' (the demo is loaded) or 'other'."""
    if session.execute(select(User.id).where(User.email == DEMO_ADMIN)).first() and \
            session.execute(select(Cycle.id).where(Cycle.name == OPEN_CYCLE)).first():
        return "demo"
    for model in (Partnership, Cycle, User):
        if session.execute(select(model.id).limit(1)).first():
            return "other"
    return "empty"


def wipe_database(session: Session) -> None:
    """Delete every row of every table, then load the default boards again."""
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "boards":
            session.execute(table.update().values(merged_into_id=None))
        session.execute(delete(table))
    session.flush()
    load_default_boards(session)


def build_demo(session: Session, questionnaire: Questionnaire, seed: int = DEMO_SEED,
               today: dt.date | None = None) -> DemoResult:
    """Fill an empty database with the demo; add and flush only."""
    started = time.perf_counter()
    rng = random.Random(seed)
    today = today or site_today()
    result = DemoResult()
    boards = list(session.execute(
        select(Board).where(Board.status == BoardStatus.ACTIVE).order_by(Board.code)).scalars())
    result.boards = len(boards)

    partnerships = _partnerships(session, rng, boards)
    members = _rosters(session, rng, partnerships)
    session.flush()
    result.partnerships, result.members = len(partnerships), sum(len(m) for m in members.values())

    cycles = [_cycle(session, questionnaire, name, opens, closes, CycleStatus.CLOSED)
              for name, opens, closes in CLOSED_CYCLES]
    cycles.append(_cycle(session, questionnaire, OPEN_CYCLE, today - dt.timedelta(days=21),
                         today + dt.timedelta(days=42), CycleStatus.OPEN))
    levels = _maturity(rng, partnerships)
    # Some partnerships started later: about one in seven has no 2024, a few only 2026.
    first_cycle = {p.id: 0 if rng.random() > 0.15 else (1 if rng.random() > 0.3 else 2)
                   for p in partnerships}
    low_response = {(p.id, c): rng.random() < 0.1 for p in partnerships for c in range(3)}

    answers: list[dict[str, object]] = []
    comments: list[dict[str, object]] = []
    open_pending: list[tuple[Invitation, Member]] = []
    for index, cycle in enumerate(cycles):
        is_open = cycle.status == CycleStatus.OPEN
        last_day = min(today, cycle.closes_on) if is_open else cycle.closes_on
        invitations: list[tuple[Invitation, Member, dict[str, float]]] = []
        for partnership in partnerships:
            if first_cycle[partnership.id] > index:
                continue
            participation = Participation(
                cycle=cycle, partnership=partnership, board=partnership.board,
                board_code=partnership.board.code, board_name=partnership.board.name,
                partnership_name=partnership.name, sector=partnership.sector)
            roster = members[partnership.id]
            if low_response[(partnership.id, index)]:
                submitting = rng.choice((1, 2))  # too few to report: suppressed
            else:
                rate = rng.uniform(0.35, 0.6) if is_open else rng.uniform(0.55, 0.9)
                submitting = max(3, round(rate * len(roster)))
            drafting = 0.4 if is_open else 0.1
            for position, member in enumerate(rng.sample(roster, len(roster))):
                status = (InvitationStatus.SUBMITTED if position < submitting else
                          InvitationStatus.IN_PROGRESS if rng.random() < drafting
                          else InvitationStatus.NOT_STARTED)
                invitation = _invitation(rng, cycle, member, participation, status, last_day)
                session.add(invitation)
                invitations.append((invitation, member, levels[partnership.id][index]))
                if is_open and status != InvitationStatus.SUBMITTED:
                    open_pending.append((invitation, member))
        session.flush()
        for invitation, member, maturity in invitations:
            if invitation.status != InvitationStatus.NOT_STARTED:
                _answer(rng, questionnaire, invitation, member, maturity, answers, comments)
    session.execute(insert(Answer), answers)
    if comments:
        session.execute(insert(Comment), comments)
    result.invitations = sum(1 for _ in session.execute(select(Invitation.id)))
    result.answers, result.comments = len(answers), len(comments)

    _regions(session, seed, boards, partnerships, cycles[:-1])
    result.links = _links(session, rng, [invitation for invitation, _ in open_pending])
    result.logins = _logins(session, boards)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # the planner's row counts for the rows just written (autovacuum has not seen them;
        # without them the item statistics' join runs for minutes)
        session.execute(text("ANALYZE"))
    from survey.releases import publish_missing

    publish_missing(session, "demo")  # the closed cycles' release 1 (SPEC 4b.1)
    result.seconds = time.perf_counter() - started
    return result


def renew_demo_access(session: Session, seed: int = DEMO_SEED) -> DemoResult:
    """For a demo already loaded: fresh links for unfinished partners of the open cycle,
    and new passwords for the demo logins (passwords are stored hashed, so they cannot be
    shown again)."""
    pending = session.execute(
        select(Invitation).join(Invitation.cycle)
        .where(Cycle.name == OPEN_CYCLE, Invitation.status != InvitationStatus.SUBMITTED)
        .order_by(Invitation.id)
    ).scalars().all()
    boards = list(session.execute(
        select(Board).where(Board.status == BoardStatus.ACTIVE).order_by(Board.code)).scalars())
    result = DemoResult(links=_links(session, random.Random(seed), list(pending)),
                        logins=_logins(session, boards))
    session.flush()
    return result


def _links(session: Session, rng: random.Random,
           pending: list[Invitation]) -> list[tuple[str, str]]:
    """Fresh tokens for two partners in progress, three not started and one who reads
    Spanish (their pages and emails are in Spanish): (who, token)."""
    drafts = [i for i in pending if i.status == InvitationStatus.IN_PROGRESS]
    fresh = [i for i in pending if i.status == InvitationStatus.NOT_STARTED]
    chosen = rng.sample(drafts, min(2, len(drafts))) + rng.sample(fresh, min(3, len(fresh)))
    chosen += [i for i in pending if i.member.language == "es" and i not in chosen][:1]
    links = []
    for invitation in chosen:
        member = invitation.member
        who = f"{member.name} ({member.partnership.name}, {invitation.status.replace('_', ' ')}"
        who += ", en español)" if member.language == "es" else ")"
        links.append((who, add_token(session, invitation)))
    return links


def _partnerships(session: Session, rng: random.Random, boards: list[Board]) -> list[Partnership]:
    created = []
    for board in boards:
        region, _, favoured = REGIONS.get(board.code, (board.name, board.name, ()))
        others = [s for s in SECTORS if s not in favoured]
        rng.shuffle(others)
        sectors = [*favoured, *others][: rng.randint(2, 5)]
        for sector in sectors:
            name = f"{region} {SECTORS[sector][0]} {rng.choice(SUFFIXES)}"
            partnership = Partnership(board=board, name=name, sector=sector)
            session.add(partnership)
            created.append(partnership)
    return created


def _partner_types(rng: random.Random, size: int) -> list[str]:
    business = max(2, round(size * 0.4 + rng.uniform(-1, 1)))
    others = ["workforce", "education", "economic_development", "community", "education", "labor",
              "other", "workforce", "community", "education", "economic_development"]
    rest = others[:2] + rng.sample(others[2:], len(others) - 2)
    return ["business"] * business + rest[: size - business]


def _organization(rng: random.Random, partner_type: str, sector: str, board: Board) -> str:
    region, city, _ = REGIONS.get(board.code, (board.name, board.name, ()))
    local = rng.randint(100, 999)
    choices = {
        "business": [f"{rng.choice(BRANDS)} {rng.choice(SECTORS[sector][1])}"],
        "workforce": [board.name, f"{region} Workforce Development Board"],
        "education": [f"{city} State College", f"{region} Technical College",
                      f"{city} Public Schools", f"{region} University"],
        "economic_development": [f"{region} Economic Development Council",
                                 f"{city} Chamber of Commerce"],
        "labor": [f"IBEW Local {local}", f"Carpenters Local {local}",
                  f"SEIU Florida Local {local}", "Florida AFL-CIO"],
        "community": [f"Goodwill Industries of {region}", f"United Way of {region}",
                      f"{city} Urban League", f"{city} Literacy Council"],
        "other": [f"City of {city}", f"{region} Regional Planning Council"],
    }
    return rng.choice(choices[partner_type])


def _rosters(session: Session, rng: random.Random,
             partnerships: list[Partnership]) -> dict[int, list[Member]]:
    session.flush()
    rosters: dict[int, list[Member]] = {}
    serial = 0
    for partnership in partnerships:
        roster = []
        for partner_type in _partner_types(rng, rng.randint(6, 14)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            serial += 1
            domain = rng.choice(("example.org", "example.com", "example.net"))
            member = Member(
                partnership=partnership, name=f"{first} {last}", partner_type=partner_type,
                email=f"{first}.{last}.{serial}@{domain}".lower(),
                organization=_organization(rng, partner_type, partnership.sector,
                                           partnership.board),
                # One partner in five reads Spanish first (the roster's language column).
                language="es" if serial % 5 == 0 else None)
            session.add(member)
            roster.append(member)
        rosters[partnership.id] = roster
    return rosters


def _cycle(session: Session, questionnaire: Questionnaire, name: str, opens: dt.date,
           closes: dt.date, status: str) -> Cycle:
    opened = dt.datetime.combine(opens, dt.time(9), tzinfo=dt.UTC)
    closed = dt.datetime.combine(closes, dt.time(17), tzinfo=dt.UTC)
    cycle = Cycle(name=name, opens_on=opens, closes_on=closes, status=status,
                  content=questionnaire.to_dict(), content_hash=questionnaire.content_hash,
                  opened_at=opened, closed_at=closed if status == CycleStatus.CLOSED else None,
                  published_at=closed if status == CycleStatus.CLOSED else None)
    session.add(cycle)
    return cycle


def _maturity(rng: random.Random,
              partnerships: list[Partnership]) -> dict[int, list[dict[str, float]]]:
    """Each partnership's expected level per element in each cycle (2024, 2025, 2026)."""
    levels = {}
    for partnership in partnerships:
        code = partnership.board.code
        base = 2.05 + STRONG_BOARDS.get(code, 0.0) + WEAK_BOARDS.get(code, 0.0) + rng.gauss(0, 0.3)
        trend = rng.gauss(-0.3, 0.15) if rng.random() < 0.12 else rng.gauss(0.35, 0.15)
        cycles = []
        for index in range(3):
            cycles.append({key: base + effect + trend * index + rng.gauss(0, 0.15)
                           for key, effect in ELEMENT_EFFECT.items()})
        levels[partnership.id] = cycles
    return levels


def _invitation(rng: random.Random, cycle: Cycle, member: Member, participation: Participation,
                status: str, last_day: dt.date) -> Invitation:
    span = max((last_day - cycle.opens_on).days, 0)
    started = dt.datetime.combine(cycle.opens_on + dt.timedelta(days=rng.randint(0, span)),
                                  dt.time(rng.randint(8, 18), rng.randint(0, 59)), tzinfo=dt.UTC)
    invited = dt.datetime.combine(cycle.opens_on, dt.time(8), tzinfo=dt.UTC)
    active = status != InvitationStatus.NOT_STARTED
    return Invitation(
        cycle=cycle, member=member, participation=participation, status=status,
        partner_type=member.partner_type, source="web", invited_at=invited, emailed_at=invited,
        started_at=started if active else None, updated_at=started if active else None,
        submitted_at=started if status == InvitationStatus.SUBMITTED else None)


def _answer(rng: random.Random, questionnaire: Questionnaire, invitation: Invitation,
            member: Member, maturity: dict[str, float], answers: list[dict[str, object]],
            comments: list[dict[str, object]]) -> None:
    submitted = invitation.status == InvitationStatus.SUBMITTED
    values = questionnaire.scale.values
    offset = rng.gauss(0, 0.35)
    business = member.partner_type == "business"
    partnership = member.partnership
    split = (partnership.board.code, partnership.sector) == SPLIT_PARTNERSHIP
    # A draft stops part-way through the questionnaire.
    elements = questionnaire.elements if submitted else \
        questionnaire.elements[: rng.randint(1, len(questionnaire.elements) - 1)]
    for element in elements:
        unsure = business and element.key in ("alignment", "services")
        dont_know = 0.2 if unsure else 0.03
        mean = maturity[element.key] + offset
        if business:  # employers judge more strictly, above all how industry-led it is
            mean -= 0.15 + (0.25 if element.key == "industry" else 0.0) + (0.15 if unsure else 0.0)
        for item in element.items:
            draw = rng.random()
            level: int | None = None
            special: str | None = None
            if draw < dont_know:
                special = "DK"
            elif draw < dont_know + 0.025:
                special = "NA"
            elif draw < dont_know + 0.035:
                continue  # left unanswered
            else:
                level = min(max(round(mean + rng.gauss(0, 0.55)), values[0]), values[-1])
                if split and element.key in SPLIT_ELEMENTS:  # same draws, so nothing else moves
                    level = values[0] + draw_parity(draw) if business else \
                        values[-1] - draw_parity(draw)
                if item.code in (UNKNOWN_ITEM[0], NOISY_ITEM):
                    level, special = _weak_item(invitation.id, item.code, values, level)
            answers.append({"invitation_id": invitation.id, "element_key": element.key,
                            "item_code": item.code, "level": level, "special": special,
                            "updated_at": invitation.updated_at})
        if submitted and element.key in COMMENTS and rng.random() < 0.08:
            comments.append({"invitation_id": invitation.id, "element_key": element.key,
                             "text": rng.choice(COMMENTS[element.key])})


def _weak_item(invitation_id: int, code: str, values: tuple[int, ...],
               level: int) -> tuple[int | None, str | None]:
    """The answer to one of the two weak items, from a generator of its own."""
    own = random.Random(f"{invitation_id}:{code}")
    if code == UNKNOWN_ITEM[0]:
        return (None, "DK") if own.random() < UNKNOWN_ITEM[1] else (level, None)
    return own.choice(values), None


def draw_parity(draw: float) -> int:
    """0 or 1 from a draw already made (the split partnership's answers use no new draws)."""
    return int(draw * 1000) % 2


def _logins(session: Session, boards: list[Board]) -> list[tuple[str, str, str]]:
    from survey.services.accounts import create_user, find_user, reset_password

    lead_board = next((b for b in boards if b.code == "15"), boards[0] if boards else None)
    wanted = [(DEMO_ADMIN, Role.ADMIN, None), ("state@example.org", Role.STATE, None)]
    if lead_board is not None:
        wanted.append((f"lead{lead_board.code}@example.org", Role.BOARD, lead_board))
    logins = []
    for email, role, board in wanted:
        user = find_user(session, email)
        if user is None:
            password = secrets.token_urlsafe(12)
            create_user(session, email, password, role, board=board)
        else:
            password = reset_password(session, user)
        label = f"board lead, board {board.code}" if board is not None else role.value
        logins.append((email, label, password))
    return logins


# SPEC 16 in the demo: partnerships that span boards, target industries, outcomes. Drawn
# from a generator of their own, so the rest of the demo is the same as before them.
SHARED = (("03", ("04", "05")),)  # lead board, the boards it spans
EXTRA_TARGETS = ("Energy", "Life Sciences", "Defense and Homeland Security", "Construction")


def _regions(session: Session, seed: int, boards: list[Board], partnerships: list[Partnership],
             closed: list[Cycle]) -> None:
    """Two shared partnerships, each board's target industries, and outcome figures for
    about two in three partnerships in each closed cycle."""
    rng = random.Random(seed + 16)
    by_code = {b.code: b for b in boards}
    for lead, others in SHARED:
        led = sorted((p for p in partnerships if p.board.code == lead), key=lambda p: p.name)
        if not led or not all(code in by_code for code in others):
            continue
        session.add_all(PartnershipBoard(partnership_id=led[0].id, board_id=by_code[c].id)
                        for c in others)
        session.execute(update(Participation).where(
            Participation.partnership_id == led[0].id).values(also_boards=" ".join(others)))
    for board in boards:
        favoured = list(REGIONS.get(board.code, ("", "", ()))[2])
        names = favoured + [rng.choice(EXTRA_TARGETS)]
        codes = {s.code for s in (find_sector(n) for n in names) if s is not None}
        session.add_all(BoardTarget(board_id=board.id, sector_code=c) for c in sorted(codes))
    taking_part = {(c, p) for c, p in session.execute(
        select(Participation.cycle_id, Participation.partnership_id))}
    for partnership in partnerships:
        scale = rng.uniform(0.5, 2.0)
        for step, cycle in enumerate(closed):
            if (cycle.id, partnership.id) not in taking_part or rng.random() > 0.67:
                continue
            growth = 1 + 0.15 * step + rng.uniform(-0.1, 0.1)
            trained = round(40 * scale * growth)
            values = {"employers_engaged": round(12 * scale * growth),
                      "job_seekers_trained": trained,
                      "credentials_earned": round(trained * rng.uniform(0.5, 0.9)),
                      "placements": round(trained * rng.uniform(0.4, 0.8)),
                      "median_wage": round(rng.uniform(15.5, 26.0) + step * 0.6, 2),
                      "retention_6_months": round(rng.uniform(62, 88), 1)}
            hidden = rng.random() < 0.1  # the wage records provider suppressed a small count
            session.add_all(OutcomeValue(
                partnership_id=partnership.id, cycle_id=cycle.id, measure_key=key,
                value=None if hidden and key == "retention_6_months" else value,
                suppressed=hidden and key == "retention_6_months",
                source="State wage records" if key in ("median_wage", "retention_6_months")
                else "Partnership report", updated_by="demo") for key, value in values.items())
    session.flush()
