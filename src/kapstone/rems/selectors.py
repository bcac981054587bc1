"""Reads for REMS monitoring forms: the facts a signed esketamine session gives the form (read
from the chair-side record), the sessions still without a form, and the filing queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from kapstone.accounts.models import Site, StaffUser
from kapstone.chairside.models import AdverseEventKind, ChairsideRecord
from kapstone.clinical.monitoring_policy import MonitoringPolicy
from kapstone.clinical.rems_pmf import (
    SCHEMAS,
    AdverseEffect,
    ConcomitantClass,
    DeadlineState,
    DeviceDose,
    FilingStatus,
    FilledPmf,
    PmfAdverseEvent,
    PmfDissociation,
    PmfFacts,
    PmfMedication,
    PmfPatient,
    PmfPerson,
    PmfReading,
    PmfSchema,
    PmfSetting,
    deadline_state,
    fill_pmf,
)
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import DissociationScale, SedationLevel
from kapstone.dosing.models import DosingSession
from kapstone.intake.selectors import current_intake
from kapstone.patients.models import Patient
from kapstone.patients.selectors import patients_visible_to
from kapstone.policies.models import MonitoringPolicyVersion
from kapstone.policies.selectors import policy_from
from kapstone.rems.models import RemsForm

ESKETAMINE = Route.INTRANASAL_ESKETAMINE.value
_CLASSES = {c.value for c in ConcomitantClass}
# Emergence reactions are dissociative; the chair side has no sedation or respiratory-depression
# kind (sedation is charted as a level on each reading).
_EFFECT_OF_KIND = {AdverseEventKind.EMERGENCE_REACTION.value: AdverseEffect.DISSOCIATION}


def site_zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.time_zone)


def local_today(site: Site, now: dt.datetime) -> dt.date:
    """The form's deadline is a calendar day where the session took place."""
    return now.astimezone(site_zone(site)).date()


def signed_esketamine_records() -> QuerySet[ChairsideRecord]:
    return ChairsideRecord.objects.filter(route=ESKETAMINE, signed_at__isnull=False)


def sessions_without_form(patients: QuerySet[Patient] | None = None) -> QuerySet[DosingSession]:
    """Signed esketamine sessions that have no REMS form yet, oldest first."""
    records = signed_esketamine_records()
    if patients is not None:
        records = records.filter(session__patient__in=patients)
    return (
        DosingSession.objects.filter(pk__in=records.values("session_id"), rems_form__isnull=True)
        .select_related("patient", "site")
        .order_by("starts_at", "pk")
    )


def _person(user: StaffUser | None) -> PmfPerson | None:
    if user is None:
        return None
    return PmfPerson(user.first_name, user.last_name, user.email)


def _whole_mg(value: Decimal) -> int:
    # Esketamine doses are whole devices of 28 mg (§3); a fraction would be a charting error the
    # form shows as it is rather than rounding away.
    return int(value) if value == value.to_integral_value() else int(value.quantize(Decimal(1)))


def _medications(
    patient: Patient, zone: ZoneInfo
) -> tuple[tuple[PmfMedication, ...] | None, dt.date | None]:
    intake = current_intake(patient)
    if intake is None or "medications" not in (intake.sections_done or []):
        return None, None
    meds = []
    for m in intake.facts.get("medications") or []:
        classes = frozenset(
            ConcomitantClass(c) for c in m.get("interaction_classes", []) if c in _CLASSES
        )
        meds.append(PmfMedication(str(m.get("name", "")), classes))
    return tuple(meds), intake.saved_at.astimezone(zone).date()


def facts_for_session(session: DosingSession) -> PmfFacts:
    """What the session's chair-side record says, in the clinic's local time, for the form."""
    record = (
        ChairsideRecord.objects.select_related(
            "session__patient", "session__site", "session__nurse", "signed_by"
        )
        .prefetch_related("doses__lot", "vitals__strike", "dissociation", "adverse_events")
        .get(session=session)
    )
    patient, site = record.session.patient, record.session.site
    zone = site_zone(site)

    def local(when: dt.datetime) -> dt.datetime:
        return when.astimezone(zone)

    doses = tuple(
        DeviceDose(
            local(d.started_at), _whole_mg(d.dose_mg), d.devices, d.lot.lot_number if d.lot else ""
        )
        for d in record.doses.all()
    )
    readings = tuple(
        PmfReading(
            taken_at=local(v.taken_at),
            systolic_mmhg=v.systolic,
            diastolic_mmhg=v.diastolic,
            heart_rate_bpm=v.heart_rate,
            spo2_percent=v.spo2,
            respiratory_rate_per_min=v.respiratory_rate,
            sedation=SedationLevel(v.sedation) if v.sedation else None,
            is_baseline=v.is_baseline,
        )
        for v in record.vitals.all()
        # A struck reading was wrong: it never reaches the form. A monitor reading held as a
        # possible artifact neither (the next reading confirms it, and that one counts); other
        # monitor readings fill the form like typed ones (the nurse verified them before signing).
        if not v.is_struck and not v.is_held
    )
    dissociation = tuple(
        PmfDissociation(local(r.taken_at), DissociationScale(r.scale), r.score)
        for r in record.dissociation.all()
    )
    events = tuple(
        PmfAdverseEvent(
            occurred_at=local(e.onset_at),
            description=(
                f"{e.get_kind_display()}{': ' + e.description if e.description else ''} "
                f"({e.get_severity_display().lower()}) at {local(e.onset_at):%H:%M}"
            ),
            effect=_EFFECT_OF_KIND.get(e.kind, AdverseEffect.OTHER),
            serious=None,  # the chair side grades severity, not seriousness
        )
        for e in record.adverse_events.all()
    )
    discharge = getattr(record, "discharge", None)
    ended = discharge.signed_at if discharge is not None else record.discharged_at
    monitor = (
        discharge.signed_by if discharge is not None else (record.signed_by or record.session.nurse)
    )
    first = min((d.given_at for d in doses), default=local(session.starts_at))
    prior = (
        signed_esketamine_records()
        .filter(session__patient=patient, session__starts_at__lt=session.starts_at)
        .count()
    )
    medications, as_of = _medications(patient, zone)
    return PmfFacts(
        patient=PmfPatient(
            first_name=patient.given_name,
            last_name=patient.family_name,
            date_of_birth=patient.date_of_birth,
            sex=patient.get_sex_at_birth_display(),
        ),
        setting=PmfSetting(site.name, site.address, site.phone),
        session_date=first.date(),
        monitoring_provider=_person(monitor),
        doses=doses,
        readings=readings,
        dissociation=dissociation,
        adverse_events=events,
        monitoring_ended_at=local(ended) if ended is not None else None,
        ready_to_leave_minutes=None,  # not charted at the chair side yet
        prior_esketamine_sessions=prior,
        rems_enrolled=None,  # Kapstone does not record REMS patient enrolment yet
        medications=medications,
        medications_as_of=as_of,
        patient_age_years=patient.age_on(first.date()),
        proceed_decision_recorded=record.proceed_decisions.exists(),
    )


def monitoring_policy_of(session: DosingSession) -> MonitoringPolicy:
    """The monitoring policy the session was charted under (its limits answer the form's "in an
    acceptable range" questions), not whatever is in force when the form is prepared."""
    record = ChairsideRecord.objects.get(session=session)
    return policy_from(
        MonitoringPolicyVersion.objects.filter(version=record.policy_version).first()
    )


def fill_for_session(session: DosingSession, schema: PmfSchema) -> tuple[PmfFacts, FilledPmf]:
    facts = facts_for_session(session)
    return facts, fill_pmf(facts, schema, monitoring=monitoring_policy_of(session))


# --- the queue and the chart -------------------------------------------------------------------


@dataclass(frozen=True)
class FormRow:
    form: RemsForm
    state: DeadlineState

    @property
    def needs_attention(self) -> bool:
        return self.state.status in (FilingStatus.DUE_TODAY, FilingStatus.OVERDUE)


def form_row(form: RemsForm, now: dt.datetime) -> FormRow:
    filing = getattr(form, "filing", None)
    state = deadline_state(
        due_on=form.due_on,
        today=local_today(form.site, now),
        filed_on=filing.filed_on if filing is not None else None,
    )
    return FormRow(form, state)


def _forms() -> QuerySet[RemsForm]:
    return RemsForm.objects.select_related(
        "patient", "site", "session", "created_by", "filing", "filing__recorded_by"
    )


@dataclass
class Queue:
    open: list[FormRow]  # not filed yet, most urgent first
    filed: list[FormRow]  # recently filed, latest first
    without_form: list[DosingSession]  # signed esketamine sessions not prepared yet


FILED_SHOWN_DAYS = 30


def queue(*, user: StaffUser, now: dt.datetime) -> Queue:
    """The forms of the patients the user may see: open ones by deadline, then those filed lately."""
    patients = patients_visible_to(user)
    forms = _forms().filter(patient__in=patients)
    open_rows = [
        form_row(f, now) for f in forms.filter(filing__isnull=True).order_by("due_on", "pk")
    ]
    since = now - dt.timedelta(days=FILED_SHOWN_DAYS)
    filed_rows = [
        form_row(f, now)
        for f in forms.filter(filing__recorded_at__gte=since).order_by("-filing__recorded_at")
    ]
    return Queue(open_rows, filed_rows, list(sessions_without_form(patients)))


def forms_for_patient(patient: Patient, now: dt.datetime) -> list[FormRow]:
    return [form_row(f, now) for f in _forms().filter(patient=patient).order_by("-session_date")]


def get_form(patient: Patient, form_id: int) -> RemsForm | None:
    return _forms().filter(patient=patient, pk=form_id).first()


@dataclass(frozen=True)
class Drift:
    """A field whose value in the session record today differs from the prepared form."""

    label: str
    prepared: str | None
    now: str | None


def drift_since_prepared(form: RemsForm) -> list[Drift]:
    """Strikes and addenda can follow signing: what the record would fill today, if different."""
    prepared = form.pmf
    _, today = fill_for_session(form.session, SCHEMAS[prepared.schema_version])
    out = []
    for f in prepared.fields:
        current = today.get(f.key)
        if current.value != f.value:
            out.append(Drift(f.label, f.value, current.value))
    return out


def addenda_count(form: RemsForm) -> int:
    record = ChairsideRecord.objects.filter(session=form.session).first()
    return record.addenda.count() if record is not None else 0


def patient_sessions_without_form(patient: Patient) -> list[DosingSession]:
    """The patient's signed esketamine sessions that have no REMS form yet, oldest first."""
    return list(sessions_without_form(Patient.objects.filter(pk=patient.pk)))
