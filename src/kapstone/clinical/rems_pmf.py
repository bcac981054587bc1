"""The Spravato REMS Patient Monitoring Form (PMF), filled from one esketamine session (§11.2).

Outpatient settings submit a PMF after every esketamine session, within 7 days, on the REMS portal
or by fax (§11.1, §11.2). Kapstone fills the form from the session record, shows what it could not
fill and why, and tracks the deadline; sending the form stays the clinic's act.

The form changed between revisions (the concomitant-drug list, respiratory depression and pulse
oximetry), so its fields are a versioned :class:`PmfSchema`: a stored form keeps the version it was
filled with. Each field names the :class:`PmfFacts` attributes it reads (``facts_from``), whether it
is copied from the chart, computed from the session, or only a clinician can answer it, and its
Source. ``fill_pmf`` never guesses: a value it cannot derive is ``None`` with the reason.

Times in :class:`PmfFacts` are aware datetimes in the clinic's local time (the shell converts them),
because the form is read and typed in local time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from kapstone.clinical.checks import is_whole, naive_times
from kapstone.clinical.dose_moment import is_post_dose, is_pre_dose
from kapstone.clinical.monitoring_policy import (
    DEFAULT_MONITORING_POLICY,
    MonitoringPolicy,
    Sourced,
    clinic_policy,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.vital_signs import (
    DissociationScale,
    InvalidInput,
    SedationLevel,
)

# --- sources ----------------------------------------------------------------------------------

FORM_2021_SOURCE = Source(
    "§11.2",
    Verification.SECONDARY,
    Evidence.LABEL,
    "Outpatient PMF 11/2021 as transcribed (manualspro.net, manuzoid.com); the form itself was "
    "not read.",
)
FORM_NEWER_SOURCE = Source(
    "§11.2",
    Verification.SECONDARY,
    Evidence.LABEL,
    "Items added in newer revisions per the J&J walkthrough transcript (first treatment, REMS "
    "enrolment, opioids, respiratory depression, pulse oximetry, SAE reporting); exact wording "
    "not read.",
)
CUT_OFF_SOURCE = Source(
    "§11.2",
    Verification.UNVERIFIED,
    Evidence.LABEL,
    "The transcription stops at 'Did the patient experience Sedati…': the sedation and "
    "dissociation items' exact wording is not known.",
)
REQUIRED_SOURCE = Source(
    "§11.2",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Asterisked fields are required, but which fields carry the asterisk was not transcribed: "
    "Kapstone treats every field but the middle initial, address line 2 and contact details as "
    "required.",
)
DEADLINE_SOURCE = Source(
    "§11.2",
    Verification.SECONDARY,
    Evidence.LABEL,
    "'Submit within 7 days' (form instructions as transcribed); a Friday session is due the next "
    "Friday (lucido-go.com).",
)
MINIMUM_MONITORING_SOURCE = Source(
    "SPRAVATO-US",
    Verification.VERIFIED,
    Evidence.LABEL,
    "Boxed warning: monitor at least 2 hours at each session; the PMF counts treatment duration "
    "from the first device to the end of monitoring (§11.2).",
)

# --- deadline -----------------------------------------------------------------------------------

FILING_DEADLINE = Sourced(timedelta(days=7), DEADLINE_SOURCE)
DUE_SOON = Sourced(
    timedelta(days=2),
    clinic_policy("§11.2", "How many days before the deadline a form is shown as due soon."),
)


def filing_deadline(session_date: date) -> date:
    """The last day to submit the session's PMF: 7 calendar days after the session (§11.2)."""
    return session_date + FILING_DEADLINE.value


class FilingStatus(StrEnum):
    """Ordered as the days pass: due, due soon, due today, overdue (filed stands apart)."""

    DUE = "due"
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    FILED = "filed"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    FilingStatus.DUE: "Due",
    FilingStatus.DUE_SOON: "Due soon",
    FilingStatus.DUE_TODAY: "Due today",
    FilingStatus.OVERDUE: "Overdue",
    FilingStatus.FILED: "Filed",
}


@dataclass(frozen=True, slots=True)
class DeadlineState:
    status: FilingStatus
    due_on: date
    days_left: int  # negative once overdue; counted to the filing day when filed
    filed_late: bool

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def deadline_state(*, due_on: date, today: date, filed_on: date | None = None) -> DeadlineState:
    """Where a form stands against its deadline on ``today`` (the clinic's local date)."""
    if filed_on is not None:
        return DeadlineState(
            FilingStatus.FILED, due_on, (due_on - filed_on).days, filed_late=filed_on > due_on
        )
    days_left = (due_on - today).days
    if days_left < 0:
        status = FilingStatus.OVERDUE
    elif days_left == 0:
        status = FilingStatus.DUE_TODAY
    elif days_left <= DUE_SOON.value.days:
        status = FilingStatus.DUE_SOON
    else:
        status = FilingStatus.DUE
    return DeadlineState(status, due_on, days_left, filed_late=False)


# --- the schema ---------------------------------------------------------------------------------


class Section(StrEnum):
    PATIENT = "patient"
    CONCOMITANT_MEDICATION = "concomitant_medication"
    MONITORING_PROVIDER = "monitoring_provider"
    SETTING = "setting"
    TREATMENT = "treatment"
    VITAL_SIGNS = "vital_signs"
    BLOOD_PRESSURE = "blood_pressure"
    ADVERSE_EFFECTS = "adverse_effects"

    @property
    def label(self) -> str:
        return _SECTION_LABELS[self]


_SECTION_LABELS = {
    Section.PATIENT: "Patient",
    Section.CONCOMITANT_MEDICATION: "Concomitant medication (may cause sedation or BP changes)",
    Section.MONITORING_PROVIDER: "Healthcare provider conducting monitoring",
    Section.SETTING: "Healthcare setting",
    Section.TREATMENT: "Treatment session",
    Section.VITAL_SIGNS: "Vital signs",
    Section.BLOOD_PRESSURE: "Blood pressure (mmHg)",
    Section.ADVERSE_EFFECTS: "Sedation, dissociation and respiratory status",
}


class Derivation(StrEnum):
    RECORD = "record"  # copied from the chart: patient, site, staff
    COMPUTED = "computed"  # computed by Kapstone from the session's record
    CLINICIAN = "clinician"  # only a clinician can answer; Kapstone copies a recorded answer

    @property
    def label(self) -> str:
        return {
            Derivation.RECORD: "From the chart",
            Derivation.COMPUTED: "Computed from the session record",
            Derivation.CLINICIAN: "Clinician's answer",
        }[self]


@dataclass(frozen=True, slots=True)
class PmfField:
    key: str
    section: Section
    label: str
    required: bool
    derivation: Derivation
    facts_from: tuple[str, ...]  # the PmfFacts attributes the value is derived from
    how: str  # how the value is derived, in words
    source: Source


@dataclass(frozen=True, slots=True)
class PmfSchema:
    version: str
    title: str
    fields: tuple[PmfField, ...]
    source: Source

    def field(self, key: str) -> PmfField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)


def _f(
    key: str,
    section: Section,
    label: str,
    derivation: Derivation,
    facts_from: tuple[str, ...],
    how: str,
    source: Source = FORM_2021_SOURCE,
    *,
    required: bool = True,
) -> PmfField:
    return PmfField(key, section, label, required, derivation, facts_from, how, source)


_P, _M, _H, _S = (
    Section.PATIENT,
    Section.CONCOMITANT_MEDICATION,
    Section.MONITORING_PROVIDER,
    Section.SETTING,
)
_T, _V, _B, _A = (
    Section.TREATMENT,
    Section.VITAL_SIGNS,
    Section.BLOOD_PRESSURE,
    Section.ADVERSE_EFFECTS,
)
_REC, _COMP, _CLIN = Derivation.RECORD, Derivation.COMPUTED, Derivation.CLINICIAN
_MEDS = ("medications", "medications_as_of")
_WHEN = "first_device_at (the first dose's start)"

_PATIENT_FIELDS = (
    _f("patient_first_name", _P, "First name", _REC, ("patient",), "The patient's given name."),
    _f(
        "patient_middle_initial",
        _P,
        "Middle initial",
        _REC,
        ("patient",),
        "Kapstone keeps no middle name; left empty unless the shell supplies one.",
        required=False,
    ),
    _f("patient_last_name", _P, "Last name", _REC, ("patient",), "The patient's family name."),
    _f("patient_dob", _P, "Date of birth", _REC, ("patient",), "The registered date of birth."),
    _f("patient_sex", _P, "Sex", _REC, ("patient",), "Sex at birth as registered."),
)
_FIRST_TREATMENT = (
    _f(
        "first_treatment",
        _P,
        "First treatment?",
        _COMP,
        ("prior_esketamine_sessions",),
        "Yes when no earlier signed esketamine session is on the chart.",
        FORM_NEWER_SOURCE,
    ),
    _f(
        "rems_enrolled",
        _P,
        "If first treatment: enrolled in the REMS?",
        _CLIN,
        ("rems_enrolled",),
        "REMS patient enrolment as recorded; an unenrolled patient must be enrolled before "
        "treatment.",
        FORM_NEWER_SOURCE,
        required=False,
    ),
)


def _conmed_field(key: str, label: str, source: Source = FORM_2021_SOURCE) -> PmfField:
    return _f(
        key,
        _M,
        label,
        _COMP,
        _MEDS,
        "Yes/No from the medication list of the latest intake (interaction classes).",
        source,
    )


_CONMED_2021 = (
    _conmed_field("conmed_benzodiazepines", "Benzodiazepines"),
    _conmed_field("conmed_sedative_hypnotics", "Non-benzodiazepine sedative hypnotics"),
    _conmed_field("conmed_psychostimulants", "Psychostimulants"),
    _conmed_field("conmed_maois", "Monoamine oxidase inhibitors (MAOIs)"),
)
_CONMED_OPIOIDS = (_conmed_field("conmed_opioids", "Opioids", FORM_NEWER_SOURCE),)

_PROVIDER_AND_SETTING = (
    _f(
        "hcp_first_name",
        _H,
        "First name",
        _REC,
        ("monitoring_provider",),
        "The nurse who signed the session.",
    ),
    _f("hcp_last_name", _H, "Last name", _REC, ("monitoring_provider",), "As above."),
    _f(
        "hcp_phone",
        _H,
        "Phone",
        _REC,
        ("monitoring_provider", "setting"),
        "The site's phone (Kapstone keeps no personal phone for staff).",
        required=False,
    ),
    _f("hcp_email", _H, "Email", _REC, ("monitoring_provider",), "Staff e-mail.", required=False),
    _f("setting_name", _S, "Setting name", _REC, ("setting",), "The site of the session."),
    _f(
        "setting_address",
        _S,
        "Address, city, state, ZIP",
        _REC,
        ("setting",),
        "The site's address as one line (the portal asks for its parts separately).",
    ),
)

_TREATMENT_FIELDS = (
    _f(
        "treatment_date",
        _T,
        "Treatment date",
        _COMP,
        ("session_date",),
        "The session's local date.",
    ),
    _f(
        "dose_administered",
        _T,
        "Dose administered (56 mg / 84 mg / other)",
        _COMP,
        ("doses",),
        "Sum of the doses given, with the number of devices.",
    ),
    _f("lot_number", _T, "Lot number", _COMP, ("doses",), "The lot of each dose given."),
    _f(
        "treatment_duration_minutes",
        _T,
        "Treatment duration (minutes, first device to end of monitoring)",
        _COMP,
        ("doses", "monitoring_ended_at"),
        f"Minutes from {_WHEN} to the discharge sign-off.",
    ),
    _f(
        "ready_to_leave_minutes",
        _T,
        "Without the 2-hour minimum, when would the patient have been ready to leave? "
        "(minutes from the start of administration)",
        _CLIN,
        ("ready_to_leave_minutes",),
        "The clinician's estimate, recorded at the chair side; never computed.",
    ),
)

_VITALS_FIELDS = (
    _f(
        "vitals_acceptable_before",
        _V,
        "Vital signs in acceptable range prior to administration?",
        _COMP,
        ("readings", "doses", "patient_age_years", "proceed_decision_recorded"),
        "The last pre-dose BP against the clinic's pre-dose guide (> 140/90 is above it).",
    ),
    _f(
        "vitals_acceptable_at_completion",
        _V,
        "Vital signs in acceptable range prior to treatment session completion?",
        _COMP,
        ("readings", "monitoring_ended_at"),
        "The last reading before the end of monitoring against the clinic's discharge limits.",
    ),
    _f(
        "bp_before",
        _B,
        "Prior to administration",
        _COMP,
        ("readings", "doses"),
        f"The last reading before {_WHEN} (baseline readings preferred).",
    ),
    _f(
        "bp_40_minutes",
        _B,
        "40 minutes post-administration",
        _COMP,
        ("readings", "doses"),
        "The first reading in the policy window around 40 minutes after the first device.",
    ),
    _f(
        "bp_at_completion",
        _B,
        "Prior to treatment session completion",
        _COMP,
        ("readings", "monitoring_ended_at"),
        "The last reading at or before the end of monitoring.",
    ),
)

_EFFECTS_2021 = (
    _f(
        "sedation",
        _A,
        "Did the patient experience sedation?",
        _COMP,
        ("readings", "adverse_events"),
        "Yes when a post-dose sedation level deeper than 'awake and alert' or a sedation adverse "
        "event was recorded.",
        CUT_OFF_SOURCE,
    ),
    _f(
        "dissociation",
        _A,
        "Did the patient experience dissociation?",
        _COMP,
        ("dissociation", "adverse_events"),
        "Yes when a post-dose CADSS total rose above the pre-dose rating (above 0 without one) "
        "or a dissociation adverse event was recorded.",
        CUT_OFF_SOURCE,
    ),
)
_EFFECTS_NEWER = (
    _f(
        "respiratory_depression",
        _A,
        "Did the patient experience respiratory depression?",
        _CLIN,
        ("adverse_events", "readings"),
        "Yes only when a clinician recorded respiratory depression as an adverse event; low "
        "SpO2 or respiratory rate readings are flagged for the clinician, not answered.",
        FORM_NEWER_SOURCE,
    ),
    _f(
        "pulse_oximetry",
        _A,
        "Pulse oximetry monitored?",
        _COMP,
        ("readings",),
        "Yes when SpO2 was charted after the dose; the count and the lowest value are shown.",
        FORM_NEWER_SOURCE,
    ),
    _f(
        "serious_adverse_event",
        _A,
        "Serious adverse event?",
        _CLIN,
        ("adverse_events",),
        "Yes when a clinician graded an adverse event of the session as serious; SAEs are "
        "also reported to the REMS.",
        FORM_NEWER_SOURCE,
    ),
)

PMF_2021_11 = PmfSchema(
    version="spravato-pmf-2021-11",
    title="SPRAVATO REMS Patient Monitoring Form (outpatient, 11/2021)",
    fields=_PATIENT_FIELDS
    + _CONMED_2021
    + _PROVIDER_AND_SETTING
    + _TREATMENT_FIELDS
    + _VITALS_FIELDS
    + _EFFECTS_2021,
    source=FORM_2021_SOURCE,
)
PMF_NEWER = PmfSchema(
    version="spravato-pmf-newer-walkthrough",
    title="SPRAVATO REMS Patient Monitoring Form (outpatient, revision after 11/2021)",
    fields=_PATIENT_FIELDS
    + _FIRST_TREATMENT
    + _CONMED_2021
    + _CONMED_OPIOIDS
    + _PROVIDER_AND_SETTING
    + _TREATMENT_FIELDS
    + _VITALS_FIELDS
    + _EFFECTS_2021
    + _EFFECTS_NEWER,
    source=FORM_NEWER_SOURCE,
)
SCHEMAS: dict[str, PmfSchema] = {s.version: s for s in (PMF_2021_11, PMF_NEWER)}
# New forms use the newer revision: it asks everything the 2021 form asks, and more.
CURRENT_SCHEMA = PMF_NEWER

# --- the facts a session gives ------------------------------------------------------------------


class AdverseEffect(StrEnum):
    """How an adverse event bears on the form's questions."""

    SEDATION = "sedation"
    DISSOCIATION = "dissociation"
    RESPIRATORY_DEPRESSION = "respiratory_depression"
    OTHER = "other"


class ConcomitantClass(StrEnum):
    """The intake's interaction classes the form asks about (eligibility facts' names)."""

    BENZODIAZEPINE = "benzodiazepine"
    OPIOID = "opioid"
    OTHER_CNS_DEPRESSANT = "other_cns_depressant"
    STIMULANT = "stimulant"
    MAOI = "maoi"


@dataclass(frozen=True, slots=True)
class PmfPerson:
    first_name: str
    last_name: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class PmfPatient:
    first_name: str
    last_name: str
    date_of_birth: date
    sex: str  # as the chart labels it
    middle_initial: str = ""


@dataclass(frozen=True, slots=True)
class PmfSetting:
    name: str
    address: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class DeviceDose:
    """One administration: ``devices`` nasal spray devices of 28 mg each (§3)."""

    given_at: datetime
    dose_mg: int
    devices: int | None  # None: not charted
    lot: str = ""


@dataclass(frozen=True, slots=True)
class PmfReading:
    """A charted set of vital signs that was not struck out."""

    taken_at: datetime
    systolic_mmhg: int | None = None  # a reading may chart SpO2 or sedation without a BP
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_percent: int | None = None
    respiratory_rate_per_min: int | None = None
    sedation: SedationLevel | None = None
    is_baseline: bool = False

    @property
    def has_bp(self) -> bool:
        return self.systolic_mmhg is not None and self.diastolic_mmhg is not None

    @property
    def bp(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg}"


@dataclass(frozen=True, slots=True)
class PmfDissociation:
    rated_at: datetime
    scale: DissociationScale
    total: int


@dataclass(frozen=True, slots=True)
class PmfAdverseEvent:
    occurred_at: datetime
    description: str
    effect: AdverseEffect
    serious: bool | None = None  # None: not graded for seriousness (severity is not seriousness)


@dataclass(frozen=True, slots=True)
class PmfMedication:
    name: str
    classes: frozenset[ConcomitantClass]


@dataclass(frozen=True, slots=True)
class PmfFacts:
    patient: PmfPatient
    setting: PmfSetting
    session_date: date
    monitoring_provider: PmfPerson | None = None
    doses: tuple[DeviceDose, ...] = ()
    readings: tuple[PmfReading, ...] = ()
    dissociation: tuple[PmfDissociation, ...] = ()
    adverse_events: tuple[PmfAdverseEvent, ...] = ()
    monitoring_ended_at: datetime | None = None  # the discharge sign-off
    ready_to_leave_minutes: int | None = None  # the clinician's answer, if recorded
    prior_esketamine_sessions: int | None = None  # None: not known
    rems_enrolled: bool | None = None  # None: not recorded
    medications: tuple[PmfMedication, ...] | None = None  # None: no intake medication list
    medications_as_of: date | None = None
    patient_age_years: int | None = None
    proceed_decision_recorded: bool = False  # the prescriber decided to dose despite the BP

    @property
    def first_device_at(self) -> datetime | None:
        return min((d.given_at for d in self.doses), default=None)


class InvalidPmfFacts(InvalidInput):
    """Session facts that contradict each other (monitoring ending before the first device...)."""


def _check(facts: PmfFacts) -> None:
    stamps: list[tuple[str, datetime | None]] = [("monitoring_ended_at", facts.monitoring_ended_at)]
    stamps += [(f"doses[{i}].given_at", d.given_at) for i, d in enumerate(facts.doses)]
    stamps += [(f"readings[{i}].taken_at", r.taken_at) for i, r in enumerate(facts.readings)]
    stamps += [(f"dissociation[{i}]", r.rated_at) for i, r in enumerate(facts.dissociation)]
    problems = naive_times(stamps, "times must carry the clinic's time zone")
    for i, d in enumerate(facts.doses):
        if isinstance(d.dose_mg, bool) or d.dose_mg <= 0:
            problems.append(Problem(f"doses[{i}].dose_mg", "must be above 0 mg"))
        if d.devices is not None and (isinstance(d.devices, bool) or d.devices <= 0):
            problems.append(Problem(f"doses[{i}].devices", "must be 1 or more"))
    first = facts.first_device_at
    end = facts.monitoring_ended_at
    if not problems and first is not None and end is not None and end < first:
        problems.append(Problem("monitoring_ended_at", "monitoring ends before the first device"))
    minutes = facts.ready_to_leave_minutes
    if minutes is not None and not is_whole(minutes, at_least=0):
        problems.append(Problem("ready_to_leave_minutes", "must be 0 or more"))
    count = facts.prior_esketamine_sessions
    if count is not None and not is_whole(count, at_least=0):
        problems.append(Problem("prior_esketamine_sessions", "must be 0 or more"))
    InvalidPmfFacts.refuse_if_any(problems)


# --- the policy the computed answers use --------------------------------------------------------


# The 40-minute reading: from (40 - the monitoring policy's early window) to 40 + this.
_BP_40_LATE_WINDOW = Sourced(
    timedelta(minutes=15),
    clinic_policy("§11.2", "How late a reading may be and still be reported as the 40-minute BP."),
)
_BP_40_AFTER = Sourced(
    timedelta(minutes=40),
    Source(
        "SPRAVATO-US",
        Verification.VERIFIED,
        Evidence.LABEL,
        "BP prior to and 40 minutes after administration (spravatohcp.com, §2.2).",
    ),
)
_MINIMUM_MONITORING = Sourced(timedelta(minutes=120), MINIMUM_MONITORING_SOURCE)


@dataclass(frozen=True, slots=True)
class PmfPolicy:
    """What counts as the 40-minute reading; the other limits come from the monitoring policy."""

    version: str = "pmf-default-2026-11"
    bp_40_late_window: Sourced[timedelta] = _BP_40_LATE_WINDOW
    bp_40_after: Sourced[timedelta] = _BP_40_AFTER
    minimum_monitoring: Sourced[timedelta] = _MINIMUM_MONITORING


DEFAULT_PMF_POLICY = PmfPolicy()

# --- the filled form ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilledField:
    key: str
    section: Section
    label: str
    required: bool
    derivation: Derivation
    value: str | None  # as it goes on the form; None when Kapstone cannot fill it
    missing: str = ""  # why it is empty (always set when value is None)
    basis: str = ""  # what in the record gave the value

    @property
    def is_missing(self) -> bool:
        return self.value is None


@dataclass(frozen=True, slots=True)
class FilledPmf:
    schema_version: str
    policy_version: str
    fields: tuple[FilledField, ...]
    warnings: tuple[str, ...]  # what a clinician should look at before filing

    def get(self, key: str) -> FilledField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def missing_required(self) -> tuple[FilledField, ...]:
        return tuple(f for f in self.fields if f.required and f.value is None)

    @property
    def complete(self) -> bool:
        return not self.missing_required

    def by_section(self) -> list[tuple[Section, list[FilledField]]]:
        out: dict[Section, list[FilledField]] = {}
        for f in self.fields:
            out.setdefault(f.section, []).append(f)
        return list(out.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "policy_version": self.policy_version,
            "fields": [
                {
                    "key": f.key,
                    "section": f.section.value,
                    "label": f.label,
                    "required": f.required,
                    "derivation": f.derivation.value,
                    "value": f.value,
                    "missing": f.missing,
                    "basis": f.basis,
                }
                for f in self.fields
            ],
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FilledPmf:
        return cls(
            schema_version=str(data["schema_version"]),
            policy_version=str(data["policy_version"]),
            fields=tuple(
                FilledField(
                    key=str(f["key"]),
                    section=Section(f["section"]),
                    label=str(f["label"]),
                    required=bool(f["required"]),
                    derivation=Derivation(f["derivation"]),
                    value=None if f["value"] is None else str(f["value"]),
                    missing=str(f["missing"]),
                    basis=str(f["basis"]),
                )
                for f in data["fields"]
            ),
            warnings=tuple(str(w) for w in data["warnings"]),
        )


@dataclass(frozen=True, slots=True)
class _Answer:
    value: str | None
    missing: str = ""
    basis: str = ""


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _date(day: date) -> str:
    return day.strftime("%m/%d/%Y")  # the US form's order


def _time(when: datetime) -> str:
    return when.strftime("%H:%M")


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _has(value: str, what: str) -> _Answer:
    return _Answer(value, basis=what) if value.strip() else _Answer(None, f"{what}: not recorded")


@dataclass
class _Context:
    facts: PmfFacts
    policy: PmfPolicy
    monitoring: MonitoringPolicy
    warnings: list[str] = field(default_factory=list)

    @property
    def first(self) -> datetime | None:
        return self.facts.first_device_at

    def readings(self) -> list[PmfReading]:
        return sorted(self.facts.readings, key=lambda r: r.taken_at)

    def bp_readings(self) -> list[PmfReading]:
        return [r for r in self.readings() if r.has_bp]

    def post_dose(self) -> list[PmfReading]:
        first = self.first
        end = self.facts.monitoring_ended_at
        return [
            r
            for r in self.readings()
            if is_post_dose(r.taken_at, first) and (end is None or r.taken_at <= end)
        ]


# Each answer function returns the value, or None with the reason.

_NO_DOSE = "no dose is recorded for the session"
_NO_END = "the discharge is not signed, so monitoring has no end"


def _patient(c: _Context, key: str) -> _Answer:
    p = c.facts.patient
    if key == "patient_first_name":
        return _has(p.first_name, "given name")
    if key == "patient_last_name":
        return _has(p.last_name, "family name")
    if key == "patient_middle_initial":
        if p.middle_initial.strip():
            return _Answer(p.middle_initial.strip()[:1].upper(), basis="middle name")
        return _Answer(None, "no middle name is recorded (optional on the form)")
    if key == "patient_dob":
        return _Answer(_date(p.date_of_birth), basis="registered date of birth")
    return _has(p.sex, "sex at birth")


def _first_treatment(c: _Context) -> _Answer:
    count = c.facts.prior_esketamine_sessions
    if count is None:
        return _Answer(None, "earlier esketamine sessions are not known")
    return _Answer(_yes_no(count == 0), basis=f"{count} earlier signed esketamine session(s)")


def _rems_enrolled(c: _Context) -> _Answer:
    if c.facts.rems_enrolled is None:
        return _Answer(
            None, "REMS patient enrolment is not recorded in Kapstone: confirm it on the portal"
        )
    return _Answer(_yes_no(c.facts.rems_enrolled), basis="recorded REMS enrolment")


def _conmed(c: _Context, key: str) -> _Answer:
    meds = c.facts.medications
    if meds is None:
        return _Answer(None, "no medication list on an intake: the clinician answers")
    as_of = f" (intake of {_date(c.facts.medications_as_of)})" if c.facts.medications_as_of else ""
    wanted = {
        "conmed_benzodiazepines": ConcomitantClass.BENZODIAZEPINE,
        "conmed_psychostimulants": ConcomitantClass.STIMULANT,
        "conmed_maois": ConcomitantClass.MAOI,
        "conmed_opioids": ConcomitantClass.OPIOID,
    }
    if key == "conmed_sedative_hypnotics":
        # The intake codes Z-drugs and other sedatives together as "other CNS depressant": a
        # list without that class answers No; with it, only the clinician can tell.
        others = [m.name for m in meds if ConcomitantClass.OTHER_CNS_DEPRESSANT in m.classes]
        if others:
            return _Answer(
                None,
                f"the intake lists {', '.join(others)} as 'other CNS depressant': the clinician "
                "says whether it is a sedative hypnotic",
            )
        return _Answer("No", basis=f"no other CNS depressant on the medication list{as_of}")
    klass = wanted[key]
    names = [m.name for m in meds if klass in m.classes]
    if names:
        return _Answer("Yes", basis=f"{', '.join(names)}{as_of}")
    return _Answer("No", basis=f"none on the medication list{as_of}")


def _provider(c: _Context, key: str) -> _Answer:
    hcp = c.facts.monitoring_provider
    if key == "hcp_phone":
        return _has(c.facts.setting.phone, "the site's phone")
    if hcp is None:
        return _Answer(None, "no nurse has signed the session")
    if key == "hcp_first_name":
        return _has(hcp.first_name, "the signing nurse's first name")
    if key == "hcp_last_name":
        return _has(hcp.last_name, "the signing nurse's last name")
    return _has(hcp.email, "the signing nurse's e-mail")


def _setting(c: _Context, key: str) -> _Answer:
    s = c.facts.setting
    if key == "setting_name":
        return _has(s.name, "site name")
    return _has(s.address, "the site's address")


def _dose(c: _Context) -> _Answer:
    doses = c.facts.doses
    if not doses:
        return _Answer(None, _NO_DOSE)
    total = sum(d.dose_mg for d in doses)
    counted = [d.devices for d in doses if d.devices is not None]
    times = ", ".join(f"{d.dose_mg} mg at {_time(d.given_at)}" for d in doses)
    label = f"{total} mg" if total in (56, 84) else f"Other: {total} mg"
    if total not in (56, 84):
        c.warnings.append(
            f"Dose {total} mg is neither 56 nor 84 mg: the form records it as 'other'."
        )
    if len(counted) < len(doses):
        return _Answer(f"{label} (devices not charted)", basis=times)
    devices = sum(counted)
    word = "device" if devices == 1 else "devices"
    return _Answer(f"{label} ({devices} {word})", basis=times)


def _lot(c: _Context) -> _Answer:
    if not c.facts.doses:
        return _Answer(None, _NO_DOSE)
    lots = list(dict.fromkeys(d.lot.strip() for d in c.facts.doses if d.lot.strip()))
    if not lots:
        return _Answer(None, "no lot number is recorded on the doses")
    if any(not d.lot.strip() for d in c.facts.doses):
        c.warnings.append("A dose has no lot number: the form lists only the lots recorded.")
    return _Answer(", ".join(lots), basis="lot recorded with each dose")


def _duration(c: _Context) -> _Answer:
    first, end = c.first, c.facts.monitoring_ended_at
    if first is None:
        return _Answer(None, _NO_DOSE)
    if end is None:
        return _Answer(None, _NO_END)
    minutes = _minutes(end - first)
    minimum = _minutes(c.policy.minimum_monitoring.value)
    if minutes < minimum:
        c.warnings.append(
            f"Monitoring lasted {minutes} minutes, less than the {minimum}-minute minimum."
        )
    return _Answer(
        str(minutes), basis=f"first device {_time(first)} to discharge sign-off {_time(end)}"
    )


def _ready_to_leave(c: _Context) -> _Answer:
    minutes = c.facts.ready_to_leave_minutes
    if minutes is None:
        return _Answer(
            None,
            "the clinician's estimate is not recorded at the chair side: answer it on the portal",
        )
    return _Answer(str(minutes), basis="the clinician's answer at discharge")


def _before(c: _Context) -> PmfReading | None:
    first = c.first
    if first is None:
        return None
    earlier = [r for r in c.bp_readings() if is_pre_dose(r.taken_at, first)]
    baseline = [r for r in earlier if r.is_baseline]
    chosen = baseline or earlier
    return chosen[-1] if chosen else None


def _forty(c: _Context) -> tuple[PmfReading | None, datetime, datetime]:
    first = c.first
    assert first is not None
    target = first + c.policy.bp_40_after.value
    start = target - c.monitoring.anchored_check_early_window.value
    stop = target + c.policy.bp_40_late_window.value
    inside = [r for r in c.bp_readings() if start <= r.taken_at <= stop]
    return (inside[0] if inside else None), start, stop


def _at_completion(c: _Context) -> PmfReading | None:
    end = c.facts.monitoring_ended_at
    first = c.first
    if end is None or first is None:
        return None
    before_end = [
        r for r in c.bp_readings() if is_post_dose(r.taken_at, first) and r.taken_at <= end
    ]
    return before_end[-1] if before_end else None


def _reading_basis(r: PmfReading, first: datetime) -> str:
    offset = _minutes(r.taken_at - first)
    when = f"{offset} min after the first device" if offset >= 0 else f"{-offset} min before it"
    return f"taken {_time(r.taken_at)} ({when})"


def _bp(c: _Context, key: str) -> _Answer:
    first = c.first
    if first is None:
        return _Answer(None, _NO_DOSE)
    if key == "bp_before":
        r = _before(c)
        if r is None:
            return _Answer(None, "no reading before the first device")
        return _Answer(r.bp, basis=_reading_basis(r, first))
    if key == "bp_40_minutes":
        r, start, stop = _forty(c)
        if r is None:
            c.warnings.append("No blood pressure was charted around 40 minutes after the dose.")
            return _Answer(
                None, f"no reading between {_time(start)} and {_time(stop)} (about 40 minutes)"
            )
        return _Answer(r.bp, basis=_reading_basis(r, first))
    if c.facts.monitoring_ended_at is None:
        return _Answer(None, _NO_END)
    r = _at_completion(c)
    if r is None:
        return _Answer(None, "no reading between the first device and the end of monitoring")
    return _Answer(r.bp, basis=_reading_basis(r, first))


def _acceptable_before(c: _Context) -> _Answer:
    if c.first is None:
        return _Answer(None, _NO_DOSE)
    r = _before(c)
    if r is None:
        return _Answer(None, "no reading before the first device")
    pd = c.monitoring.pre_dose
    systolic_limit = pd.systolic_above.value
    older = pd.older_adult_age.value
    age = c.facts.patient_age_years
    if older is not None and age is not None and age >= older:
        systolic_limit = pd.older_adult_systolic_above.value
    diastolic_limit = pd.diastolic_above.value
    assert r.systolic_mmhg is not None and r.diastolic_mmhg is not None
    above = r.systolic_mmhg > systolic_limit or r.diastolic_mmhg > diastolic_limit
    basis = f"pre-dose BP {r.bp} against the guide >{systolic_limit}/{diastolic_limit}"
    if above:
        decided = (
            "the prescriber's decision to proceed is in the session record"
            if c.facts.proceed_decision_recorded
            else "no decision to proceed is recorded"
        )
        c.warnings.append(
            f"Pre-dose BP {r.bp} was above the guide >{systolic_limit}/{diastolic_limit}: the "
            f"form answers No; {decided}."
        )
    return _Answer(_yes_no(not above), basis=basis)


def _acceptable_at_completion(c: _Context) -> _Answer:
    if c.first is None:
        return _Answer(None, _NO_DOSE)
    if c.facts.monitoring_ended_at is None:
        return _Answer(None, _NO_END)
    r = _at_completion(c)
    if r is None:
        return _Answer(None, "no reading between the first device and the end of monitoring")
    d = c.monitoring.discharge
    outside: list[str] = []
    assert r.systolic_mmhg is not None and r.diastolic_mmhg is not None
    if not d.systolic_at_least.value <= r.systolic_mmhg < d.systolic_below.value:
        outside.append(f"systolic {r.systolic_mmhg}")
    if r.diastolic_mmhg >= d.diastolic_below.value:
        outside.append(f"diastolic {r.diastolic_mmhg}")
    hr = r.heart_rate_bpm
    if hr is not None and not d.heart_rate_at_least.value <= hr < d.heart_rate_below.value:
        outside.append(f"heart rate {hr}")
    if r.spo2_percent is not None and r.spo2_percent < d.spo2_at_least.value:
        outside.append(f"SpO2 {r.spo2_percent} %")
    rr = r.respiratory_rate_per_min
    if rr is not None and not (
        d.respiratory_rate_at_least.value <= rr < d.respiratory_rate_below.value
    ):
        outside.append(f"respiratory rate {rr}")
    basis = f"reading at {_time(r.taken_at)} against the discharge limits"
    if outside:
        c.warnings.append(
            f"The last reading before completion was outside the discharge limits "
            f"({', '.join(outside)})."
        )
        return _Answer("No", basis=f"{basis}: {', '.join(outside)} outside")
    return _Answer("Yes", basis=basis)


def _events(c: _Context, effect: AdverseEffect) -> list[PmfAdverseEvent]:
    return [e for e in c.facts.adverse_events if e.effect is effect]


def _sedation(c: _Context) -> _Answer:
    if c.first is None:
        return _Answer(None, _NO_DOSE)
    sedated = [
        r
        for r in c.post_dose()
        if r.sedation is not None and r.sedation.rank > SedationLevel.ALERT.rank
    ]
    events = _events(c, AdverseEffect.SEDATION)
    charted = [r for r in c.post_dose() if r.sedation is not None]
    if not sedated and not events and not charted:
        return _Answer(None, "no sedation level was charted after the dose")
    if sedated or events:
        deepest = max(
            (r.sedation for r in sedated if r.sedation is not None),
            key=lambda s: s.rank,
            default=None,
        )
        parts = [f"deepest: {deepest.label}"] if deepest is not None else []
        parts += [f"adverse event: {e.description}" for e in events]
        return _Answer("Yes", basis="; ".join(parts))
    return _Answer("No", basis=f"{len(charted)} post-dose sedation levels, all awake and alert")


def _dissociation(c: _Context) -> _Answer:
    first = c.first
    if first is None:
        return _Answer(None, _NO_DOSE)
    ratings = sorted(c.facts.dissociation, key=lambda d: d.rated_at)
    before = [d for d in ratings if is_pre_dose(d.rated_at, first)]
    after = [d for d in ratings if is_post_dose(d.rated_at, first)]
    events = _events(c, AdverseEffect.DISSOCIATION)
    if not after and not events:
        return _Answer(None, "no dissociation rating after the dose")
    parts = [f"adverse event: {e.description}" for e in events]
    rose = False
    if after:
        peak = max(after, key=lambda d: d.total)
        name = "CADSS" if peak.scale is DissociationScale.CADSS else "CADSS-6"
        same = [d for d in before if d.scale is peak.scale]
        floor = same[-1].total if same else 0
        rose = peak.total > floor
        ref = f"pre-dose {same[-1].total}" if same else "no pre-dose rating"
        parts.insert(0, f"peak {name} {peak.total} at {_time(peak.rated_at)} ({ref})")
    return _Answer(_yes_no(rose or bool(events)), basis="; ".join(parts))


def _respiratory(c: _Context) -> _Answer:
    if c.first is None:
        return _Answer(None, _NO_DOSE)
    d = c.monitoring.discharge
    low = [
        r
        for r in c.post_dose()
        if (r.spo2_percent is not None and r.spo2_percent < d.spo2_at_least.value)
        or (
            r.respiratory_rate_per_min is not None
            and r.respiratory_rate_per_min < d.respiratory_rate_at_least.value
        )
    ]
    events = _events(c, AdverseEffect.RESPIRATORY_DEPRESSION)
    if events:
        return _Answer("Yes", basis="; ".join(f"adverse event: {e.description}" for e in events))
    if low:
        shown = ", ".join(
            f"{_time(r.taken_at)} SpO2 {r.spo2_percent} % RR {r.respiratory_rate_per_min}"
            for r in low
        )
        c.warnings.append(
            f"Readings below the SpO2 or respiratory-rate limits ({shown}) but no respiratory "
            "depression recorded: the clinician decides the answer."
        )
        return _Answer(
            None, f"low readings ({shown}) without a recorded judgement: the clinician answers"
        )
    return _Answer("No", basis="no respiratory depression recorded; no low SpO2 or RR")


def _oximetry(c: _Context) -> _Answer:
    if c.first is None:
        return _Answer(None, _NO_DOSE)
    spo2 = [r.spo2_percent for r in c.post_dose() if r.spo2_percent is not None]
    if not spo2:
        c.warnings.append("No SpO2 was charted after the dose (REMS: pulse oximetry onsite).")
        return _Answer("No", basis="no SpO2 charted after the dose")
    return _Answer("Yes", basis=f"{len(spo2)} post-dose readings, lowest {min(spo2)} %")


def _sae(c: _Context) -> _Answer:
    events = c.facts.adverse_events
    serious = [e for e in events if e.serious]
    if serious:
        c.warnings.append("A serious adverse event was recorded: report it to the REMS as well.")
        return _Answer("Yes", basis="; ".join(e.description for e in serious))
    ungraded = [e for e in events if e.serious is None]
    if ungraded:
        # Severity (mild to severe) is not seriousness (death, hospitalisation...): not guessed.
        return _Answer(
            None,
            f"adverse events without a seriousness judgement "
            f"({'; '.join(e.description for e in ungraded)}): the clinician answers",
        )
    return _Answer("No", basis=f"{len(events)} adverse event(s) recorded, none serious")


_ANSWERS: dict[str, Callable[[_Context], _Answer]] = {
    "patient_first_name": lambda c: _patient(c, "patient_first_name"),
    "patient_middle_initial": lambda c: _patient(c, "patient_middle_initial"),
    "patient_last_name": lambda c: _patient(c, "patient_last_name"),
    "patient_dob": lambda c: _patient(c, "patient_dob"),
    "patient_sex": lambda c: _patient(c, "patient_sex"),
    "first_treatment": _first_treatment,
    "rems_enrolled": _rems_enrolled,
    "conmed_benzodiazepines": lambda c: _conmed(c, "conmed_benzodiazepines"),
    "conmed_sedative_hypnotics": lambda c: _conmed(c, "conmed_sedative_hypnotics"),
    "conmed_psychostimulants": lambda c: _conmed(c, "conmed_psychostimulants"),
    "conmed_maois": lambda c: _conmed(c, "conmed_maois"),
    "conmed_opioids": lambda c: _conmed(c, "conmed_opioids"),
    "hcp_first_name": lambda c: _provider(c, "hcp_first_name"),
    "hcp_last_name": lambda c: _provider(c, "hcp_last_name"),
    "hcp_phone": lambda c: _provider(c, "hcp_phone"),
    "hcp_email": lambda c: _provider(c, "hcp_email"),
    "setting_name": lambda c: _setting(c, "setting_name"),
    "setting_address": lambda c: _setting(c, "setting_address"),
    "treatment_date": lambda c: _Answer(_date(c.facts.session_date), basis="session date"),
    "dose_administered": _dose,
    "lot_number": _lot,
    "treatment_duration_minutes": _duration,
    "ready_to_leave_minutes": _ready_to_leave,
    "vitals_acceptable_before": _acceptable_before,
    "vitals_acceptable_at_completion": _acceptable_at_completion,
    "bp_before": lambda c: _bp(c, "bp_before"),
    "bp_40_minutes": lambda c: _bp(c, "bp_40_minutes"),
    "bp_at_completion": lambda c: _bp(c, "bp_at_completion"),
    "sedation": _sedation,
    "dissociation": _dissociation,
    "respiratory_depression": _respiratory,
    "pulse_oximetry": _oximetry,
    "serious_adverse_event": _sae,
}

FACT_NAMES = frozenset(f.name for f in dataclasses.fields(PmfFacts)) | {"first_device_at"}


def fill_pmf(
    facts: PmfFacts,
    schema: PmfSchema = CURRENT_SCHEMA,
    *,
    policy: PmfPolicy = DEFAULT_PMF_POLICY,
    monitoring: MonitoringPolicy = DEFAULT_MONITORING_POLICY,
) -> FilledPmf:
    """Every field of ``schema`` with its value, or None and the reason it could not be filled.

    ``warnings`` lists what a clinician should look at before filing (a short observation, a BP
    above the guide, low SpO2 without a recorded judgement, a serious adverse event...).
    """
    _check(facts)
    c = _Context(facts, policy, monitoring)
    filled: list[FilledField] = []
    for spec in schema.fields:
        answer = _ANSWERS[spec.key](c)
        missing = answer.missing if answer.value is None else ""
        if answer.value is None and not missing:
            missing = "not recorded"
        filled.append(
            FilledField(
                key=spec.key,
                section=spec.section,
                label=spec.label,
                required=spec.required,
                derivation=spec.derivation,
                value=answer.value,
                missing=missing,
                basis=answer.basis if answer.value is not None else "",
            )
        )
    return FilledPmf(
        schema_version=schema.version,
        policy_version=f"{policy.version}+{monitoring.version}",
        fields=tuple(filled),
        warnings=tuple(dict.fromkeys(c.warnings)),
    )
