"""Demo data: two fictional initiatives with three years of believable, reproducible history.

Everything is generated from one seeded ``random.Random`` per stream (never the global one, never
the clock), so the same seed always yields the same rows, and tests can compare checksums. The
numbers are built cell by cell over the cross-tab of every dimension, so each breakdown adds up to
its total exactly, as the data rules require (design §3). Values go in through bulk inserts: the
ORM unit of work is ~20× slower for tens of thousands of rows (design §8).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import product
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.auth import RoleGrant, User
from models.errors import Conflict
from models.indicator import (
    TOTAL,
    Category,
    Dimension,
    Indicator,
    IndicatorTarget,
    Obligation,
    Outcome,
)
from models.initiative import Initiative, Member, Period
from models.organisation import Organisation
from models.passwords import hash_password
from models.reporting import Submission, Value
from models.rollup_table import rebuild as rebuild_rollups

DEMO_PASSWORD = "common-measure-demo"
DEMO_DOMAIN = "demo.test"  # users: *@demo.test, *@<org>.demo.test; organisations' websites too
OUTLIER_FLAG = "outlier"

Progress = Callable[[str, int, int], None]

# Fixed dates: the demo never looks at the clock.
LAUNCH = date(2023, 7, 1)
EPOCH = datetime(2023, 7, 1, 15, 0, tzinfo=UTC)  # created_at of the set-up rows
FIRST_QUARTER = (2023, 4)
HISTORY_QUARTERS = 12  # 2023Q4 … 2026Q3 carry data
ALL_QUARTERS = 17  # … plus 2026Q4 (open) and 2027Q1 … 2027Q4 (targets)
TARGET_STEP = ALL_QUARTERS - 1  # 2027Q4, the end target, is 16 quarters after the baseline
INTERIM_STEPS = (4, 8, 12)  # 2024Q4, 2025Q4, 2026Q4
UNLOCKED_HISTORY = 2  # the latest two past periods can still be corrected


# --- specification of the demo ----------------------------------------------------------------


@dataclass(frozen=True)
class _Cat:
    code: str
    name: str
    share: float  # typical share of the population
    adv: float = 0.0  # advantage in percentage points: the equity gap the demo shows


@dataclass(frozen=True)
class _Dim:
    code: str
    name: str
    cats: tuple[_Cat, ...]
    concentration: float = 80.0  # how alike partners' mixes are (Dirichlet concentration)
    # For two-category dimensions that depend on another (income on race): the first category's
    # share for each category of that dimension.
    given: str | None = None
    given_first_share: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ind:
    code: str
    outcome: str
    name: str
    definition: str
    unit: str
    measure_type: str
    data_source: str
    dims: tuple[str, ...] = ()
    direction: str = "higher"
    start: float = 0.0  # typical level at the baseline (rates, averages)
    change: float = 0.0  # improvement by the end target: points (rate, average) or share (count)
    spread: float = 0.0  # how far partners sit from each other
    gap: float = 0.0  # scales the categories' advantages
    noise: float = 0.05  # quarter-to-quarter noise: points, or a share for counts
    cell_sd: float = 0.0  # averages: spread of individuals around a category's mean
    size_noise: float = 0.03
    decimals: int = 1
    valid_min: float | None = 0.0
    valid_max: float | None = None
    season: tuple[float, float, float, float] | None = None  # multiplier by quarter of year
    weather: bool = False  # follows the summer's heat (extreme-heat counts)

    @property
    def outlier_eligible(self) -> bool:
        """Seasonal series swing by design, so a planted outlier would not stand out."""
        return self.season is None and not self.weather


@dataclass(frozen=True)
class _Org:
    slug: str
    name: str
    sector: str
    description: str


@dataclass(frozen=True)
class _Mem:
    org: str
    reports: Mapping[str, float]  # indicator code → cohort size or quarterly count at full scale
    lateness: float = 0.1
    joined: date = LAUNCH
    shares_with_funders: bool = True
    shift: float = 0.0  # shifts the first category of a dependent dimension (low income)


@dataclass(frozen=True)
class _Init:
    slug: str
    name: str
    description: str
    region: str
    outcomes: tuple[tuple[str, str, str], ...]
    dims: tuple[_Dim, ...]
    indicators: tuple[_Ind, ...]
    members: tuple[_Mem, ...]
    outliers: int
    suppression_threshold: int = 10


# fmt: off
def _pct(code: str, outcome: str, name: str, definition: str, source: str, **kw: Any) -> _Ind:
    return _Ind(
        code, outcome, name, definition, "%", "rate", source, valid_max=100.0, **kw
    )


def _count(code: str, outcome: str, name: str, definition: str, unit: str, source: str,
           **kw: Any) -> _Ind:
    return _Ind(code, outcome, name, definition, unit, "count", source, decimals=0, **kw)


GENDER = _Dim(
    "gender",
    "Gender",
    (
        _Cat("female", "Female", 0.488, 2.0),
        _Cat("male", "Male", 0.490, -2.0),
        _Cat("nonbinary", "Non-binary", 0.022, -1.0),
    ),
    concentration=2000.0,
)
RACE = _Dim(
    "race",
    "Race/ethnicity",
    (
        _Cat("asian", "Asian", 0.05, 5.0),
        _Cat("black", "Black", 0.28, -9.0),
        _Cat("hispanic", "Hispanic or Latino", 0.17, -6.0),
        _Cat("native", "American Indian or Alaska Native", 0.01, -8.0),
        _Cat("white", "White", 0.41, 8.0),
        _Cat("multiracial", "Multiracial or another race", 0.08, 0.0),
    ),
)
INCOME = _Dim(
    "income",
    "Family income",
    (_Cat("low", "Low income", 0.45, -8.0), _Cat("not_low", "Not low income", 0.55, 6.0)),
    given="race",
    given_first_share={
        "asian": 0.32,
        "black": 0.66,
        "hispanic": 0.62,
        "native": 0.64,
        "white": 0.28,
        "multiracial": 0.48,
    },
)
AGE = _Dim(
    "age",
    "Age group",
    (
        _Cat("under_18", "Under 18", 0.14),
        _Cat("18_to_64", "18 to 64", 0.58),
        _Cat("65_plus", "65 and over", 0.28),
    ),
    concentration=150.0,
)
ALL3 = ("race", "income", "gender")

_SCHOOL = "District student information system and state assessment files"
CRADLE = _Init(
    slug="cradle-to-career",
    name="Cradle to Career",
    description=(
        "Partners across Riverbend (a fictional city) sharing one scorecard from early childhood "
        "to a first career. Demo data: every name and number is made up."
    ),
    region="Riverbend metro area (fictional)",
    suppression_threshold=10,
    outliers=6,
    outcomes=(
        ("kindergarten_readiness", "Kindergarten readiness",
         "Children enter kindergarten ready to learn."),
        ("early_grade_reading", "3rd-grade reading",
         "Students read at grade level by the end of 3rd grade."),
        ("middle_grade_math", "8th-grade math", "Students are proficient in math by 8th grade."),
        ("high_school_graduation", "High-school graduation",
         "Students graduate from high school on time."),
        ("postsecondary_enrollment", "Post-secondary enrolment",
         "Graduates enrol in college or a training programme."),
        ("postsecondary_completion", "Post-secondary completion",
         "Students complete a degree or credential."),
        ("employment", "Employment", "Young adults find a job with a living wage."),
    ),
    dims=(RACE, INCOME, GENDER),
    indicators=(
        _pct("K_READY", "kindergarten_readiness", "Kindergartners ready for school",
             "Share of children leaving the partner's pre-kindergarten programme who meet every "
             "domain of the state kindergarten readiness assessment at kindergarten entry.",
             "State kindergarten readiness assessment, matched to partner rosters",
             dims=ALL3, start=46, change=12, spread=6, gap=1.0, noise=1.2),
        _count("EC_ENROLLED", "kindergarten_readiness", "Children in quality early learning",
               "Children aged 0-5 enrolled during the quarter in a programme rated three stars "
               "or more in the state quality rating system.", "children",
               "Partner enrolment records", dims=("race", "income"), change=0.2, noise=0.05),
        _count("WELL_CHILD", "kindergarten_readiness", "Well-child visits (ages 0-5)",
               "Well-child visits completed for children aged 0-5 during the quarter.", "visits",
               "Health-system electronic health record extract", dims=("race", "income"),
               change=0.15, noise=0.06),
        _count("HOME_VISITS", "kindergarten_readiness", "Home visits completed",
               "Home visits to families with children under 3 completed by trained visitors.",
               "visits", "Home-visiting case management system", change=0.25, noise=0.07),
        _pct("READ_G3", "early_grade_reading", "Third graders reading at grade level",
             "Share of tested 3rd graders scoring at or above grade level on the quarterly "
             "district reading benchmark.", _SCHOOL,
             dims=ALL3, start=39, change=11, spread=7, gap=1.2, noise=1.3),
        _count("TUTOR_SESSIONS", "early_grade_reading", "Reading tutoring sessions delivered",
               "One-to-one or small-group reading sessions of at least 30 minutes for K-3 "
               "students.", "sessions", "Partner attendance logs", change=0.3, noise=0.08),
        _pct("MATH_G8", "middle_grade_math", "Eighth graders proficient in math",
             "Share of tested 8th graders scoring proficient or above on the quarterly district "
             "math benchmark.", _SCHOOL,
             dims=ALL3, start=27, change=10, spread=6, gap=1.1, noise=1.2),
        _Ind("MATH_G8_SCORE", "middle_grade_math", "Average 8th-grade math scale score",
             "Mean scale score of tested 8th graders on the district math benchmark, weighted "
             "by the number of students tested.", "points", "average", _SCHOOL,
             dims=ALL3, start=231, change=9, spread=5, gap=0.9, noise=1.0, cell_sd=24,
             valid_min=150, valid_max=350),
        _count("MATH_TUTOR_STUDENTS", "middle_grade_math", "Students receiving math tutoring",
               "Middle-school students who attended at least four math tutoring sessions in "
               "the quarter.", "students", "Partner attendance logs", dims=ALL3, change=0.35,
               noise=0.06),
        _pct("GRAD_4YR", "high_school_graduation", "Four-year cohort graduation rate",
             "Share of the four-year cohort graduating with a regular diploma (rolling four "
             "quarters).", _SCHOOL, dims=ALL3, start=78, change=8, spread=5, gap=0.8, noise=0.8),
        _pct("CHRONIC_ABSENT", "high_school_graduation", "Chronically absent students",
             "Share of enrolled K-12 students who missed 10% or more of school days so far "
             "this school year.", _SCHOOL, dims=ALL3, direction="lower", start=27, change=8,
             spread=5, gap=0.8, noise=1.0),
        _count("MENTORED_YOUTH", "high_school_graduation", "Youth matched with a mentor",
               "Young people aged 12-18 in an active mentoring match during the quarter.",
               "youth", "Partner mentoring database", dims=("race", "gender"), change=0.2,
               noise=0.06),
        _pct("FAFSA_DONE", "postsecondary_enrollment", "Seniors completing the FAFSA",
             "Share of high-school seniors who submitted the Free Application for Federal "
             "Student Aid, cumulative for the school year.", "Federal Student Aid completion "
             "data, matched by partner", dims=("race", "income"), start=52, change=13,
             spread=7, gap=0.9, noise=1.5),
        _pct("PS_ENROLL", "postsecondary_enrollment", "Graduates enrolling in post-secondary",
             "Share of the previous year's graduates enrolled in a two- or four-year college "
             "or a registered apprenticeship.", "National student records match",
             dims=ALL3, start=55, change=10, spread=6, gap=1.0, noise=1.1),
        _pct("PS_RETAIN", "postsecondary_completion", "First-year students retained",
             "Share of first-year students enrolled again in their second year.",
             "Institutional research office", dims=ALL3, start=63, change=8, spread=6, gap=0.9,
             noise=1.0),
        _pct("PS_COMPLETE", "postsecondary_completion", "Students completing a credential",
             "Share of an entering cohort completing a certificate or degree within 150% of "
             "normal time.", "Institutional research office", dims=ALL3, start=38, change=9,
             spread=9, gap=1.1, noise=1.0),
        _pct("EMP_PLACED", "employment", "Training completers employed within six months",
             "Share of training or credential completers employed in unsubsidised jobs six "
             "months after completing.", "State wage records match", dims=ALL3, start=61,
             change=10, spread=6, gap=0.7, noise=1.4),
        _Ind("EMP_WAGE", "employment", "Average starting hourly wage",
             "Mean starting hourly wage of placed completers, weighted by the number placed.",
             "USD per hour", "average", "State wage records match", dims=("race", "gender"),
             start=17.8, change=2.2, spread=1.2, gap=0.12, noise=0.3, cell_sd=4.0, decimals=2,
             valid_min=7.25, valid_max=75),
        _count("INTERNSHIPS", "employment", "Paid internships provided",
               "Paid internships of at least 120 hours for students and young adults aged "
               "16-24.", "internships", "Employer HR records", dims=("race", "gender"),
               change=0.4, noise=0.1),
    ),
    members=(
        _Mem("riverbend-public-schools",
             {"READ_G3": 3200, "MATH_G8": 2900, "MATH_G8_SCORE": 2800, "CHRONIC_ABSENT": 36000,
              "GRAD_4YR": 2500, "PS_ENROLL": 2300, "FAFSA_DONE": 2600}, lateness=0.25,
             shift=0.12),
        _Mem("north-valley-unified",
             {"READ_G3": 1400, "MATH_G8": 1350, "MATH_G8_SCORE": 1300, "CHRONIC_ABSENT": 16500,
              "GRAD_4YR": 1200, "PS_ENROLL": 1100}, lateness=0.1, shift=-0.05),
        _Mem("east-hills-school-district",
             {"READ_G3": 880, "MATH_G8": 900, "MATH_G8_SCORE": 870, "CHRONIC_ABSENT": 10800,
              "GRAD_4YR": 820, "PS_ENROLL": 760}, lateness=0.05, shift=-0.18),
        _Mem("cedar-grove-charter-network",
             {"READ_G3": 420, "MATH_G8": 380, "MATH_G8_SCORE": 370, "CHRONIC_ABSENT": 4600,
              "GRAD_4YR": 300, "PS_ENROLL": 280}, lateness=0.15, shift=0.15),
        _Mem("bright-start-early-learning", {"K_READY": 260, "EC_ENROLLED": 1150},
             lateness=0.1),
        _Mem("riverbend-head-start", {"K_READY": 340, "EC_ENROLLED": 1600}, lateness=0.2,
             shift=0.3),
        _Mem("little-oaks-preschool-collaborative", {"K_READY": 120, "EC_ENROLLED": 480},
             lateness=0.3),
        _Mem("riverbend-parks-and-recreation", {"MENTORED_YOUTH": 210}, lateness=0.35),
        _Mem("riverbend-public-library", {"TUTOR_SESSIONS": 1800}, lateness=0.1),
        _Mem("riverbend-office-of-workforce-development", {"EMP_PLACED": 240},
             lateness=0.15, shift=0.1),
        _Mem("read-together-riverbend", {"TUTOR_SESSIONS": 5200}, lateness=0.1),
        _Mem("math-bridges", {"MATH_TUTOR_STUDENTS": 420}, lateness=0.15,
             joined=date(2024, 7, 1), shift=0.15),
        _Mem("youth-forward-riverbend", {"MENTORED_YOUTH": 380}, lateness=0.2, shift=0.1),
        _Mem("college-path-advising", {"FAFSA_DONE": 900, "PS_ENROLL": 850}, lateness=0.1,
             shift=0.2),
        _Mem("family-connections-network", {"HOME_VISITS": 2100}, lateness=0.2, shift=0.25),
        _Mem("next-step-workforce-alliance", {"EMP_PLACED": 310, "EMP_WAGE": 190},
             lateness=0.15, shift=0.2),
        _Mem("riverbend-community-college",
             {"PS_RETAIN": 2400, "PS_COMPLETE": 1900, "EMP_PLACED": 600, "EMP_WAGE": 380},
             lateness=0.1, shift=0.1),
        _Mem("university-of-riverbend", {"PS_RETAIN": 4100, "PS_COMPLETE": 3600},
             lateness=0.05, shift=-0.12),
        _Mem("meridian-manufacturing", {"INTERNSHIPS": 45}, lateness=0.2,
             shares_with_funders=False),
        _Mem("first-riverbend-bank", {"INTERNSHIPS": 30}, lateness=0.1),
        _Mem("riverbend-regional-chamber", {"INTERNSHIPS": 140}, lateness=0.15),
        _Mem("riverbend-childrens-health", {"WELL_CHILD": 5400}, lateness=0.1,
             shares_with_funders=False),
        _Mem("greater-riverbend-community-foundation", {}),
        _Mem("united-way-of-greater-riverbend", {}),
        _Mem("harbor-light-foundation", {}),
    ),
)

_HEAT_SEASON = (0.08, 0.55, 1.0, 0.2)
HEAT = _Init(
    slug="extreme-heat",
    name="Phoenix Extreme Heat",
    description=(
        "Fictional partners in the Phoenix area working to keep people safe in extreme heat. "
        "Demo data: every name and number is made up."
    ),
    region="Phoenix metropolitan area, Arizona (fictional partners)",
    outliers=2,
    outcomes=(
        ("fewer_heat_illnesses", "Fewer heat illnesses",
         "Fewer people fall ill or die because of heat."),
        ("cooler_neighbourhoods", "Cooler neighbourhoods",
         "Shade and trees cool the hottest neighbourhoods."),
        ("safe_at_home", "Safe and cool at home", "Every household can keep cool and connected."),
    ),
    dims=(AGE, GENDER),
    indicators=(
        _count("HEAT_ED_VISITS", "fewer_heat_illnesses", "Heat-related emergency visits",
               "Emergency-department visits with a heat-related diagnosis code.", "visits",
               "Hospital emergency-department records", dims=("age", "gender"),
               direction="lower", change=0.2, noise=0.08, season=_HEAT_SEASON, weather=True),
        _count("HEAT_EMS_CALLS", "fewer_heat_illnesses", "Heat-related EMS calls",
               "Emergency medical service calls coded as heat exposure or heat illness.",
               "calls", "County EMS dispatch data", dims=("age",), direction="lower",
               change=0.2, noise=0.08, season=_HEAT_SEASON, weather=True),
        _count("COOLING_VISITS", "safe_at_home", "Cooling-centre visits",
               "Visits to public cooling and respite centres.", "visits",
               "Cooling-centre sign-in sheets", dims=("age", "gender"), change=0.3, noise=0.07,
               season=(0.05, 0.6, 1.0, 0.15), weather=True),
        _count("SHUTOFF_PROTECTED", "safe_at_home", "Households protected from shut-offs",
               "Residential accounts enrolled in summer disconnection protection or bill "
               "assistance at quarter end.", "households", "Utility billing system",
               change=0.25, noise=0.04),
        _pct("AC_WORKING", "safe_at_home", "Assisted homes with working cooling",
             "Share of assisted households whose air conditioning or evaporative cooler works "
             "at the follow-up visit.", "Partner home-visit checklists", start=71, change=14,
             spread=5, noise=2.0),
        _count("TREES_PLANTED", "cooler_neighbourhoods", "Shade trees planted",
               "Shade trees planted in priority neighbourhoods.", "trees",
               "Partner planting logs", change=0.35, noise=0.1, season=(1.0, 0.35, 0.05, 0.9)),
        _pct("TREE_CANOPY", "cooler_neighbourhoods", "Tree canopy cover in priority areas",
             "Tree canopy area as a share of the land area of the priority neighbourhoods "
             "(m² of canopy / m² of land).", "Aerial imagery classification", start=9.4,
             change=2.6, spread=0.6, noise=0.05, size_noise=0.0, decimals=2),
    ),
    members=(
        _Mem("saguaro-county-public-health", {"HEAT_EMS_CALLS": 900}, lateness=0.1),
        _Mem("valley-cities-office-of-heat-response",
             {"COOLING_VISITS": 5200, "TREES_PLANTED": 1400, "TREE_CANOPY": 18_400_000},
             lateness=0.15),
        _Mem("desert-palms-medical-center", {"HEAT_ED_VISITS": 640}, lateness=0.2),
        _Mem("cool-refuge-network", {"COOLING_VISITS": 8800, "AC_WORKING": 450},
             lateness=0.25),
        _Mem("shade-canopy-coalition", {"TREES_PLANTED": 2100}, lateness=0.1),
        _Mem("sonoran-power-and-water", {"SHUTOFF_PROTECTED": 12500, "AC_WORKING": 900},
             lateness=0.05),
        _Mem("harbor-light-foundation", {}),
    ),
)

INITIATIVES = (CRADLE, HEAT)
DEMO_INITIATIVE_SLUGS = tuple(i.slug for i in INITIATIVES)

# Phoenix summers: 2024 set records. Multiplies heat-driven counts by calendar year.
_HEAT_YEARS = {2023: 0.95, 2024: 1.2, 2025: 1.06, 2026: 1.0}

ORGANISATIONS = (
    _Org("riverbend-public-schools", "Riverbend Public Schools", "education",
         "The city's school district, 38,000 students in 61 schools."),
    _Org("north-valley-unified", "North Valley Unified School District", "education",
         "A suburban district north of the river."),
    _Org("east-hills-school-district", "East Hills School District", "education",
         "A district serving the eastern suburbs."),
    _Org("cedar-grove-charter-network", "Cedar Grove Charter Network", "education",
         "Five public charter schools, K-12."),
    _Org("bright-start-early-learning", "Bright Start Early Learning Centers",
         "early_childhood", "Nine child-care and pre-K centres."),
    _Org("riverbend-head-start", "Riverbend Head Start", "early_childhood",
         "Head Start and Early Head Start for income-eligible families."),
    _Org("little-oaks-preschool-collaborative", "Little Oaks Preschool Collaborative",
         "early_childhood", "A network of family child-care homes."),
    _Org("riverbend-parks-and-recreation", "City of Riverbend Parks and Recreation",
         "government", "Runs recreation centres and youth programmes."),
    _Org("riverbend-public-library", "Riverbend Public Library", "government",
         "Twelve branches with reading programmes for young children."),
    _Org("riverbend-office-of-workforce-development",
         "City of Riverbend Office of Workforce Development", "government",
         "Job training and placement for city residents."),
    _Org("read-together-riverbend", "Read Together Riverbend", "nonprofit",
         "Volunteer reading tutors in elementary schools."),
    _Org("math-bridges", "Math Bridges", "nonprofit", "Math tutoring for middle-school students."),
    _Org("youth-forward-riverbend", "Youth Forward Riverbend", "nonprofit",
         "Mentoring and after-school programmes for teens."),
    _Org("college-path-advising", "College Path Advising", "nonprofit",
         "College and financial-aid advising in high schools."),
    _Org("family-connections-network", "Family Connections Network", "community",
         "Home visiting for families with infants and toddlers."),
    _Org("next-step-workforce-alliance", "Next Step Workforce Alliance", "nonprofit",
         "Sector training in health care, IT and advanced manufacturing."),
    _Org("riverbend-community-college", "Riverbend Community College", "higher_education",
         "Two-year college with four campuses."),
    _Org("university-of-riverbend", "University of Riverbend", "higher_education",
         "Public research university."),
    _Org("meridian-manufacturing", "Meridian Manufacturing", "business",
         "Precision parts maker; hosts paid internships."),
    _Org("first-riverbend-bank", "First Riverbend Bank", "business", "Regional bank."),
    _Org("riverbend-regional-chamber", "Riverbend Regional Chamber of Commerce", "business",
         "Brokers internships with member employers."),
    _Org("riverbend-childrens-health", "Riverbend Children's Health System", "health",
         "Children's hospital and 14 paediatric clinics."),
    _Org("greater-riverbend-community-foundation", "Greater Riverbend Community Foundation",
         "philanthropy", "Community foundation; funds the backbone."),
    _Org("united-way-of-greater-riverbend", "United Way of Greater Riverbend", "philanthropy",
         "Funds early-learning and family-stability programmes."),
    _Org("harbor-light-foundation", "Harbor Light Foundation", "philanthropy",
         "A national foundation funding both demo initiatives."),
    _Org("saguaro-county-public-health", "Saguaro County Department of Public Health",
         "government", "Heat surveillance and the county heat-relief network."),
    _Org("valley-cities-office-of-heat-response", "Valley Cities Office of Heat Response",
         "government", "Runs cooling centres and the shade and tree programme."),
    _Org("desert-palms-medical-center", "Desert Palms Medical Center", "health",
         "Hospital with the region's busiest emergency department."),
    _Org("cool-refuge-network", "Cool Refuge Network", "nonprofit",
         "Faith and community cooling centres; home cooling repairs."),
    _Org("shade-canopy-coalition", "Shade Canopy Coalition", "nonprofit",
         "Plants and waters shade trees with neighbours."),
    _Org("sonoran-power-and-water", "Sonoran Power & Water", "business",
         "Electric and water utility."),
)
# fmt: on
DEMO_ORGANISATION_SLUGS = tuple(o.slug for o in ORGANISATIONS)


# --- public interface ---------------------------------------------------------------------------


@dataclass
class DemoSummary:
    initiatives: list[str]
    organisations: int
    users: list[tuple[str, str]]  # (email, role description), printed as the demo logins
    values: int
    submissions: int
    created: bool


def demo_loaded(*, session: Session) -> bool:
    """Whether a demo initiative exists: loading then is a no-op, so first start stays cheap."""
    stmt = select(Initiative.id).where(
        Initiative.is_demo.is_(True), Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)
    )
    return session.scalar(stmt.limit(1)) is not None


def load_demo(
    *, session: Session, seed: int = 2026, progress: Progress | None = None
) -> DemoSummary:
    """Create both demo initiatives, their partners and logins; flush, never commit.

    Idempotent: when the demo is there already nothing changes and ``created`` is False.
    """
    session.flush()
    if demo_loaded(session=session):
        return _summary(session, created=False)
    report = progress or (lambda _step, _done, _total: None)
    orgs = _organisations(session, report)
    users = _users(session, orgs, report)
    for spec in INITIATIVES:
        _Builder(session, spec, seed, orgs, users, report).build()
    # Demo submissions are inserted in bulk, not approved one by one: sum them up once.
    for slug in DEMO_INITIATIVE_SLUGS:
        rebuild_rollups(
            session, session.scalar(select(Initiative.id).where(Initiative.slug == slug))
        )
        _publish_past_year(session, slug)
    return _summary(session, created=True)


PUBLISHED_PERIODS = 4  # the demo publishes the last year of quarters before the current one


def _publish_past_year(session: Session, slug: str) -> None:
    """Publish the quarters before the latest one with approved data, as a backbone team would
    have: funders, partners and the public see published figures only (README, Disclosure)."""
    from models.permissions import SYSTEM
    from models.publishing import publish

    keys = session.scalars(
        select(Period.key)
        .join(Initiative, Initiative.id == Period.initiative_id)
        .where(
            Initiative.slug == slug,
            Period.id.in_(select(Submission.period_id).where(Submission.status == "approved")),
        )
        .order_by(Period.starts_on)
    ).all()
    for key in keys[-PUBLISHED_PERIODS - 1 : -1]:
        publish(
            session=session,
            actor=SYSTEM,
            initiative_slug=slug,
            period_key=key,
            note="Published with the demo.",
            confirm_incomplete=True,
        )


def remove_demo(*, session: Session) -> None:
    """Delete what ``load_demo`` created and nothing else; flush, never commit.

    Values go first: their category foreign key is RESTRICT, so the initiative's cascade could
    otherwise trip over it. Organisations still used by a non-demo initiative are kept.
    """
    session.flush()
    initiative_ids = list(
        session.scalars(select(Initiative.id).where(Initiative.is_demo.is_(True)))
    )
    if initiative_ids:
        _delete(session, delete(Value).where(Value.initiative_id.in_(initiative_ids)))
        _delete(session, delete(Initiative).where(Initiative.id.in_(initiative_ids)))
    still_members = select(Member.organisation_id)
    _delete(
        session,
        delete(Organisation).where(
            Organisation.slug.in_(DEMO_ORGANISATION_SLUGS),
            Organisation.website.like(f"%.{DEMO_DOMAIN}"),
            Organisation.id.not_in(still_members),
        ),
    )
    user_ids = select(User.id).where(_demo_email())
    # The audit trail refuses UPDATE, so ON DELETE SET NULL on actor_user_id would fail: events of
    # the demo's fictional users are removed with them.
    _delete(session, delete(AuditEvent).where(AuditEvent.actor_user_id.in_(user_ids)))
    _delete(session, delete(User).where(_demo_email()))
    _forget_deleted(session)


# --- set-up ---------------------------------------------------------------------------------


def _organisations(session: Session, report: Progress) -> dict[str, Organisation]:
    """All demo partners, shared by both initiatives (a funder is a member of both)."""
    step = "Organisations and logins"
    report(step, 0, 3)
    existing = {
        o.slug: o
        for o in session.scalars(
            select(Organisation).where(Organisation.slug.in_(DEMO_ORGANISATION_SLUGS))
        )
    }
    # A demo organisation kept by remove_demo (a real initiative uses it) is reused; anyone
    # else's organisation or initiative with a demo slug is not ours to touch.
    foreign = {slug for slug, o in existing.items() if not _is_demo_website(o.website)}
    foreign.update(
        session.scalars(select(Initiative.slug).where(Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)))
    )
    if foreign:
        names = ", ".join(sorted(foreign))
        raise Conflict(f"cannot load the demo: these slugs are in use already: {names}")
    orgs = {
        o.slug: existing.get(o.slug)
        or Organisation(
            slug=o.slug,
            name=o.name,
            sector=o.sector,
            description=o.description,
            website=f"https://{o.slug}.{DEMO_DOMAIN}",
            created_at=EPOCH,
        )
        for o in ORGANISATIONS
    }
    session.add_all(orgs.values())
    session.flush()
    report(step, 1, 3)
    return orgs


def _users(session: Session, orgs: Mapping[str, Organisation], report: Progress) -> dict[str, User]:
    """Demo logins keyed by role or organisation slug; argon2 runs once for all of them."""
    step = "Organisations and logins"
    if session.scalar(select(func.count()).select_from(User).where(_demo_email())):
        raise Conflict(f"cannot load the demo: users with @{DEMO_DOMAIN} addresses exist")
    password_hash = hash_password(DEMO_PASSWORD)
    report(step, 2, 3)
    users: dict[str, User] = {}

    def add(key: str, email: str, name: str) -> User:
        users[key] = User(email=email, name=name, password_hash=password_hash, created_at=EPOCH)
        return users[key]

    add("admin", f"admin@{DEMO_DOMAIN}", "Ada Admin (demo)").grants.append(RoleGrant(role="admin"))
    add("backbone", f"backbone@{DEMO_DOMAIN}", "Bea Backbone (demo)")
    add("funder", f"funder@{DEMO_DOMAIN}", "Fred Funder (demo)")
    for slug, org in orgs.items():  # their grants come with the memberships they work through
        add(slug, f"reporter@{slug}.{DEMO_DOMAIN}", f"Reporter, {org.name} (demo)")
    session.add_all(users.values())
    session.flush()
    report(step, 3, 3)
    return users


def _is_demo_website(website: str | None) -> bool:
    return bool(website) and website.endswith(f".{DEMO_DOMAIN}")


def _demo_email() -> Any:
    return or_(User.email.like(f"%@{DEMO_DOMAIN}"), User.email.like(f"%.{DEMO_DOMAIN}"))


def _delete(session: Session, stmt: Any) -> None:
    session.execute(stmt.execution_options(synchronize_session=False))


def _forget_deleted(session: Session) -> None:
    """Drop objects whose rows the bulk deletes removed, so a reload cannot meet stale twins."""
    by_class: dict[type, dict[Any, Any]] = defaultdict(dict)
    for key, obj in list(session.identity_map.items()):
        cls, pk = key[0], key[1]
        if len(pk) == 1:
            by_class[cls][pk[0]] = obj
    for cls, objs in by_class.items():
        column = cls.__mapper__.primary_key[0]
        ids = list(objs)
        alive: set[Any] = set()
        for i in range(0, len(ids), 500):
            alive.update(session.scalars(select(column).where(column.in_(ids[i : i + 500]))))
        for pk, obj in objs.items():
            if pk not in alive and obj in session:
                session.expunge(obj)
    session.expire_all()


def _summary(session: Session, *, created: bool) -> DemoSummary:
    """What is in the database now, so a repeated load reports the same as the first one."""
    initiatives = dict(
        session.execute(
            select(Initiative.slug, Initiative.id).where(
                Initiative.is_demo.is_(True), Initiative.slug.in_(DEMO_INITIATIVE_SLUGS)
            )
        ).all()
    )
    ids = list(initiatives.values())
    values = session.scalar(
        select(func.count()).select_from(Value).where(Value.initiative_id.in_(ids))
    )
    submissions = session.scalar(
        select(func.count()).select_from(Submission).where(Submission.initiative_id.in_(ids))
    )
    organisations = session.scalar(
        select(func.count())
        .select_from(Organisation)
        .where(
            Organisation.slug.in_(DEMO_ORGANISATION_SLUGS),
            Organisation.website.like(f"%.{DEMO_DOMAIN}"),
        )
    )
    rows = session.execute(
        select(User.email, RoleGrant.role, Initiative.slug, Organisation.name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .outerjoin(Initiative, Initiative.id == RoleGrant.initiative_id)
        .outerjoin(Organisation, Organisation.id == RoleGrant.organisation_id)
        .where(_demo_email())
        .order_by(User.email, Initiative.slug)
    ).all()
    scopes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for email, role, initiative, organisation in rows:
        if organisation and initiative:
            scopes[(email, role)].append(f"{organisation} in {initiative}")
        else:
            scopes[(email, role)].append(initiative or organisation or "")
    rank = {"admin": 0, "backbone": 1, "funder": 2, "reporter": 3}
    users = [
        (email, f"{role}: {', '.join(s for s in scope if s)}" if any(scope) else role)
        for (email, role), scope in sorted(scopes.items(), key=lambda kv: (rank[kv[0][1]], kv[0]))
    ]
    return DemoSummary(
        initiatives=[s for s in DEMO_INITIATIVE_SLUGS if s in initiatives],
        organisations=organisations or 0,
        users=users,
        values=values or 0,
        submissions=submissions or 0,
        created=created,
    )


# --- one initiative -----------------------------------------------------------------------------


def _quarters() -> Iterator[tuple[str, date, date]]:
    year, q = FIRST_QUARTER
    for _ in range(ALL_QUARTERS):
        start = date(year, 3 * q - 2, 1)
        end = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
        yield f"{year}Q{q}", start, end
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)


def _at(day: date, rng: random.Random, earliest: int = 14, latest: int = 23) -> datetime:
    """A working-hours moment (US time, stored in UTC) on ``day``."""
    return datetime.combine(day, time(rng.randint(earliest, latest), rng.randrange(60)), UTC)


def _clamp(x: float, low: float, high: float) -> float:
    return max(low, min(x, high))


@dataclass
class _Plan:
    """One submission to write, decided before any number is drawn."""

    member: _Mem
    step: int  # quarters since the baseline
    status: str = "approved"
    codes: list[str] = field(default_factory=list)
    outliers: set[str] = field(default_factory=set)
    comment: str | None = None
    row: dict[str, Any] = field(default_factory=dict)  # the submission's columns
    id: int = 0


@dataclass
class _Total:
    value: float
    numerator: float | None
    denominator: float | None


class _Builder:
    """Builds one initiative: structure through the ORM, history through bulk inserts."""

    def __init__(
        self,
        session: Session,
        spec: _Init,
        seed: int,
        orgs: Mapping[str, Organisation],
        users: Mapping[str, User],
        report: Progress,
    ) -> None:
        self.session = session
        self.spec = spec
        self.seed = seed
        self.orgs = orgs
        self.users = users
        self.report = report
        self.rng = random.Random(f"{seed}:{spec.slug}")
        self.indicators = {i.code: i for i in spec.indicators}
        self.reporting = [m for m in spec.members if m.reports]
        self.total_steps = len(spec.members) + 2
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        self.report(self.spec.name, self.done, self.total_steps)

    def build(self) -> None:
        self.report(self.spec.name, 0, self.total_steps)
        self._structure()
        self.tick()
        plans = self._plans()
        self._submissions(plans)
        rows: list[dict[str, Any]] = []
        totals: dict[str, dict[int, list[_Total]]] = defaultdict(lambda: defaultdict(list))
        for member in self.spec.members:
            rows.extend(self._member_values(member, plans, totals))
            self.tick()
        self._targets(totals)
        self.session.execute(insert(Value), rows)
        self.session.flush()
        self.tick()

    # structure ----------------------------------------------------------------------------

    def _structure(self) -> None:
        spec, session = self.spec, self.session
        self.initiative = Initiative(
            slug=spec.slug,
            name=spec.name,
            description=spec.description,
            region=spec.region,
            suppression_threshold=spec.suppression_threshold,
            is_demo=True,
            created_at=EPOCH,
        )
        session.add(self.initiative)
        self.periods: list[Period] = []
        for step, (key, start, end) in enumerate(_quarters()):
            self.periods.append(
                Period(
                    initiative=self.initiative,
                    key=key,
                    kind="quarter",
                    starts_on=start,
                    ends_on=end,
                    opens_on=end + timedelta(days=1),
                    due_on=end + timedelta(days=30),
                    closes_on=end + timedelta(days=60),
                    locked=step < HISTORY_QUARTERS - UNLOCKED_HISTORY,
                )
            )
        session.add_all(self.periods)  # 2.0 no longer cascades along the backref
        session.flush()
        initiative_id = self.initiative.id
        self.outcomes = {
            code: Outcome(
                initiative_id=initiative_id, code=code, name=name, description=text, position=n
            )
            for n, (code, name, text) in enumerate(spec.outcomes)
        }
        self.dimensions = {
            d.code: Dimension(
                initiative_id=initiative_id,
                code=d.code,
                name=d.name,
                position=n,
                categories=[
                    Category(code=c.code, name=c.name, position=k) for k, c in enumerate(d.cats)
                ],
            )
            for n, d in enumerate(spec.dims)
        }
        session.add_all([*self.outcomes.values(), *self.dimensions.values()])
        session.flush()
        # (dimension position, category position) → (category id, disaggregation key)
        self.category_keys = {
            (n, k): (c.id, f"{d.code}={c.code}")
            for n, d in enumerate(self.dimensions.values())
            for k, c in enumerate(d.categories)
        }
        self.indicator_rows: dict[str, Indicator] = {}
        for n, ind in enumerate(spec.indicators):
            self.indicator_rows[ind.code] = Indicator(
                initiative_id=self.initiative.id,
                outcome_id=self.outcomes[ind.outcome].id,
                code=ind.code,
                name=ind.name,
                definition=ind.definition,
                unit=ind.unit,
                measure_type=ind.measure_type,
                direction=ind.direction,
                valid_min=ind.valid_min,
                valid_max=ind.valid_max,
                decimals=ind.decimals,
                frequency="quarterly",
                data_source=ind.data_source,
                position=n,
                baseline_period_id=self.periods[0].id,
                target_period_id=self.periods[TARGET_STEP].id,
                dimensions=[self.dimensions[d] for d in ind.dims],
                created_at=EPOCH,
            )
        session.add_all(self.indicator_rows.values())
        self.members: dict[str, Member] = {}
        for m in spec.members:
            self.members[m.org] = Member(
                initiative_id=self.initiative.id,
                organisation_id=self.orgs[m.org].id,
                joined_on=m.joined,
                shares_with_funders=m.shares_with_funders,
                created_at=datetime.combine(m.joined, time(15), UTC),
            )
        session.add_all(self.members.values())
        session.flush()
        session.add_all(
            Obligation(member_id=self.members[m.org].id, indicator_id=self.indicator_rows[code].id)
            for m in spec.members
            for code in m.reports
        )
        for m in spec.members:
            self.users[m.org].grants.append(
                RoleGrant(
                    role="reporter",
                    initiative_id=self.initiative.id,
                    organisation_id=self.orgs[m.org].id,
                )
            )
        self.users["backbone"].grants.append(
            RoleGrant(role="backbone", initiative_id=self.initiative.id)
        )
        if spec is CRADLE:  # the funder login sees one initiative, as funders usually do
            self.users["funder"].grants.append(
                RoleGrant(role="funder", initiative_id=self.initiative.id)
            )
        session.flush()

    # who submits what, when ---------------------------------------------------------------

    def _plans(self) -> dict[tuple[str, int], _Plan]:
        """Statuses, lateness and planted outliers, drawn in a fixed order from one stream."""
        rng, last = self.rng, HISTORY_QUARTERS - 1
        plans: dict[tuple[str, int], _Plan] = {}
        for m in self.reporting:
            for step in range(HISTORY_QUARTERS):
                if self.periods[step].starts_on < m.joined:
                    continue
                missing = 0.0 if step == 0 else 0.12 if step == last else 0.04
                if rng.random() < missing:
                    continue
                plans[(m.org, step)] = _Plan(m, step, codes=list(m.reports))
        latest = [p for (_, step), p in plans.items() if step == last]
        rng.shuffle(latest)
        # The latest quarter shows every status; one returned report has an outlier to fix.
        latest.sort(key=lambda p: not any(self._eligible(c) for c in p.codes))
        forced = ["returned", "draft", "submitted", "approved"]
        for n, plan in enumerate(latest):
            plan.status = (
                forced[n]
                if n < len(forced)
                else rng.choices(
                    ("approved", "submitted", "draft", "returned"), (0.45, 0.3, 0.2, 0.05)
                )[0]
            )
        for plan in latest:
            if plan.status == "returned":
                codes = [c for c in plan.codes if self._eligible(c)]
                if codes:
                    code = rng.choice(codes)
                    plan.outliers.add(code)
                    plan.comment = (
                        f"{self.indicators[code].name}: this quarter's figure is far from your "
                        "earlier ones. Please check it and its breakdown, then resubmit (or add "
                        "a note if it is right)."
                    )
                else:
                    plan.comment = "Please add a note on how this quarter's figures were counted."
            elif plan.status == "draft" and len(plan.codes) > 1:
                plan.codes.remove(rng.choice(plan.codes))
        previous = [p for (_, step), p in plans.items() if step == last - 1]
        for plan in rng.sample(previous, min(len(previous), max(1, len(previous) // 12))):
            plan.status = "submitted"
        candidates = [
            (plan, code)
            for plan in plans.values()
            if plan.status == "approved" and 2 <= plan.step <= last - 1
            for code in plan.codes
            if self._eligible(code)
        ]
        for plan, code in rng.sample(candidates, min(self.spec.outliers, len(candidates))):
            plan.outliers.add(code)
        return plans

    def _eligible(self, code: str) -> bool:
        return self.indicators[code].outlier_eligible

    def _submissions(self, plans: Mapping[tuple[str, int], _Plan]) -> None:
        """Insert every submission in one statement; the ids come back in parameter order.

        Core, not the ORM: the ORM would reset ``version`` to 1, and these rows have been
        written several times (drafted, submitted, approved) before the demo begins.
        """
        ordered = sorted(plans.values(), key=lambda p: (p.member.org, p.step))
        for org in sorted({p.member.org for p in ordered}):
            timing = random.Random(f"{self.seed}:{self.spec.slug}:{org}:timing")
            for plan in (p for p in ordered if p.member.org == org):
                plan.row = self._submission_row(plan, timing)
        table = Submission.__table__
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = self.session.execute(stmt, [p.row for p in ordered]).scalars().all()
        for plan, submission_id in zip(ordered, ids, strict=True):
            plan.id = submission_id

    def _submission_row(self, plan: _Plan, rng: random.Random) -> dict[str, Any]:
        """Dates follow the period's calendar: late means submitted after the due date."""
        period = self.periods[plan.step]
        last = plan.step == HISTORY_QUARTERS - 1
        late = plan.status != "draft" and rng.random() < plan.member.lateness
        row: dict[str, Any] = {
            "initiative_id": self.initiative.id,
            "member_id": self.members[plan.member.org].id,
            "period_id": period.id,
            "status": plan.status,
            "version": {"draft": 1, "submitted": 2}.get(plan.status, 3),
            "is_late": late,
            "comment": plan.comment,
            "submitted_at": None,
            "submitted_by_id": None,
            "approved_at": None,
            "approved_by_id": None,
        }
        if plan.status == "draft":
            row["created_at"] = _at(period.opens_on + timedelta(days=rng.randint(3, 20)), rng)
            row["updated_at"] = row["created_at"] + timedelta(days=rng.randint(0, 3), hours=2)
            return row
        if late:
            day = period.due_on + timedelta(days=rng.randint(1, 14 if last else 24))
        else:
            day = period.due_on - timedelta(days=rng.randint(0, 27))
        submitted = _at(day, rng)
        row["submitted_at"] = row["updated_at"] = submitted
        row["submitted_by_id"] = self.users[plan.member.org].id
        row["created_at"] = max(
            submitted - timedelta(days=rng.randint(0, 6), hours=3),
            datetime.combine(period.opens_on, time(14), UTC),
        )
        if plan.status == "approved":
            approved = submitted + timedelta(
                days=rng.randint(1, 5 if last else 12), hours=rng.randint(0, 5)
            )
            row["approved_at"] = row["updated_at"] = approved
            row["approved_by_id"] = self.users["backbone"].id
        elif plan.status == "returned":
            row["updated_at"] = submitted + timedelta(days=2, hours=1)
        return row

    # numbers --------------------------------------------------------------------------------

    def _member_values(
        self,
        member: _Mem,
        plans: Mapping[tuple[str, int], _Plan],
        totals: dict[str, dict[int, list[_Total]]],
    ) -> list[dict[str, Any]]:
        if not member.reports:
            return []
        joint = self._joint(member, random.Random(f"{self.seed}:{self.spec.slug}:{member.org}"))
        rows: list[dict[str, Any]] = []
        for code, size in member.reports.items():
            ind = self.indicators[code]
            rng = random.Random(f"{self.seed}:{self.spec.slug}:{member.org}:{code}")
            cells = self._collapse(joint, ind)
            offset = rng.gauss(0.0, ind.spread)
            pace = rng.uniform(0.35, 1.15)
            for step in range(HISTORY_QUARTERS):
                plan = plans.get((member.org, step))
                draw = self._draw(ind, size, cells, offset, pace, step, rng, plan)
                if plan is None or code not in plan.codes:
                    continue
                totals[code][step].append(self._emit(ind, plan, draw, rows))
        return rows

    def _joint(
        self, member: _Mem, rng: random.Random
    ) -> list[tuple[tuple[int, ...], float, float]]:
        """The member's population over the cross-tab of every dimension: (cell, share, advantage).

        Each partner gets its own mix (one serves mostly low-income families, another a suburb),
        which is what makes partners' levels and gaps differ in a believable way.
        """
        dims = self.spec.dims
        shares: dict[str, list[float]] = {}
        first: dict[str, float] = {}
        for d in dims:
            if d.given is None:
                raw = [rng.gammavariate(d.concentration * c.share, 1.0) for c in d.cats]
                shares[d.code] = [r / sum(raw) for r in raw]
            else:
                first[d.code] = member.shift + rng.gauss(0.0, 0.03)
        position = {d.code: n for n, d in enumerate(dims)}
        cells = []
        for combo in product(*(range(len(d.cats)) for d in dims)):
            weight, advantage = 1.0, 0.0
            for n, d in enumerate(dims):
                k = combo[n]
                if d.given is None:
                    share = shares[d.code][k]
                else:
                    parent = dims[position[d.given]].cats[combo[position[d.given]]].code
                    low = _clamp(d.given_first_share[parent] + first[d.code], 0.03, 0.97)
                    share = low if k == 0 else (1.0 - low) / (len(d.cats) - 1)
                weight *= share
                advantage += d.cats[k].adv
            cells.append((combo, weight, advantage))
        return cells

    def _collapse(
        self, joint: Sequence[tuple[tuple[int, ...], float, float]], ind: _Ind
    ) -> list[tuple[tuple[tuple[int, int], ...], float, float]]:
        """Cells over the indicator's own dimensions: ((dim, category) pairs, share, advantage)."""
        positions = [n for n, d in enumerate(self.spec.dims) if d.code in ind.dims]
        acc: dict[tuple[tuple[int, int], ...], list[float]] = {}
        for combo, weight, advantage in joint:
            key = tuple((n, combo[n]) for n in positions)
            slot = acc.setdefault(key, [0.0, 0.0])
            slot[0] += weight
            slot[1] += weight * advantage
        return [(key, w, a / w if w else 0.0) for key, (w, a) in acc.items()]

    def _draw(
        self,
        ind: _Ind,
        size: float,
        cells: Sequence[tuple[tuple[tuple[int, int], ...], float, float]],
        offset: float,
        pace: float,
        step: int,
        rng: random.Random,
        plan: _Plan | None,
    ) -> list[tuple[tuple[tuple[int, int], ...], float, float]]:
        """One quarter's cells: (cell, size, numerator or mean); categories then sum exactly."""
        sign = 1.0 if ind.direction == "higher" else -1.0
        progress = step / TARGET_STEP
        outlier = plan is not None and ind.code in plan.outliers
        period = self.periods[step]
        quarter = (period.starts_on.month - 1) // 3
        weights = [w * max(0.0, 1.0 + rng.gauss(0.0, 0.04)) for _, w, _ in cells]
        if ind.measure_type == "count":
            scale = size * (1.0 + sign * ind.change * pace * progress)
            scale *= ind.season[quarter] if ind.season else 1.0
            scale *= _HEAT_YEARS.get(period.starts_on.year, 1.0) if ind.weather else 1.0
            scale *= max(0.0, 1.0 + rng.gauss(0.0, ind.noise))
            if outlier:
                scale *= rng.uniform(3.5, 5.0)
            counts = _allocate(round(scale), weights)
            return [(key, float(n), 0.0) for (key, _, _), n in zip(cells, counts, strict=True)]
        n_total = max(1, round(size * (1.0 + rng.gauss(0.0, ind.size_noise))))
        sizes = _allocate(n_total, weights)
        level = ind.start + offset + sign * ind.change * pace * progress + rng.gauss(0, ind.noise)
        if outlier:
            away = 1.0 if level < (ind.valid_max or 100.0) / 2 else -1.0
            jump = rng.uniform(20, 28) if ind.measure_type == "rate" else 4.5 * ind.spread
            level += away * jump
        gap = ind.gap * (1.0 - 0.25 * progress)  # gaps narrow a little as the work takes hold
        out = []
        for (key, _, advantage), n in zip(cells, sizes, strict=True):
            centre = level + sign * gap * advantage
            if ind.measure_type == "rate":
                p = _clamp(centre, 1.0, 99.0) / 100.0
                hits = 0 if n == 0 else round(n * p + rng.gauss(0.0, math.sqrt(n * p * (1 - p))))
                out.append((key, float(n), float(_clamp(hits, 0, n))))
            else:
                mean = centre + rng.gauss(0.0, ind.cell_sd / math.sqrt(max(n, 1)))
                out.append((key, float(n), round(mean, ind.decimals)))
        return out

    def _emit(
        self,
        ind: _Ind,
        plan: _Plan,
        cells: Sequence[tuple[tuple[tuple[int, int], ...], float, float]],
        rows: list[dict[str, Any]],
    ) -> _Total:
        """Append the total and every category's row; return the total (for the baseline)."""
        submission = plan.row
        groups: dict[tuple[int, int] | None, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for key, n, x in cells:
            for target in (None, *key):
                acc = groups[target]
                acc[0] += n
                acc[1] += x if ind.measure_type == "rate" else n * x
        indicator = self.indicator_rows[ind.code]
        stamp = submission["created_at"] + timedelta(hours=1)
        author = submission["submitted_by_id"] or self.users[plan.member.org].id
        total: _Total | None = None
        for target in sorted(groups, key=lambda t: (-1, -1) if t is None else t):
            n, x = groups[target]
            if ind.measure_type == "count":
                value, numerator, denominator = n, None, None
            elif n == 0:
                continue  # no one in this category: a rate or mean of nobody is not a number
            elif ind.measure_type == "rate":
                value, numerator, denominator = 100.0 * x / n, x, n
            else:
                value, numerator, denominator = x / n, None, n
            flags: list[str] = []
            note = None
            if target is None and ind.code in plan.outliers:
                flags = [OUTLIER_FLAG]
                if plan.status == "approved":
                    note = "Checked with the partner: the figure is right (one-off change)."
            category_id, key = (None, TOTAL) if target is None else self.category_keys[target]
            rows.append(
                {
                    "submission_id": plan.id,
                    "initiative_id": self.initiative.id,
                    "period_id": submission["period_id"],
                    "indicator_id": indicator.id,
                    "measure_type": ind.measure_type,
                    "category_id": category_id,
                    "disaggregation": key,
                    "value": value,
                    "numerator": numerator,
                    "denominator": denominator,
                    "note": note,
                    "flags": flags,
                    "updated_at": stamp,
                    "updated_by_id": author,
                }
            )
            if target is None:
                total = _Total(value, numerator, denominator)
        assert total is not None
        return total

    def _targets(self, by_step: Mapping[str, Mapping[int, list[_Total]]]) -> None:
        """Baseline from the first quarter with figures; end and interim targets from it.

        An indicator whose only partner joined later gets its baseline when the partner began.
        """
        for ind in self.spec.indicators:
            if not by_step.get(ind.code):
                continue
            first = min(by_step[ind.code])
            totals = by_step[ind.code][first]
            if ind.measure_type == "count":
                base = sum(t.value for t in totals)
                sign = 1.0 if ind.direction == "higher" else -1.0
                goal = round(base * (1.0 + sign * ind.change))
            elif ind.measure_type == "rate":
                base = (
                    100.0
                    * sum(t.numerator or 0 for t in totals)
                    / sum(t.denominator or 0 for t in totals)
                )
                goal = base + (ind.change if ind.direction == "higher" else -ind.change)
            else:
                weight = sum(t.denominator or 0 for t in totals)
                base = sum(t.value * (t.denominator or 0) for t in totals) / weight
                goal = base + (ind.change if ind.direction == "higher" else -ind.change)
            row = self.indicator_rows[ind.code]
            row.baseline_value = round(base, ind.decimals)
            row.baseline_period_id = self.periods[first].id
            row.target_value = round(goal, ind.decimals)
            for step in (s for s in INTERIM_STEPS if s > first):
                share = (step - first) / (TARGET_STEP - first)
                row.targets.append(
                    IndicatorTarget(
                        period_id=self.periods[step].id,
                        value=round(base + (goal - base) * share, ind.decimals),
                        note="Interim target on the straight line from baseline to goal.",
                    )
                )
        self.session.flush()


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split a whole number by weights (largest remainder), so the parts sum to it exactly."""
    total = max(0, total)
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    exact = [total * w / weight_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
