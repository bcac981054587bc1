"""Program templates between the core and the database: a version row holds a
:class:`~kapstone.clinical.programs.ProgramTemplate` (nested parts and their sources as JSON), and an
edit by the medical director builds the next template, keeping each part's source when the part is
unchanged and marking what changed as the director's clinic policy.

The functions here take the model class so that the seeding migration can use them with its
historical model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kapstone.clinical.access import Modality
from kapstone.clinical.problems import Problem
from kapstone.clinical.programs import (
    DEFAULT_TEMPLATES,
    STANDARD_IV_INDUCTION,
    IntegrationSession,
    MeasurementHint,
    ProgramTemplate,
    SessionLength,
    StandardDose,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

# Which kapstone.measures plan a program's signed plan starts; other programs have none yet.
DEFAULT_MEASUREMENT_PLANS: Mapping[str, str] = {
    "intensive_retreat": "intensive-retreat",
    "standard_iv_induction": "standard-induction",
}
SEED_REASON = "Seeded from the clinic's default program templates."


# --- sources ----------------------------------------------------------------------------------


def source_data(source: Source) -> dict[str, str]:
    return {
        "key": source.key,
        "verification": source.verification.value,
        "evidence": source.evidence.value,
        "note": source.note,
    }


def source_from(data: Mapping[str, Any]) -> Source:
    return Source(
        str(data["key"]),
        Verification(data["verification"]),
        Evidence(data["evidence"]),
        str(data.get("note", "")),
    )


def _number(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --- template <-> row -------------------------------------------------------------------------


def template_fields(t: ProgramTemplate) -> dict[str, Any]:
    """The row's fields for a template (without its history: supersedes, who, when, why)."""
    i = t.integration
    return {
        "key": t.key,
        "version": t.version,
        "name": t.name,
        "description": t.description,
        "routes": [r.value for r in t.routes],
        "dosing_sessions": t.dosing_sessions,
        "sessions_per_period": t.sessions_per_period,
        "period_days": t.period_days,
        "course_weeks": t.course_weeks,
        "min_gap_days": t.min_gap_days,
        "integration": {
            "required": i.required,
            "minutes_min": i.minutes_min,
            "minutes_max": i.minutes_max,
            "within_hours": i.within_hours,
            "source": source_data(i.source),
        },
        "modalities": [m.value for m in t.modalities],
        "session_lengths": [
            {
                "route": s.route.value,
                "preparation_minutes": s.preparation_minutes,
                "dosing_minutes": s.dosing_minutes,
                "observation_minutes": s.observation_minutes,
                "source": source_data(s.source),
            }
            for s in t.session_lengths
        ],
        "measurement": [
            {"instrument": m.instrument, "when": m.when, "source": source_data(m.source)}
            for m in t.measurement
        ],
        "source": source_data(t.source),
        "standard_dose": None
        if t.standard_dose is None
        else {
            "route": t.standard_dose.route.value,
            "mg_per_kg": str(t.standard_dose.mg_per_kg),
            "minutes": _number(t.standard_dose.minutes),
            "source": source_data(t.standard_dose.source),
        },
        "relapse_rules_may_trigger": t.relapse_rules_may_trigger,
    }


def template_from_row(row: Any) -> ProgramTemplate:
    i = row.integration
    dose = row.standard_dose
    return ProgramTemplate(
        key=row.key,
        name=row.name,
        version=row.version,
        description=row.description,
        routes=tuple(Route(r) for r in row.routes),
        dosing_sessions=row.dosing_sessions,
        sessions_per_period=row.sessions_per_period,
        period_days=row.period_days,
        course_weeks=row.course_weeks,
        min_gap_days=row.min_gap_days,
        integration=IntegrationSession(
            required=bool(i["required"]),
            minutes_min=int(i["minutes_min"]),
            minutes_max=int(i["minutes_max"]),
            within_hours=int(i["within_hours"]),
            source=source_from(i["source"]),
        ),
        modalities=tuple(Modality(m) for m in row.modalities),
        session_lengths=tuple(
            SessionLength(
                Route(s["route"]),
                int(s["preparation_minutes"]),
                int(s["dosing_minutes"]),
                int(s["observation_minutes"]),
                source_from(s["source"]),
            )
            for s in row.session_lengths
        ),
        measurement=tuple(
            MeasurementHint(m["instrument"], m["when"], source_from(m["source"]))
            for m in row.measurement
        ),
        source=source_from(row.source),
        standard_dose=None
        if dose is None
        else StandardDose(
            Route(dose["route"]),
            Decimal(dose["mg_per_kg"]),
            None if dose["minutes"] is None else Decimal(dose["minutes"]),
            source_from(dose["source"]),
        ),
        relapse_rules_may_trigger=bool(row.relapse_rules_may_trigger),
    )


# --- seeding ----------------------------------------------------------------------------------


def seed_missing(model: Any, *, now: dt.datetime) -> list[Any]:
    """Adds the first version of each default template whose key the clinic does not have yet.

    A key already present is left alone, whatever its versions: the medical director's edits win.
    """
    created = []
    for key, template in DEFAULT_TEMPLATES.items():
        if model.objects.filter(key=key).exists():
            continue
        created.append(
            model.objects.create(
                **template_fields(template),
                measurement_plan=DEFAULT_MEASUREMENT_PLANS.get(key, ""),
                supersedes=None,
                change_reason=SEED_REASON,
                created_by=None,
                created_at=now,
            )
        )
    return created


# --- the medical director's edits -------------------------------------------------------------


@dataclass(frozen=True)
class TemplateChanges:
    """What the medical director's form gives: every editable part of a template."""

    name: str
    description: str
    routes: tuple[Route, ...]
    dosing_sessions: int
    sessions_per_period: int
    period_days: int
    course_weeks: int
    min_gap_days: int
    integration_required: bool
    integration_minutes_min: int
    integration_minutes_max: int
    integration_within_hours: int
    modalities: tuple[Modality, ...]
    # route -> (preparation, dosing, observation) minutes, for the routes offered
    session_minutes: Mapping[Route, tuple[int, int, int]] = field(default_factory=dict)
    standard_route: Route | None = None
    standard_mg_per_kg: Decimal | None = None
    standard_minutes: Decimal | None = None
    relapse_rules_may_trigger: bool = False
    measurement_plan: str = ""


def changes_from(t: ProgramTemplate, measurement_plan: str) -> TemplateChanges:
    """A template as the form shows it (the starting point of an edit)."""
    dose = t.standard_dose
    return TemplateChanges(
        name=t.name,
        description=t.description,
        routes=t.routes,
        dosing_sessions=t.dosing_sessions,
        sessions_per_period=t.sessions_per_period,
        period_days=t.period_days,
        course_weeks=t.course_weeks,
        min_gap_days=t.min_gap_days,
        integration_required=t.integration.required,
        integration_minutes_min=t.integration.minutes_min,
        integration_minutes_max=t.integration.minutes_max,
        integration_within_hours=t.integration.within_hours,
        modalities=t.modalities,
        session_minutes={
            s.route: (s.preparation_minutes, s.dosing_minutes, s.observation_minutes)
            for s in t.session_lengths
        },
        standard_route=dose.route if dose else None,
        standard_mg_per_kg=dose.mg_per_kg if dose else None,
        standard_minutes=dose.minutes if dose else None,
        relapse_rules_may_trigger=t.relapse_rules_may_trigger,
        measurement_plan=measurement_plan,
    )


def default_session_minutes(route: Route) -> tuple[int, int, int]:
    """Starting values for a route a template did not offer before (the clinic's defaults)."""
    for template in DEFAULT_TEMPLATES.values():
        for s in template.session_lengths:
            if s.route is route:
                return (s.preparation_minutes, s.dosing_minutes, s.observation_minutes)
    return (15, 15, 90)


def _director(key: str, reason: str) -> Source:
    return Source(
        key,
        Verification.UNVERIFIED,
        Evidence.CLINIC_POLICY,
        f"set by the medical director: {reason}",
    )


def build_template(
    *,
    key: str,
    version: str,
    changes: TemplateChanges,
    previous: ProgramTemplate | None,
    reason: str,
) -> ProgramTemplate:
    """The template an edit (or a new template) makes. A part the director left as it was keeps
    its source; a changed part becomes clinic policy citing the director's reason."""
    c = changes
    schedule = (
        c.routes,
        c.dosing_sessions,
        c.sessions_per_period,
        c.period_days,
        c.course_weeks,
        c.min_gap_days,
    )
    source = _director("§3", reason)
    if previous is not None and schedule == (
        previous.routes,
        previous.dosing_sessions,
        previous.sessions_per_period,
        previous.period_days,
        previous.course_weeks,
        previous.min_gap_days,
    ):
        source = previous.source

    integration_source = _director("§10", reason)
    if previous is not None and (
        c.integration_required,
        c.integration_minutes_min,
        c.integration_minutes_max,
        c.integration_within_hours,
    ) == (
        previous.integration.required,
        previous.integration.minutes_min,
        previous.integration.minutes_max,
        previous.integration.within_hours,
    ):
        integration_source = previous.integration.source

    before = {s.route: s for s in previous.session_lengths} if previous else {}
    lengths = []
    for route in c.routes:
        minutes = c.session_minutes.get(route, default_session_minutes(route))
        kept = before.get(route)
        if kept is not None and minutes == (
            kept.preparation_minutes,
            kept.dosing_minutes,
            kept.observation_minutes,
        ):
            lengths.append(kept)
        else:
            lengths.append(SessionLength(route, *minutes, source=_director("§2.3", reason)))

    standard = None
    if c.standard_route is not None and c.standard_mg_per_kg is not None:
        old = previous.standard_dose if previous else None
        if old is not None and (old.route, old.mg_per_kg, old.minutes) == (
            c.standard_route,
            c.standard_mg_per_kg,
            c.standard_minutes,
        ):
            standard = old
        else:
            standard = StandardDose(
                c.standard_route, c.standard_mg_per_kg, c.standard_minutes, _director("§3", reason)
            )

    return ProgramTemplate(
        key=key,
        name=c.name.strip(),
        version=version,
        description=c.description.strip(),
        routes=c.routes,
        dosing_sessions=c.dosing_sessions,
        sessions_per_period=c.sessions_per_period,
        period_days=c.period_days,
        course_weeks=c.course_weeks,
        min_gap_days=c.min_gap_days,
        integration=IntegrationSession(
            required=c.integration_required,
            minutes_min=c.integration_minutes_min,
            minutes_max=c.integration_minutes_max,
            within_hours=c.integration_within_hours,
            source=integration_source,
        ),
        modalities=c.modalities,
        session_lengths=tuple(lengths),
        # Measurement hints are descriptive; the measurement plan below is what is scheduled.
        measurement=previous.measurement if previous else STANDARD_IV_INDUCTION.measurement,
        source=source,
        standard_dose=standard,
        relapse_rules_may_trigger=c.relapse_rules_may_trigger,
    )


def problem_field(name: str) -> str:
    """The form field a core template problem's field belongs to."""
    if name.startswith("session_lengths."):
        return f"{name.split('.', 1)[1]}_observation_minutes"
    return {
        "integration.minutes": "integration_minutes_min",
        "integration.within_hours": "integration_within_hours",
        "standard_dose.route": "standard_route",
        "key": "key",
        "version": "",
    }.get(name, name)


def problem_message(problem: Problem) -> str:
    return f"{problem.field.replace('_', ' ')}: {problem.message} (accepted: {problem.accepts})"
