"""Reads for the patient's own program pages: the program and its sessions, questionnaires due,
scores over time, and the home page's cards. Every value comes from the patient's own rows (the
signed plan, their bookings, their questionnaire sets); each page view is audited as theirs.

Times are the site's wall-clock time (naive, so a template shows them as the site's, not the
server's), and the site's time zone is named beside them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import chain

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kapstone.assessments.flow import CLINICIAN_RATED, short_name
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet, ResponseStatus
from kapstone.audit.trail import record
from kapstone.charts.score_trajectory import ScorePoint, ScoreSeries, bands_from_definition
from kapstone.clinical.access import Modality
from kapstone.clinical.instruments import INSTRUMENTS
from kapstone.clinical.instruments.definition import InstrumentDefinition
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.companion.models import PatientAccount
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.integration.models import IntegrationSession
from kapstone.outcomes.selectors import drawn_chart
from kapstone.patients.models import Patient
from kapstone.plans.models import TreatmentPlan
from kapstone.plans.selectors import plan_in_force
from kapstone.preparation import selectors as preparation
from kapstone.preparation.checklist import FASTING_ITEM, RIDE_HOME, fasting_times

# What the patient brings: clinic policy (nothing in the reference or the plan holds it).
WHAT_TO_BRING_SOURCE = Source(
    "§2.1",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "What to bring to a session; clinic policy, set by the medical director.",
)
BRING_TO_DOSING: tuple[Promise, ...] = (
    _("Photo ID"),
    _("Comfortable clothes"),
    _("An eye mask and music, if you want them"),
    _("The name and phone number of the person taking you home"),
)
BRING_TO_INTEGRATION: tuple[Promise, ...] = (_("Your journal or notes, if you keep them"),)

# Each integration modality in plain words (what the patient will do, not what it treats).
MODALITY_WORDS: dict[str, Promise] = {
    Modality.EMDR: _("EMDR: you recall a memory while following eye movements or taps."),
    Modality.ART: _(
        "Accelerated Resolution Therapy: eye movements help you change how a memory feels."
    ),
    Modality.IFS: _("Internal Family Systems: you get to know the different parts of yourself."),
    Modality.CBT: _("CBT: you look at thoughts and habits and try new ways to respond."),
    Modality.SOMATIC: _("Somatic therapy: you notice what your body feels and learn to settle it."),
    Modality.EXPOSURE: _("Exposure therapy: you face what you avoid, step by step, with support."),
    Modality.BEHAVIOURAL_ACTIVATION: _(
        "Behavioural activation: you plan small activities that matter to you."
    ),
}


def viewed(account: PatientAccount, patient: Patient, page: str) -> None:
    """The patient's own read of a page of theirs, on their chart's audit trail."""
    record(
        actor=None,
        actor_label=account.audit_label,
        action=f"companion.{page}.viewed",
        patient=patient,
        obj=patient,
        summary=f"The patient opened their {page} page in the companion",
    )


# --- the program and its sessions -----------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    name: str
    dosing_sessions: int
    modalities: tuple[Promise | str, ...]
    fasting: str  # the plan's Preparation words
    ride_home: str


@dataclass(frozen=True)
class SessionView:
    kind: str  # "dosing" or "integration"
    pk: int
    starts_at: dt.datetime  # site wall-clock time
    ends_at: dt.datetime
    time_zone: str
    site_name: str
    site_address: str
    site_phone: str
    past: bool
    bring: tuple[Promise, ...]
    modality: Promise | None = None  # integration: in plain words
    fasting: str = ""  # dosing: the plan's words
    no_food_from: dt.datetime | None = None  # dosing, when the plan keeps the clinic default
    no_drinks_from: dt.datetime | None = None
    ride_home: str = ""  # dosing: the plan's words
    rules_source: tuple[Source, ...] = ()


def program_of(patient: Patient) -> Program | None:
    plan = plan_in_force(patient)
    if plan is None:
        return None
    prep = plan.preparation
    return Program(
        name=plan.program.name,
        dosing_sessions=plan.program.dosing_sessions,
        modalities=tuple(MODALITY_WORDS.get(m) or m.label for m in plan.modality_values),
        fasting=prep.fasting.strip(),
        ride_home=prep.ride_home.strip(),
    )


def _dosing_view(s: DosingSession, plan: TreatmentPlan | None, now: dt.datetime) -> SessionView:
    zone = s.site.time_zone
    source_plan = s.plan if s.plan is not None else plan
    prep = source_plan.preparation if source_plan is not None else None
    times = fasting_times(s.starts_at, prep.fasting) if prep is not None else None
    return SessionView(
        kind="dosing",
        pk=s.pk,
        starts_at=preparation.local(s.starts_at, zone),
        ends_at=preparation.local(s.ends_at, zone),
        time_zone=zone,
        site_name=s.site.name,
        site_address=s.site.address,
        site_phone=s.site.phone,
        past=s.ends_at <= now,
        bring=BRING_TO_DOSING,
        fasting=prep.fasting.strip() if prep else "",
        no_food_from=preparation.local(times[0], zone) if times else None,
        no_drinks_from=preparation.local(times[1], zone) if times else None,
        ride_home=prep.ride_home.strip() if prep else "",
        rules_source=(FASTING_ITEM.source, RIDE_HOME.source),
    )


def _integration_view(s: IntegrationSession, now: dt.datetime) -> SessionView:
    zone = s.site.time_zone
    return SessionView(
        kind="integration",
        pk=s.pk,
        starts_at=preparation.local(s.starts_at, zone),
        ends_at=preparation.local(s.ends_at, zone),
        time_zone=zone,
        site_name=s.site.name,
        site_address=s.site.address,
        site_phone=s.site.phone,
        past=s.ends_at <= now,
        bring=BRING_TO_INTEGRATION,
        modality=MODALITY_WORDS.get(s.modality) if s.modality else None,
    )


def sessions(patient: Patient, now: dt.datetime) -> list[SessionView]:
    """Every booked (not cancelled) session: the coming ones first, next first; then the past
    ones, latest first. Three queries whatever the number of sessions."""
    plan = plan_in_force(patient)
    dosing = (
        DosingSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("site", "plan")
    )
    integration = (
        IntegrationSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("site")
    )
    views = list(
        chain(
            (_dosing_view(s, plan, now) for s in dosing),
            (_integration_view(s, now) for s in integration),
        )
    )
    coming = sorted((v for v in views if not v.past), key=lambda v: v.starts_at)
    past = sorted((v for v in views if v.past), key=lambda v: v.starts_at, reverse=True)
    return coming + past


# --- questionnaires due ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DueSet:
    pk: int
    names: tuple[str, ...]
    answered: int
    expires_at: dt.datetime  # the patient's home site's wall-clock time


def _open_sets(patient: Patient, now: dt.datetime) -> list[QuestionnaireSet]:
    """Sent to the patient as a link, not yet submitted, not expired. A tablet (kiosk) set is
    answered at the clinic; a clinician's rating is never the patient's to answer."""
    found = (
        QuestionnaireSet.objects.filter(
            patient=patient, kiosk=False, submitted_at__isnull=True, expires_at__gt=now
        )
        .prefetch_related("responses")
        .order_by("expires_at", "pk")
    )
    return [s for s in found if not any(n in CLINICIAN_RATED for n in s.instruments)]


def questionnaires_due(patient: Patient, now: dt.datetime) -> list[DueSet]:
    zone = patient.home_site.time_zone
    return [
        DueSet(
            pk=s.pk,
            names=tuple(short_name(n) for n in s.instruments),
            answered=sum(1 for r in s.responses.all() if r.status == ResponseStatus.SUBMITTED),
            expires_at=preparation.local(s.expires_at, zone),
        )
        for s in _open_sets(patient, now)
    ]


def own_open_set(patient: Patient, set_id: int, now: dt.datetime) -> QuestionnaireSet | None:
    """One of the patient's own open sets; None for anyone else's, a tablet's or a closed one."""
    return next((s for s in _open_sets(patient, now) if s.pk == set_id), None)


# --- progress ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    at: dt.datetime  # the patient's home site's wall-clock time
    total: int
    band: str  # the instrument's own band word, '' when the total has none


@dataclass(frozen=True)
class InstrumentProgress:
    name: str  # "PHQ-9"
    title: str
    max_total: int
    scores: tuple[Score, ...]  # oldest first
    bands: tuple[tuple[int, int, str, str], ...]  # (low, high, word, source key)
    chart_svg: str

    @property
    def first(self) -> Score:
        return self.scores[0]

    @property
    def last(self) -> Score:
        return self.scores[-1]


# The instruments' severity-band words, as the patient reads them (in their language). A word not
# listed here is shown as the instrument names it, with spaces for underscores.
BAND_WORDS: dict[str, Promise] = {
    "none": _("none"),
    "minimal": _("minimal"),
    "mild": _("mild"),
    "moderate": _("moderate"),
    "moderately_severe": _("moderately severe"),
    "severe": _("severe"),
}


def band_word(word: str) -> str:
    return str(BAND_WORDS.get(word, word.replace("_", " ")))


def _band(definition: InstrumentDefinition, total: int) -> str:
    return band_word(definition.band_for(total) or "")


def progress(patient: Patient, now: dt.datetime, *, draw: bool = True) -> list[InstrumentProgress]:
    """The patient's submitted self-report scores, one entry per instrument (library order), with
    the instrument's own severity bands and their source keys, and the outcomes tab's chart."""
    responses = QuestionnaireResponse.objects.filter(
        questionnaire_set__patient=patient,
        status=ResponseStatus.SUBMITTED,
        submitted_at__lte=now,
        total__isnull=False,
    ).order_by("submitted_at", "pk")
    by_instrument: dict[str, dict[dt.datetime, int]] = {}
    for r in responses:
        if r.instrument in CLINICIAN_RATED or r.submitted_at is None or r.total is None:
            continue
        by_instrument.setdefault(r.instrument, {})[r.submitted_at] = r.total
    zone = patient.home_site.time_zone
    result = []
    for name, definition in INSTRUMENTS.items():
        points = by_instrument.get(name)
        total_range = definition.scoring.total_range
        if not points or total_range is None:
            continue
        scores = tuple(
            Score(preparation.local(at, zone), total, _band(definition, total))
            for at, total in sorted(points.items())
        )
        label = short_name(name)
        svg = ""
        if draw:
            series = ScoreSeries(
                instrument=label,
                title=f"{label} total score",
                max_total=total_range[1],
                points=tuple(ScorePoint(s.at, s.total) for s in scores),
                bands=bands_from_definition(definition),
                dosing_sessions=(),
            )
            svg = drawn_chart(series, id_prefix=f"progress-{name.replace('_', '-')}")
        result.append(
            InstrumentProgress(
                name=label,
                title=definition.title,
                max_total=total_range[1],
                scores=scores,
                bands=tuple(
                    (b.low, b.high, band_word(b.word), b.source.key) for b in definition.bands
                ),
                chart_svg=svg,
            )
        )
    return result


# --- home -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    next_session: SessionView | None
    checklist: preparation.SessionChecklist | None  # the next dosing session's
    due: list[DueSet]


def home(patient: Patient, now: dt.datetime) -> Home:
    coming = [s for s in sessions(patient, now) if not s.past]
    checklists = preparation.checklists(patient, now)
    return Home(
        next_session=coming[0] if coming else None,
        checklist=checklists[0] if checklists else None,
        due=questionnaires_due(patient, now),
    )
