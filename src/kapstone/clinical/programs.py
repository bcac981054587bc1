"""Program templates as versioned data: retreat, IV induction, extended outpatient, maintenance.

Medical directors add and edit templates in the shell; :func:`validate_template` checks each edit,
and plans keep the ``key@version`` they were made from. The schedules come from the seed articles
(§3 records them, UNVERIFIED) unless a label or study is cited, so every template is clinic policy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from kapstone.clinical.access import Modality
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

ESKETAMINE_MIN_OBSERVATION_MINUTES = 120
ESKETAMINE_OBSERVATION_SOURCE = Source(
    "SPRAVATO-US", Verification.VERIFIED, Evidence.LABEL, "monitor at least 2 hours after each dose"
)


class CalendarRefused(Refused):
    """No nominal calendar can be laid out; ``problems`` says why."""


@dataclass(frozen=True, slots=True)
class SessionLength:
    """How long the chair and monitoring staff are needed for one dosing session on a route."""

    route: Route
    preparation_minutes: int  # pre-dose checklist and vitals
    dosing_minutes: int  # administration (an IV infusion's duration)
    observation_minutes: int  # after the dose, before discharge assessment
    source: Source

    @property
    def total_minutes(self) -> int:
        return self.preparation_minutes + self.dosing_minutes + self.observation_minutes


@dataclass(frozen=True, slots=True)
class IntegrationSession:
    required: bool
    minutes_min: int
    minutes_max: int
    within_hours: int  # after the dose
    source: Source


@dataclass(frozen=True, slots=True)
class MeasurementHint:
    instrument: str
    when: str
    source: Source


@dataclass(frozen=True, slots=True)
class StandardDose:
    route: Route
    mg_per_kg: Decimal
    minutes: Decimal | None
    source: Source


@dataclass(frozen=True, slots=True)
class ProgramTemplate:
    key: str
    name: str
    version: str
    description: str
    routes: tuple[Route, ...]
    dosing_sessions: int
    # Cadence: ``sessions_per_period`` doses every ``period_days`` (3 per 7, 1 per 14, 1 per 28).
    sessions_per_period: int
    period_days: int
    course_weeks: int
    min_gap_days: int
    integration: IntegrationSession
    modalities: tuple[Modality, ...]
    session_lengths: tuple[SessionLength, ...]
    measurement: tuple[MeasurementHint, ...]
    source: Source
    standard_dose: StandardDose | None = None
    # Maintenance: the relapse rules may bring the next dose forward.
    relapse_rules_may_trigger: bool = False

    @property
    def ref(self) -> str:
        """What a plan stores to keep the version it was made from."""
        return f"{self.key}@{self.version}"

    @property
    def sessions_per_week(self) -> Fraction:
        return Fraction(self.sessions_per_period * 7, self.period_days)

    def session_length(self, route: Route) -> SessionLength:
        for length in self.session_lengths:
            if length.route is route:
                return length
        raise KeyError(f"{self.ref} has no session length for {route.value}")


# --- validation -----------------------------------------------------------------------------------

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def validate_template(t: ProgramTemplate) -> list[Problem]:  # noqa: C901 (over the ceiling before it came in; to be split)
    """Every problem with a (medical director's) template; empty when it can be used."""
    problems: list[Problem] = []

    def problem(field: str, what: str, accepts: str) -> None:
        problems.append(Problem(field, what, accepts))

    if not _KEY.match(t.key):
        problem("key", f"{t.key!r} is not a key", "lower-case letters, digits and _")
    for name in ("name", "version", "description"):
        if not getattr(t, name).strip():
            problem(name, "is empty", "some text")
    if not t.routes:
        problem("routes", "no route allowed", "one or more routes")
    elif len(set(t.routes)) != len(t.routes):
        problem("routes", "a route is listed twice", "each route once")

    counts = {
        "dosing_sessions": t.dosing_sessions,
        "sessions_per_period": t.sessions_per_period,
        "period_days": t.period_days,
        "course_weeks": t.course_weeks,
        "min_gap_days": t.min_gap_days,
    }
    bad_counts = [name for name, value in counts.items() if value < 1]
    for name in bad_counts:
        problem(name, f"{counts[name]} is not a positive whole number", "at least 1")
    if not bad_counts:
        if t.dosing_sessions * t.period_days != t.sessions_per_period * t.course_weeks * 7:
            expected = Fraction(t.sessions_per_period * t.course_weeks * 7, t.period_days)
            problem(
                "dosing_sessions",
                f"{t.dosing_sessions} sessions do not match {t.sessions_per_period} every "
                f"{t.period_days} days for {t.course_weeks} weeks ({expected} sessions)",
                "dosing sessions = sessions per period x course days / period days",
            )
        if t.sessions_per_period * t.min_gap_days > t.period_days:
            problem(
                "min_gap_days",
                f"{t.sessions_per_period} sessions every {t.period_days} days cannot be "
                f"{t.min_gap_days} days apart",
                f"a minimum gap of at most {t.period_days // t.sessions_per_period} days",
            )

    i = t.integration
    if i.minutes_min < 1 or i.minutes_max < i.minutes_min:
        problem(
            "integration.minutes",
            f"{i.minutes_min}-{i.minutes_max} minutes is not a length",
            "0 < minimum <= maximum minutes (seed: 60-90)",
        )
    if i.required:
        if i.within_hours <= 0:
            problem("integration.within_hours", f"{i.within_hours} h", "a window > 0 hours")
        elif t.min_gap_days >= 1 and i.within_hours > t.min_gap_days * 24:
            problem(
                "integration.within_hours",
                f"a {i.within_hours} h window can run past the next dose "
                f"({t.min_gap_days} days later)",
                f"at most {t.min_gap_days * 24} hours",
            )
        if not t.modalities:
            problem("modalities", "integration is required but no modality is offered", "1+")

    lengths = {length.route: length for length in t.session_lengths}
    for route in t.routes:
        if route not in lengths:
            problem(f"session_lengths.{route.value}", "missing", "a session length for the route")
    for length in t.session_lengths:
        parts = (length.preparation_minutes, length.dosing_minutes, length.observation_minutes)
        if min(parts) < 0 or length.total_minutes <= 0:
            problem(f"session_lengths.{length.route.value}", f"{parts} minutes", "minutes >= 0")
        if (
            length.route is Route.INTRANASAL_ESKETAMINE
            and length.observation_minutes < ESKETAMINE_MIN_OBSERVATION_MINUTES
        ):
            problem(
                "session_lengths.intranasal_esketamine",
                f"{length.observation_minutes} minutes of observation",
                f"at least {ESKETAMINE_MIN_OBSERVATION_MINUTES} minutes "
                f"({ESKETAMINE_OBSERVATION_SOURCE.cite()})",
            )
    if t.standard_dose is not None and t.standard_dose.route not in t.routes:
        problem("standard_dose.route", f"{t.standard_dose.route.value} is not allowed", "a route")
    return problems


# --- calendar -------------------------------------------------------------------------------------


def course_calendar(
    template: ProgramTemplate,
    start: date,
    *,
    closed_weekdays: frozenset[int] = frozenset(),
    sessions: int | None = None,
) -> tuple[date, ...]:
    """Nominal dosing dates: each period's sessions spread evenly from ``start``.

    ``closed_weekdays`` (0 = Monday) moves a session to the next open day, keeping the minimum gap;
    a session that cannot stay inside its own period is refused rather than crowding the next one.
    ``sessions`` overrides the template's count (e.g. an open-ended maintenance course).
    """
    problems = validate_template(template)
    count = template.dosing_sessions if sessions is None else sessions
    if count < 1:
        problems.append(Problem("sessions", f"{count}", "at least 1 session"))
    if len(closed_weekdays) >= 7 or any(not 0 <= d <= 6 for d in closed_weekdays):
        problems.append(
            Problem("closed_weekdays", f"{sorted(closed_weekdays)}", "0-6, not all seven")
        )
    CalendarRefused.refuse_if_any(problems)

    n, p, gap = template.sessions_per_period, template.period_days, template.min_gap_days
    dates: list[date] = []
    for index in range(count):
        period, slot = divmod(index, n)
        period_start = start + timedelta(days=period * p)
        candidate = period_start + timedelta(days=slot * p // n)
        if dates:
            candidate = max(candidate, dates[-1] + timedelta(days=gap))
        while candidate.weekday() in closed_weekdays:
            candidate += timedelta(days=1)
        if candidate >= period_start + timedelta(days=p):
            raise CalendarRefused(
                [
                    Problem(
                        "closed_weekdays",
                        f"session {index + 1} cannot fall between {period_start} and "
                        f"{period_start + timedelta(days=p - 1)} at least {gap} days after the "
                        "previous dose on an open day",
                        "another start date or fewer closed days",
                    )
                ]
            )
        dates.append(candidate)
    return tuple(dates)


# --- the clinic's default templates ---------------------------------------------------------------

_V, _U = Verification.VERIFIED, Verification.UNVERIFIED
_POLICY = Evidence.CLINIC_POLICY
_VERSION = "2026-11-1"


def _session_lengths(*routes: Route) -> tuple[SessionLength, ...]:
    placeholder = "preparation and observation minutes are clinic policy (§2.3: configurable)"
    table = {
        Route.IV: SessionLength(
            Route.IV,
            15,
            40,
            60,
            Source("§2.2", _V, _POLICY, "BP/HR back to baseline within 1.5 h; " + placeholder),
        ),
        Route.IM: SessionLength(Route.IM, 15, 5, 90, Source("§2.3", _U, _POLICY, placeholder)),
        Route.SC: SessionLength(Route.SC, 15, 5, 90, Source("§2.3", _U, _POLICY, placeholder)),
        Route.SUBLINGUAL_LOZENGE: SessionLength(
            Route.SUBLINGUAL_LOZENGE, 15, 15, 90, Source("§2.3", _U, _POLICY, placeholder)
        ),
        Route.ORAL: SessionLength(Route.ORAL, 15, 5, 120, Source("§2.3", _U, _POLICY, placeholder)),
        Route.INTRANASAL_ESKETAMINE: SessionLength(
            Route.INTRANASAL_ESKETAMINE,
            15,
            15,
            ESKETAMINE_MIN_OBSERVATION_MINUTES,
            Source(
                "SPRAVATO-US",
                _V,
                Evidence.LABEL,
                "2 h observation VERIFIED; administration minutes are clinic policy",
            ),
        ),
    }
    return tuple(table[route] for route in routes)


def _measurement(every: str) -> tuple[MeasurementHint, ...]:
    design_choice = Source(
        "§2.1", _U, _POLICY, "measurement-based care; schedule is a design choice"
    )
    return (
        MeasurementHint("PHQ-9 (with item 9)", every, design_choice),
        MeasurementHint("GAD-7", every, design_choice),
        MeasurementHint("C-SSRS screener", "before each dosing session", design_choice),
        MeasurementHint(
            "CADSS",
            "at about 40 minutes (peak) in each dosing session",
            Source("§2.2", _U, _POLICY, "rate CADSS at ~40 min / peak; scale in §4.10"),
        ),
    )


def _integration(within_hours: int) -> IntegrationSession:
    return IntegrationSession(
        required=True,
        minutes_min=60,
        minutes_max=90,
        within_hours=within_hours,
        source=Source("§10", _U, _POLICY, "seed articles: 60-90 min after each ketamine session"),
    )


ALL_MODALITIES = tuple(Modality)
RACEMIC_ROUTES = (Route.IV, Route.IM, Route.SC, Route.SUBLINGUAL_LOZENGE, Route.ORAL)

INTENSIVE_RETREAT = ProgramTemplate(
    key="intensive_retreat",
    name="Intensive retreat",
    version=_VERSION,
    description="Six dosing sessions over two weeks, three a week, each followed by integration "
    "psychotherapy within 24 hours.",
    routes=(Route.IV, Route.IM, Route.SUBLINGUAL_LOZENGE),
    dosing_sessions=6,
    sessions_per_period=3,
    period_days=7,
    course_weeks=2,
    min_gap_days=1,
    integration=_integration(24),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(Route.IV, Route.IM, Route.SUBLINGUAL_LOZENGE),
    measurement=_measurement("before each dosing session"),
    source=Source(
        "§3",
        _U,
        _POLICY,
        "seeds: 3-5 sessions a week over 1-2 weeks; 6 infusions thrice weekly over 12 days "
        "(Murrough 2013, SECONDARY)",
    ),
)

STANDARD_IV_INDUCTION = ProgramTemplate(
    key="standard_iv_induction",
    name="Standard IV induction",
    version=_VERSION,
    description="IV ketamine 0.5 mg/kg over 40 minutes twice a week for three weeks (six "
    "infusions), each followed by integration.",
    routes=(Route.IV,),
    dosing_sessions=6,
    sessions_per_period=2,
    period_days=7,
    course_weeks=3,
    min_gap_days=2,
    integration=_integration(48),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(Route.IV),
    measurement=_measurement("before each dosing session"),
    source=Source("§3", _U, _POLICY, "seeds: two infusions a week for 2-3 weeks (4-6 sessions)"),
    standard_dose=StandardDose(
        Route.IV,
        Decimal("0.5"),
        Decimal(40),
        Source("ANDRADE2017-DOSE", _V, Evidence.PUBLISHED_PRACTICE),
    ),
)

EXTENDED_OUTPATIENT_WEEKLY = ProgramTemplate(
    key="extended_outpatient_weekly",
    name="Extended outpatient (weekly)",
    version=_VERSION,
    description="One dosing session a week for twelve weeks, with integration between sessions.",
    routes=RACEMIC_ROUTES,
    dosing_sessions=12,
    sessions_per_period=1,
    period_days=7,
    course_weeks=12,
    min_gap_days=5,
    integration=_integration(72),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(*RACEMIC_ROUTES),
    measurement=_measurement("weekly, before the dosing session"),
    source=Source(
        "GLUE2018",
        _V,
        _POLICY,
        "SC 1 mg/kg once or twice weekly for 3 months (anxiety); seeds: weekly or fortnightly "
        "over several months (UNVERIFIED)",
    ),
)

EXTENDED_OUTPATIENT_FORTNIGHTLY = ProgramTemplate(
    key="extended_outpatient_fortnightly",
    name="Extended outpatient (fortnightly)",
    version=_VERSION,
    description="One dosing session every two weeks for twelve weeks, with integration.",
    routes=RACEMIC_ROUTES,
    dosing_sessions=6,
    sessions_per_period=1,
    period_days=14,
    course_weeks=12,
    min_gap_days=10,
    integration=_integration(72),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(*RACEMIC_ROUTES),
    measurement=_measurement("every two weeks, before the dosing session"),
    source=Source("§3", _U, _POLICY, "seeds: weekly or fortnightly sessions over several months"),
)

MAINTENANCE_MONTHLY = ProgramTemplate(
    key="maintenance_monthly",
    name="Maintenance (monthly, or as relapse rules trigger)",
    version=_VERSION,
    description="A dosing session every four weeks for six months, reviewed at each visit; the "
    "relapse rules may bring a dose forward.",
    routes=(*RACEMIC_ROUTES, Route.INTRANASAL_ESKETAMINE),
    dosing_sessions=6,
    sessions_per_period=1,
    period_days=28,
    course_weeks=24,
    min_gap_days=7,
    integration=_integration(72),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(*RACEMIC_ROUTES, Route.INTRANASAL_ESKETAMINE),
    measurement=_measurement("at each visit and between visits every two weeks"),
    source=Source(
        "ANDRADE2017-DOSE",
        _V,
        _POLICY,
        "frequency best individualised; a fixed monthly/quarterly schedule is UNVERIFIED (§9)",
    ),
    relapse_rules_may_trigger=True,
)

ESKETAMINE_INDUCTION = ProgramTemplate(
    key="esketamine_induction",
    name="Esketamine induction",
    version=_VERSION,
    description="Spravato twice a week for four weeks (day 1 56 mg, then 56 or 84 mg), at least "
    "2 hours' observation each time; integration is the clinic's addition, not the label's.",
    routes=(Route.INTRANASAL_ESKETAMINE,),
    dosing_sessions=8,
    sessions_per_period=2,
    period_days=7,
    course_weeks=4,
    min_gap_days=2,
    integration=_integration(48),
    modalities=ALL_MODALITIES,
    session_lengths=_session_lengths(Route.INTRANASAL_ESKETAMINE),
    measurement=_measurement("before each dosing session"),
    source=Source("SPRAVATO-US", _V, Evidence.LABEL, "induction weeks 1-4 twice weekly"),
)

DEFAULT_TEMPLATES: Mapping[str, ProgramTemplate] = MappingProxyType(
    {
        t.key: t
        for t in (
            INTENSIVE_RETREAT,
            STANDARD_IV_INDUCTION,
            EXTENDED_OUTPATIENT_WEEKLY,
            EXTENDED_OUTPATIENT_FORTNIGHTLY,
            MAINTENANCE_MONTHLY,
            ESKETAMINE_INDUCTION,
        )
    }
)
