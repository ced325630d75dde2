"""The demo's specification: its initiatives, organisations, indicators and their shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "common-measure-demo"
DEMO_DOMAIN = "demo.test"  # users: *@demo.test, *@<org>.demo.test; organisations' websites too
OUTLIER_FLAG = "outlier"

# The demo's quarters, counted in steps from the baseline quarter; their dates come from the
# day the demo is built (models/demo/calendar.py).
# Steps 0 … 11 carry data: three years, ending with the quarter before today's.
HISTORY_QUARTERS = 12
REVIEW_STEP = HISTORY_QUARTERS - 1  # the quarter before today's: under review, every status
CURRENT_STEP = HISTORY_QUARTERS  # the quarter containing today: open for reporting, no report yet
# The end target, two years past today's quarter (five years from the baseline).
TARGET_STEP = CURRENT_STEP + 8
ALL_QUARTERS = TARGET_STEP + 1
INTERIM_STEPS = tuple(range(4, TARGET_STEP, 4))  # every anniversary of the baseline before the end
CORRECTED_STEP = REVIEW_STEP - 2  # published, corrected by a partner, published again
# The share of one indicator's people missing from the first version of a report under review
# that was returned and resubmitted with them counted.
RECOUNT_SHARE = 0.15


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    share: float  # typical share of the population
    adv: float = 0.0  # advantage in percentage points: the equity gap the demo shows


@dataclass(frozen=True)
class DimensionSpec:
    code: str
    name: str
    cats: tuple[CategorySpec, ...]
    concentration: float = 80.0  # how alike partners' mixes are (Dirichlet concentration)
    # For two-category dimensions that depend on another (income on race): the first category's
    # share for each category of that dimension.
    given: str | None = None
    given_first_share: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    outcome: str
    name: str
    definition: str
    unit: str
    measure_type: str
    data_source: str
    dims: tuple[str, ...] = ()
    # Cross-tabs of the initiative the indicator collects too (README, "Cross-tabs"): both of
    # each one's components are among ``dims``.
    cross_tabs: tuple[str, ...] = ()
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
    # Turn the curve (rates, averages): points a quarter the curve loses before the first
    # strategy aimed at it starts, and gains on top of its trend from then on.
    turn: float = 0.0
    # README, "Two kinds of measure": a population indicator, or a partner performance measure
    # of this type contributing to the population indicators named.
    performance_type: str | None = None
    contributes_to: tuple[str, ...] = ()
    # A computed indicator (models.core.expressions): no partner reports it, its figures,
    # baseline and targets come from its inputs'.
    expression: str | None = None

    @property
    def kind(self) -> str:
        return "population" if self.performance_type is None else "performance"

    @property
    def outlier_eligible(self) -> bool:
        """Seasonal series swing by design, so a planted outlier would not stand out."""
        return self.season is None and not self.weather


@dataclass(frozen=True)
class OrganisationSpec:
    slug: str
    name: str
    sector: str
    description: str


@dataclass(frozen=True)
class MemberSpec:
    org: str
    reports: Mapping[str, float]  # indicator code → cohort size or quarterly count at full scale
    lateness: float = 0.1
    joins: int = 0  # the step of the first quarter it reports (it joined when that began)
    shares_with_funders: bool = True
    shift: float = 0.0  # shifts the first category of a dependent dimension (low income)


@dataclass(frozen=True)
class CorrectionSpec:
    """A report corrected after its quarter was published, so the quarter has two vintages."""

    org: str
    code: str  # a rate indicator: the first report counted too few of its people
    undercount: float  # the share of each cell's numerator missing from the first report
    note: str  # on the corrected total
    republished: str  # the second publication's note
    reopened: str  # the backbone team's comment when it reopened the approved report
    reason: str  # the partner's reason for the corrected values (their audit events')


@dataclass(frozen=True)
class ActionSpec:
    """A step of a strategy: due in (planned, in progress, dropped) or done in quarter ``step``."""

    title: str
    status: str
    step: int  # a done action's must be no later than REVIEW_STEP: done is in the past
    note: str = ""


@dataclass(frozen=True)
class StrategySpec:
    """A strategy of the backbone team and partners (README: Strategies), from the start of
    quarter ``starts`` to the end of quarter ``ends`` (open-ended when None)."""

    code: str
    title: str
    description: str
    owners: tuple[str, ...]  # member organisations' slugs
    indicators: tuple[str, ...]
    starts: int
    ends: int | None
    actions: tuple[ActionSpec, ...]


@dataclass(frozen=True)
class InitiativeSpec:
    slug: str
    name: str
    description: str
    region: str
    outcomes: tuple[tuple[str, str, str], ...]
    dims: tuple[DimensionSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    members: tuple[MemberSpec, ...]
    outliers: int
    suppression_threshold: int = 10
    correction: CorrectionSpec | None = None
    # The backbone team's stories behind the curves (README: Stories): indicator code → the
    # stories of the last published quarters, oldest first, each carried by its publication.
    stories: tuple[tuple[str, tuple[str, ...]], ...] = ()
    strategies: tuple[StrategySpec, ...] = ()
    # Gap targets (models.initiatives.gap_targets): (indicator code, dimension code, the share
    # of the baseline gap left by the end target), e.g. 0.5 to halve it.
    gap_targets: tuple[tuple[str, str, float], ...] = ()
    # Cross-tabs (README, "Cross-tabs"): (code, name, row dimension, column dimension).
    cross_tabs: tuple[tuple[str, str, str, str], ...] = ()
    # The backbone team's Spanish (README, "Languages"): (entity type, its key, field) → the
    # text, as models.initiatives.translations names them; publications freeze them.
    spanish: Mapping[tuple[str, str, str], str] = field(default_factory=dict)


# fmt: off
def rate_indicator(code: str, outcome: str, name: str, definition: str, source: str, **kw: Any) -> IndicatorSpec:
    return IndicatorSpec(
        code, outcome, name, definition, "%", "rate", source, valid_max=100.0, **kw
    )


def count_indicator(code: str, outcome: str, name: str, definition: str, unit: str, source: str,
           **kw: Any) -> IndicatorSpec:
    return IndicatorSpec(code, outcome, name, definition, unit, "count", source, decimals=0, **kw)


GENDER = DimensionSpec(
    "gender",
    "Gender",
    (
        CategorySpec("female", "Female", 0.488, 2.0),
        CategorySpec("male", "Male", 0.490, -2.0),
        CategorySpec("nonbinary", "Non-binary", 0.022, -1.0),
    ),
    concentration=2000.0,
)
RACE = DimensionSpec(
    "race",
    "Race/ethnicity",
    (
        CategorySpec("asian", "Asian", 0.05, 5.0),
        CategorySpec("black", "Black", 0.28, -9.0),
        CategorySpec("hispanic", "Hispanic or Latino", 0.17, -6.0),
        CategorySpec("native", "American Indian or Alaska Native", 0.01, -8.0),
        CategorySpec("white", "White", 0.41, 8.0),
        CategorySpec("multiracial", "Multiracial or another race", 0.08, 0.0),
    ),
)
INCOME = DimensionSpec(
    "income",
    "Family income",
    (CategorySpec("low", "Low income", 0.45, -8.0), CategorySpec("not_low", "Not low income", 0.55, 6.0)),
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
AGE = DimensionSpec(
    "age",
    "Age group",
    (
        CategorySpec("under_18", "Under 18", 0.14),
        CategorySpec("18_to_64", "18 to 64", 0.58),
        CategorySpec("65_plus", "65 and over", 0.28),
    ),
    concentration=150.0,
)
ALL3 = ("race", "income", "gender")

# The Spanish the Cradle to Career backbone team wrote for its names (README, "Languages").
CRADLE_SPANISH: dict[tuple[str, str, str], str] = {
    ("initiative", "cradle-to-career", "name"): "De la cuna a la carrera",
    ("outcome", "kindergarten_readiness", "name"): "Preparación para el kínder",
    ("outcome", "early_grade_reading", "name"): "Lectura en 3.er grado",
    ("outcome", "middle_grade_math", "name"): "Matemáticas en 8.º grado",
    ("outcome", "high_school_graduation", "name"): "Graduación de la secundaria",
    ("outcome", "postsecondary_enrollment", "name"): "Inscripción en estudios superiores",
    ("outcome", "postsecondary_completion", "name"): "Finalización de estudios superiores",
    ("outcome", "employment", "name"): "Empleo",
    ("indicator", "K_READY", "name"): "Niñas y niños preparados para el kínder",
    ("indicator", "EC_ENROLLED", "name"): "Niñas y niños en educación inicial de calidad",
    ("indicator", "WELL_CHILD", "name"): "Controles de niño sano (0 a 5 años)",
    ("indicator", "HOME_VISITS", "name"): "Visitas domiciliarias realizadas",
    ("indicator", "EARLY_VISITS", "name"): "Visitas en la primera infancia (controles y visitas)",
    ("indicator", "READ_G3", "name"): "Estudiantes de 3.er grado que leen al nivel de su grado",
    ("indicator", "TUTOR_SESSIONS", "name"): "Sesiones de tutoría de lectura impartidas",
    ("indicator", "MATH_G8", "name"): "Estudiantes de 8.º grado competentes en matemáticas",
    ("indicator", "MATH_G8_SCORE", "name"): "Puntaje promedio de matemáticas de 8.º grado",
    ("indicator", "MATH_TUTOR_STUDENTS", "name"): "Estudiantes con tutoría de matemáticas",
    ("indicator", "GRAD_4YR", "name"): "Tasa de graduación de la cohorte de cuatro años",
    ("indicator", "CHRONIC_ABSENT", "name"): "Estudiantes con ausentismo crónico",
    ("indicator", "MENTORED_YOUTH", "name"): "Jóvenes con una mentora o un mentor",
    ("indicator", "FAFSA_DONE", "name"): "Estudiantes de último año que completan la FAFSA",
    ("indicator", "PS_ENROLL", "name"): "Egresados inscritos en estudios superiores",
    ("indicator", "COLLEGE_PATH", "name"): "Estudiantes en camino a la universidad",
    ("indicator", "PS_RETAIN", "name"): "Estudiantes de primer año que continúan",
    ("indicator", "PS_COMPLETE", "name"): "Estudiantes que obtienen un título o certificado",
    ("indicator", "EMP_PLACED", "name"): "Egresados de capacitación empleados en seis meses",
    ("indicator", "EMP_WAGE", "name"): "Salario inicial promedio por hora",
    ("indicator", "INTERNSHIPS", "name"): "Pasantías remuneradas",
    ("initiative", "cradle-to-career", "description"): (
        "Socios de Riverbend (una ciudad ficticia) que comparten un tablero desde la primera "
        "infancia hasta el primer empleo. Datos de demostración: todos los nombres y cifras son "
        "inventados."
    ),
    ("outcome", "kindergarten_readiness", "description"): (
        "Las niñas y los niños llegan al kínder listos para aprender."
    ),
    ("outcome", "early_grade_reading", "description"): (
        "Las y los estudiantes leen al nivel de su grado al terminar 3.er grado."
    ),
    ("outcome", "middle_grade_math", "description"): (
        "Las y los estudiantes son competentes en matemáticas en 8.º grado."
    ),
    ("outcome", "high_school_graduation", "description"): (
        "Las y los estudiantes se gradúan de la secundaria a tiempo."
    ),
    ("outcome", "postsecondary_enrollment", "description"): (
        "Las y los egresados se inscriben en la universidad o en un programa de formación."
    ),
    ("outcome", "postsecondary_completion", "description"): (
        "Las y los estudiantes obtienen un título o una certificación."
    ),
    ("outcome", "employment", "description"): (
        "Las personas jóvenes consiguen un empleo con un salario digno."
    ),
    ("indicator", "EC_ENROLLED", "unit"): "niñas y niños",
    ("indicator", "WELL_CHILD", "unit"): "visitas",
    ("indicator", "HOME_VISITS", "unit"): "visitas",
    ("indicator", "EARLY_VISITS", "unit"): "visitas",
    ("indicator", "TUTOR_SESSIONS", "unit"): "sesiones",
    ("indicator", "MATH_G8_SCORE", "unit"): "puntos",
    ("indicator", "MATH_TUTOR_STUDENTS", "unit"): "estudiantes",
    ("indicator", "MENTORED_YOUTH", "unit"): "jóvenes",
    ("indicator", "EMP_WAGE", "unit"): "USD por hora",
    ("indicator", "INTERNSHIPS", "unit"): "pasantías",
    ("dimension", "race", "name"): "Raza/etnia",
    ("dimension", "income", "name"): "Ingreso familiar",
    ("dimension", "gender", "name"): "Género",
    ("category", "race=asian", "name"): "Asiática",
    ("category", "race=black", "name"): "Negra",
    ("category", "race=hispanic", "name"): "Hispana o latina",
    ("category", "race=native", "name"): "Indígena americana o nativa de Alaska",
    ("category", "race=white", "name"): "Blanca",
    ("category", "race=multiracial", "name"): "Multirracial u otra",
    ("category", "income=low", "name"): "Ingreso bajo",
    ("category", "income=not_low", "name"): "Ingreso no bajo",
    ("category", "gender=female", "name"): "Femenino",
    ("category", "gender=male", "name"): "Masculino",
    ("category", "gender=nonbinary", "name"): "No binario",
}

SCHOOL_SOURCE = "District student information system and state assessment files"
CRADLE = InitiativeSpec(
    slug="cradle-to-career",
    name="Cradle to Career",
    description=(
        "Partners across Riverbend (a fictional city) sharing one scorecard from early childhood "
        "to a first career. Demo data: every name and number is made up."
    ),
    region="Riverbend metro area (fictional)",
    suppression_threshold=10,
    outliers=6,
    gap_targets=(("READ_G3", "race", 0.5),),  # halve the reading gap by the end target
    cross_tabs=(("race_x_income", "Race/ethnicity × family income", "race", "income"),),
    spanish=CRADLE_SPANISH,
    stories=(
        ("K_READY", (
            ("Readiness held steady this quarter. The **summer bridge** classes of the early "
            "learning partners reached more families than last year, but waiting lists grew in "
            "the east side neighbourhoods.\n\nPartners with a role to play: early learning "
            "centres, the library system (story hours), the health system (developmental "
            "screening)."),
            ("Readiness rose for the second quarter running, most among children from "
            "low-income families. What seems to work:\n\n- home visits starting before age 3\n"
            "- shared screening data between clinics and centres\n\nThe gap between the "
            "highest and lowest group narrowed but is still wide."),
        )),
        ("READ_G3", (
            ("Third-grade reading dipped this quarter. Tutoring partners report **fewer sessions "
            "per child** as volunteers left, and two schools changed their reading curriculum."),
            ("Reading recovered where tutoring sessions were back above two a week. The district "
            "and the tutoring partners agreed to share attendance monthly, so that schools can "
            "see which children miss sessions."),
        )),
        ("GRAD_4YR", (
            ("Graduation is on track. Chronic absence is still the strongest warning sign: the "
            "students who graduate late missed a month or more of school in 9th grade."),
            ("On-time graduation rose again. Partners with a role to play: the districts "
            "(credit recovery), mentoring programmes, and the community college's dual "
            "enrolment office."),
        )),
    ),
    strategies=(
        StrategySpec(
            "every-child-reading",
            "Every child reading by third grade",
            "Tutoring partners, the library and the schools put **two tutoring sessions a "
            "week** within reach of every struggling reader, and share attendance so that no "
            "child drops out of sight.",
            ("read-together-riverbend", "riverbend-public-library", "riverbend-public-schools"),
            ("READ_G3", "TUTOR_SESSIONS"),
            starts=REVIEW_STEP - 5,
            ends=None,
            actions=(
                ActionSpec("Recruit 60 volunteer tutors", "done", REVIEW_STEP - 5),
                ActionSpec("Share tutoring attendance with schools monthly", "done",
                           REVIEW_STEP - 2, "Agreed with the district's data office."),
                ActionSpec("Summer reading bus to the east side", "in_progress", CURRENT_STEP),
                ActionSpec("Reading curriculum training in two schools", "planned",
                           CURRENT_STEP + 1),
            ),
        ),
        StrategySpec(
            "ready-by-five",
            "Home visits before age three",
            "Home visiting starts before a child's third birthday, and clinics and centres "
            "share developmental screening, so that families get help before kindergarten.",
            ("family-connections-network", "riverbend-head-start", "bright-start-early-learning"),
            ("K_READY", "HOME_VISITS"),
            starts=REVIEW_STEP - 7,
            ends=CURRENT_STEP + 2,
            actions=(
                ActionSpec("Start home visits at birth in two clinics", "done", REVIEW_STEP - 6),
                ActionSpec("Shared screening records between clinics and centres", "done",
                           REVIEW_STEP - 3),
                ActionSpec("Summer bridge classes in every centre", "dropped", REVIEW_STEP - 1,
                           "Folded into the centres' own summer programmes."),
                ActionSpec("East side waiting-list outreach", "planned", CURRENT_STEP + 1),
            ),
        ),
    ),
    correction=CorrectionSpec(
        org="riverbend-public-schools",
        code="GRAD_4YR",
        undercount=0.05,
        note="Corrected: summer graduates were missing from the first count.",
        republished="Republished: Riverbend Public Schools added its summer graduates.",
        reopened="Reopened at Riverbend Public Schools' request: summer graduates are missing "
        "from the graduation rate.",
        reason="Added the summer graduates missing from the first count.",
    ),
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
        rate_indicator("K_READY", "kindergarten_readiness", "Kindergartners ready for school",
             "Share of children leaving the partner's pre-kindergarten programme who meet every "
             "domain of the state kindergarten readiness assessment at kindergarten entry.",
             "State kindergarten readiness assessment, matched to partner rosters",
             dims=ALL3, start=46, change=12, spread=6, gap=1.0, noise=1.2),
        count_indicator("EC_ENROLLED", "kindergarten_readiness", "Children in quality early learning",
               "Children aged 0-5 enrolled during the quarter in a programme rated three stars "
               "or more in the state quality rating system.", "children",
               "Partner enrolment records", dims=("race", "income"), change=0.2, noise=0.05,
             performance_type="how_much", contributes_to=("K_READY",)),
        count_indicator("WELL_CHILD", "kindergarten_readiness", "Well-child visits (ages 0-5)",
               "Well-child visits completed for children aged 0-5 during the quarter.", "visits",
               "Health-system electronic health record extract", dims=("race", "income"),
               change=0.15, noise=0.06,
             performance_type="how_much", contributes_to=("K_READY",)),
        count_indicator("HOME_VISITS", "kindergarten_readiness", "Home visits completed",
               "Home visits to families with children under 3 completed by trained visitors.",
               "visits", "Home-visiting case management system", change=0.25, noise=0.07,
             performance_type="how_much", contributes_to=("K_READY",)),
        count_indicator("EARLY_VISITS", "kindergarten_readiness",
               "Early-years visits (well-child and home visits)",
               "Well-child visits and home visits to families with young children, across the "
               "partners that make them. Computed from the two measures; hidden wherever "
               "either of them is.", "visits", "Computed from WELL_CHILD and HOME_VISITS",
             performance_type="how_much", contributes_to=("K_READY",),
             expression="WELL_CHILD + HOME_VISITS"),
        rate_indicator("READ_G3", "early_grade_reading", "Third graders reading at grade level",
             "Share of tested 3rd graders scoring at or above grade level on the quarterly "
             "district reading benchmark.", SCHOOL_SOURCE,
             dims=ALL3, start=39, change=11, spread=7, gap=1.2, noise=1.0, turn=0.9),
        count_indicator("TUTOR_SESSIONS", "early_grade_reading", "Reading tutoring sessions delivered",
               "One-to-one or small-group reading sessions of at least 30 minutes for K-3 "
               "students.", "sessions", "Partner attendance logs", change=0.3, noise=0.08,
             performance_type="how_much", contributes_to=("READ_G3",)),
        rate_indicator("MATH_G8", "middle_grade_math", "Eighth graders proficient in math",
             "Share of tested 8th graders scoring proficient or above on the quarterly district "
             "math benchmark.", SCHOOL_SOURCE,
             dims=ALL3, start=27, change=10, spread=6, gap=1.1, noise=1.2),
        IndicatorSpec("MATH_G8_SCORE", "middle_grade_math", "Average 8th-grade math scale score",
             "Mean scale score of tested 8th graders on the district math benchmark, weighted "
             "by the number of students tested.", "points", "average", SCHOOL_SOURCE,
             dims=ALL3, start=231, change=9, spread=5, gap=0.9, noise=1.0, cell_sd=24,
             valid_min=150, valid_max=350),
        count_indicator("MATH_TUTOR_STUDENTS", "middle_grade_math", "Students receiving math tutoring",
               "Middle-school students who attended at least four math tutoring sessions in "
               "the quarter.", "students", "Partner attendance logs", dims=ALL3, change=0.35,
               noise=0.06,
             performance_type="how_much", contributes_to=("MATH_G8",)),
        rate_indicator("GRAD_4YR", "high_school_graduation", "Four-year cohort graduation rate",
             "Share of the four-year cohort graduating with a regular diploma (rolling four "
             "quarters).", SCHOOL_SOURCE, dims=ALL3, start=78, change=8, spread=5, gap=0.8, noise=0.8),
        rate_indicator("CHRONIC_ABSENT", "high_school_graduation", "Chronically absent students",
             "Share of enrolled K-12 students who missed 10% or more of school days so far "
             "this school year.", SCHOOL_SOURCE, dims=ALL3, direction="lower", start=27, change=8,
             spread=5, gap=0.8, noise=1.0),
        count_indicator("MENTORED_YOUTH", "high_school_graduation", "Youth matched with a mentor",
               "Young people aged 12-18 in an active mentoring match during the quarter.",
               "youth", "Partner mentoring database", dims=("race", "gender"), change=0.2,
               noise=0.06,
             performance_type="how_much", contributes_to=("GRAD_4YR", "CHRONIC_ABSENT")),
        rate_indicator("FAFSA_DONE", "postsecondary_enrollment", "Seniors completing the FAFSA",
             "Share of high-school seniors who submitted the Free Application for Federal "
             "Student Aid, cumulative for the school year.", "Federal Student Aid completion "
             "data, matched by partner", dims=("race", "income"), cross_tabs=("race_x_income",),
             start=52, change=13,
             spread=7, gap=0.9, noise=1.5,
             performance_type="better_off", contributes_to=("PS_ENROLL",)),
        rate_indicator("PS_ENROLL", "postsecondary_enrollment", "Graduates enrolling in post-secondary",
             "Share of the previous year's graduates enrolled in a two- or four-year college "
             "or a registered apprenticeship.", "National student records match",
             dims=ALL3, start=55, change=10, spread=6, gap=1.0, noise=1.1),
        rate_indicator("COLLEGE_PATH", "postsecondary_enrollment",
             "Students on the college path (graduating and enrolling)",
             "Share of a cohort that both graduates on time and enrols in post-secondary: the "
             "four-year graduation rate times the enrolment rate of graduates. Computed from "
             "the two rates; hidden wherever either of them is.",
             "Computed from GRAD_4YR and PS_ENROLL", dims=ALL3,
             expression="GRAD_4YR * PS_ENROLL / 100"),
        rate_indicator("PS_RETAIN", "postsecondary_completion", "First-year students retained",
             "Share of first-year students enrolled again in their second year.",
             "Institutional research office", dims=ALL3, start=63, change=8, spread=6, gap=0.9,
             noise=1.0,
             performance_type="how_well", contributes_to=("PS_COMPLETE",)),
        rate_indicator("PS_COMPLETE", "postsecondary_completion", "Students completing a credential",
             "Share of an entering cohort completing a certificate or degree within 150% of "
             "normal time.", "Institutional research office", dims=ALL3, start=38, change=9,
             spread=9, gap=1.1, noise=1.0),
        rate_indicator("EMP_PLACED", "employment", "Training completers employed within six months",
             "Share of training or credential completers employed in unsubsidised jobs six "
             "months after completing.", "State wage records match", dims=ALL3, start=61,
             change=10, spread=6, gap=0.7, noise=1.4),
        IndicatorSpec("EMP_WAGE", "employment", "Average starting hourly wage",
             "Mean starting hourly wage of placed completers, weighted by the number placed.",
             "USD per hour", "average", "State wage records match", dims=("race", "gender"),
             start=17.8, change=2.2, spread=1.2, gap=0.12, noise=0.3, cell_sd=4.0, decimals=2,
             valid_min=7.25, valid_max=75,
             performance_type="better_off", contributes_to=("EMP_PLACED",)),
        count_indicator("INTERNSHIPS", "employment", "Paid internships provided",
               "Paid internships of at least 120 hours for students and young adults aged "
               "16-24.", "internships", "Employer HR records", dims=("race", "gender"),
               change=0.4, noise=0.1,
             performance_type="how_much", contributes_to=("EMP_PLACED",)),
    ),
    members=(
        MemberSpec("riverbend-public-schools",
             {"READ_G3": 3200, "MATH_G8": 2900, "MATH_G8_SCORE": 2800, "CHRONIC_ABSENT": 36000,
              "GRAD_4YR": 2500, "PS_ENROLL": 2300, "FAFSA_DONE": 2600}, lateness=0.25,
             shift=0.12),
        MemberSpec("north-valley-unified",
             {"READ_G3": 1400, "MATH_G8": 1350, "MATH_G8_SCORE": 1300, "CHRONIC_ABSENT": 16500,
              "GRAD_4YR": 1200, "PS_ENROLL": 1100}, lateness=0.1, shift=-0.05),
        MemberSpec("east-hills-school-district",
             {"READ_G3": 880, "MATH_G8": 900, "MATH_G8_SCORE": 870, "CHRONIC_ABSENT": 10800,
              "GRAD_4YR": 820, "PS_ENROLL": 760}, lateness=0.05, shift=-0.18),
        MemberSpec("cedar-grove-charter-network",
             {"READ_G3": 420, "MATH_G8": 380, "MATH_G8_SCORE": 370, "CHRONIC_ABSENT": 4600,
              "GRAD_4YR": 300, "PS_ENROLL": 280}, lateness=0.15, shift=0.15),
        MemberSpec("bright-start-early-learning", {"K_READY": 260, "EC_ENROLLED": 1150},
             lateness=0.1),
        MemberSpec("riverbend-head-start", {"K_READY": 340, "EC_ENROLLED": 1600}, lateness=0.2,
             shift=0.3),
        MemberSpec("little-oaks-preschool-collaborative", {"K_READY": 120, "EC_ENROLLED": 480},
             lateness=0.3),
        MemberSpec("riverbend-parks-and-recreation", {"MENTORED_YOUTH": 210}, lateness=0.35),
        MemberSpec("riverbend-public-library", {"TUTOR_SESSIONS": 1800}, lateness=0.1),
        MemberSpec("riverbend-office-of-workforce-development", {"EMP_PLACED": 240},
             lateness=0.15, shift=0.1),
        MemberSpec("read-together-riverbend", {"TUTOR_SESSIONS": 5200}, lateness=0.1),
        MemberSpec("math-bridges", {"MATH_TUTOR_STUDENTS": 420}, lateness=0.15,
             joins=3, shift=0.15),
        MemberSpec("youth-forward-riverbend", {"MENTORED_YOUTH": 380}, lateness=0.2, shift=0.1),
        MemberSpec("college-path-advising", {"FAFSA_DONE": 900, "PS_ENROLL": 850}, lateness=0.1,
             shift=0.2),
        MemberSpec("family-connections-network", {"HOME_VISITS": 2100}, lateness=0.2, shift=0.25),
        MemberSpec("next-step-workforce-alliance", {"EMP_PLACED": 310, "EMP_WAGE": 190},
             lateness=0.15, shift=0.2),
        MemberSpec("riverbend-community-college",
             {"PS_RETAIN": 2400, "PS_COMPLETE": 1900, "EMP_PLACED": 600, "EMP_WAGE": 380},
             lateness=0.1, shift=0.1),
        MemberSpec("university-of-riverbend", {"PS_RETAIN": 4100, "PS_COMPLETE": 3600},
             lateness=0.05, shift=-0.12),
        MemberSpec("meridian-manufacturing", {"INTERNSHIPS": 45}, lateness=0.2,
             shares_with_funders=False),
        MemberSpec("first-riverbend-bank", {"INTERNSHIPS": 30}, lateness=0.1),
        MemberSpec("riverbend-regional-chamber", {"INTERNSHIPS": 140}, lateness=0.15),
        MemberSpec("riverbend-childrens-health", {"WELL_CHILD": 5400}, lateness=0.1,
             shares_with_funders=False),
        MemberSpec("greater-riverbend-community-foundation", {}),
        MemberSpec("united-way-of-greater-riverbend", {}),
        MemberSpec("harbor-light-foundation", {}),
    ),
)

HEAT_SEASON = (0.08, 0.55, 1.0, 0.2)
HEAT = InitiativeSpec(
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
        count_indicator("HEAT_ED_VISITS", "fewer_heat_illnesses", "Heat-related emergency visits",
               "Emergency-department visits with a heat-related diagnosis code.", "visits",
               "Hospital emergency-department records", dims=("age", "gender"),
               direction="lower", change=0.2, noise=0.08, season=HEAT_SEASON, weather=True),
        count_indicator("HEAT_EMS_CALLS", "fewer_heat_illnesses", "Heat-related EMS calls",
               "Emergency medical service calls coded as heat exposure or heat illness.",
               "calls", "County EMS dispatch data", dims=("age",), direction="lower",
               change=0.2, noise=0.08, season=HEAT_SEASON, weather=True),
        count_indicator("COOLING_VISITS", "safe_at_home", "Cooling-centre visits",
               "Visits to public cooling and respite centres.", "visits",
               "Cooling-centre sign-in sheets", dims=("age", "gender"), change=0.3, noise=0.07,
               season=(0.05, 0.6, 1.0, 0.15), weather=True),
        count_indicator("SHUTOFF_PROTECTED", "safe_at_home", "Households protected from shut-offs",
               "Residential accounts enrolled in summer disconnection protection or bill "
               "assistance at quarter end.", "households", "Utility billing system",
               change=0.25, noise=0.04),
        rate_indicator("AC_WORKING", "safe_at_home", "Assisted homes with working cooling",
             "Share of assisted households whose air conditioning or evaporative cooler works "
             "at the follow-up visit.", "Partner home-visit checklists", start=71, change=14,
             spread=5, noise=2.0),
        count_indicator("TREES_PLANTED", "cooler_neighbourhoods", "Shade trees planted",
               "Shade trees planted in priority neighbourhoods.", "trees",
               "Partner planting logs", change=0.35, noise=0.1, season=(1.0, 0.35, 0.05, 0.9)),
        rate_indicator("TREE_CANOPY", "cooler_neighbourhoods", "Tree canopy cover in priority areas",
             "Tree canopy area as a share of the land area of the priority neighbourhoods "
             "(m² of canopy / m² of land).", "Aerial imagery classification", start=9.4,
             change=2.6, spread=0.6, noise=0.05, size_noise=0.0, decimals=2),
    ),
    members=(
        MemberSpec("saguaro-county-public-health", {"HEAT_EMS_CALLS": 900}, lateness=0.1),
        MemberSpec("valley-cities-office-of-heat-response",
             {"COOLING_VISITS": 5200, "TREES_PLANTED": 1400, "TREE_CANOPY": 18_400_000},
             lateness=0.15),
        MemberSpec("desert-palms-medical-center", {"HEAT_ED_VISITS": 640}, lateness=0.2),
        MemberSpec("cool-refuge-network", {"COOLING_VISITS": 8800, "AC_WORKING": 450},
             lateness=0.25),
        MemberSpec("shade-canopy-coalition", {"TREES_PLANTED": 2100}, lateness=0.1),
        MemberSpec("sonoran-power-and-water", {"SHUTOFF_PROTECTED": 12500, "AC_WORKING": 900},
             lateness=0.05),
        MemberSpec("harbor-light-foundation", {}),
    ),
)

INITIATIVES = (CRADLE, HEAT)
DEMO_INITIATIVE_SLUGS = tuple(i.slug for i in INITIATIVES)

# Phoenix summers: 2024 set records. Multiplies heat-driven counts by calendar year; a year not
# listed gets a summer drawn from the seed.
HEAT_YEARS = {2023: 0.95, 2024: 1.2, 2025: 1.06, 2026: 1.0}

ORGANISATIONS = (
    OrganisationSpec("riverbend-public-schools", "Riverbend Public Schools", "education",
         "The city's school district, 38,000 students in 61 schools."),
    OrganisationSpec("north-valley-unified", "North Valley Unified School District", "education",
         "A suburban district north of the river."),
    OrganisationSpec("east-hills-school-district", "East Hills School District", "education",
         "A district serving the eastern suburbs."),
    OrganisationSpec("cedar-grove-charter-network", "Cedar Grove Charter Network", "education",
         "Five public charter schools, K-12."),
    OrganisationSpec("bright-start-early-learning", "Bright Start Early Learning Centers",
         "early_childhood", "Nine child-care and pre-K centres."),
    OrganisationSpec("riverbend-head-start", "Riverbend Head Start", "early_childhood",
         "Head Start and Early Head Start for income-eligible families."),
    OrganisationSpec("little-oaks-preschool-collaborative", "Little Oaks Preschool Collaborative",
         "early_childhood", "A network of family child-care homes."),
    OrganisationSpec("riverbend-parks-and-recreation", "City of Riverbend Parks and Recreation",
         "government", "Runs recreation centres and youth programmes."),
    OrganisationSpec("riverbend-public-library", "Riverbend Public Library", "government",
         "Twelve branches with reading programmes for young children."),
    OrganisationSpec("riverbend-office-of-workforce-development",
         "City of Riverbend Office of Workforce Development", "government",
         "Job training and placement for city residents."),
    OrganisationSpec("read-together-riverbend", "Read Together Riverbend", "nonprofit",
         "Volunteer reading tutors in elementary schools."),
    OrganisationSpec("math-bridges", "Math Bridges", "nonprofit", "Math tutoring for middle-school students."),
    OrganisationSpec("youth-forward-riverbend", "Youth Forward Riverbend", "nonprofit",
         "Mentoring and after-school programmes for teens."),
    OrganisationSpec("college-path-advising", "College Path Advising", "nonprofit",
         "College and financial-aid advising in high schools."),
    OrganisationSpec("family-connections-network", "Family Connections Network", "community",
         "Home visiting for families with infants and toddlers."),
    OrganisationSpec("next-step-workforce-alliance", "Next Step Workforce Alliance", "nonprofit",
         "Sector training in health care, IT and advanced manufacturing."),
    OrganisationSpec("riverbend-community-college", "Riverbend Community College", "higher_education",
         "Two-year college with four campuses."),
    OrganisationSpec("university-of-riverbend", "University of Riverbend", "higher_education",
         "Public research university."),
    OrganisationSpec("meridian-manufacturing", "Meridian Manufacturing", "business",
         "Precision parts maker; hosts paid internships."),
    OrganisationSpec("first-riverbend-bank", "First Riverbend Bank", "business", "Regional bank."),
    OrganisationSpec("riverbend-regional-chamber", "Riverbend Regional Chamber of Commerce", "business",
         "Brokers internships with member employers."),
    OrganisationSpec("riverbend-childrens-health", "Riverbend Children's Health System", "health",
         "Children's hospital and 14 paediatric clinics."),
    OrganisationSpec("greater-riverbend-community-foundation", "Greater Riverbend Community Foundation",
         "philanthropy", "Community foundation; funds the backbone."),
    OrganisationSpec("united-way-of-greater-riverbend", "United Way of Greater Riverbend", "philanthropy",
         "Funds early-learning and family-stability programmes."),
    OrganisationSpec("harbor-light-foundation", "Harbor Light Foundation", "philanthropy",
         "A national foundation funding both demo initiatives."),
    OrganisationSpec("saguaro-county-public-health", "Saguaro County Department of Public Health",
         "government", "Heat surveillance and the county heat-relief network."),
    OrganisationSpec("valley-cities-office-of-heat-response", "Valley Cities Office of Heat Response",
         "government", "Runs cooling centres and the shade and tree programme."),
    OrganisationSpec("desert-palms-medical-center", "Desert Palms Medical Center", "health",
         "Hospital with the region's busiest emergency department."),
    OrganisationSpec("cool-refuge-network", "Cool Refuge Network", "nonprofit",
         "Faith and community cooling centres; home cooling repairs."),
    OrganisationSpec("shade-canopy-coalition", "Shade Canopy Coalition", "nonprofit",
         "Plants and waters shade trees with neighbours."),
    OrganisationSpec("sonoran-power-and-water", "Sonoran Power & Water", "business",
         "Electric and water utility."),
)
# fmt: on
DEMO_ORGANISATION_SLUGS = tuple(o.slug for o in ORGANISATIONS)
