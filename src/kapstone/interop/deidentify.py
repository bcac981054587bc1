"""De-identification for the research export: HIPAA Safe Harbor as data, dates as day offsets, age
bands, random pseudonyms and a k-anonymity report.

Pure functions (no Django, no I/O, no clock, no global randomness: the caller passes a random
generator). The shell reads Kapstone's rows into the ``Source*`` records below, which still hold
every identifier Kapstone keeps; :func:`build_dataset` turns them into tables that hold none, and
everything a researcher receives (CSV, Parquet, FHIR NDJSON) is written from those tables only.

Decisions, so a researcher knows what the data mean:

- **Safe Harbor** (45 CFR 164.514(b)(2)): every one of the 18 identifier classes is listed in
  :data:`SAFE_HARBOR` with what Kapstone holds of it and what the export does (dropped, transformed
  or not held). The rule is a regulation, not a clinical fact, so it is not in
  ``docs/clinical-reference.md``; its text was seen only in secondary reproductions
  (university IRB pages, HIPAA explainers), hence SECONDARY.
- **First contact** is the earlier of the patient's registration and the first questionnaire
  sent to them (a referral's screening questionnaires can predate the registration when the
  record is entered afterwards). It is day 0; every date becomes a whole number of calendar days
  from it, counted in the clinic's time zone, so order is kept and no calendar date (not even the
  year) leaves. Intervals shorter than a day that outcomes depend on (a score 24 hours after a
  dose) are exported as hours between the two events, never as times of day.
- **Age** is only the band of the patient's age at first contact (policy width, default 10 years),
  with every age of 90 or more as "90+"; the date and year of birth are dropped.
- **Free text** (notes, reasons, descriptions, gender identity, pronouns) is left out entirely:
  it cannot be checked for identifiers mechanically.
- **Pseudonyms** are random per export (``p-`` and 12 hex digits drawn from the caller's
  generator), not derived from the MRN or database ids; the mapping is never stored, so two exports
  cannot be linked and the clinic cannot re-identify a row from the file alone. Sites become random
  per-export codes ("site-1" ...), since a site's name says where the patient lives.
- **k-anonymity** is computed on the patient table over the quasi-identifiers the export keeps:
  age band, sex at birth, site, program and route. Age, sex and site are the demographics an
  outsider most easily knows; program and route are included because acquaintances often know
  that someone went on a ketamine retreat, or had infusions rather than the nasal spray. The
  threshold (k = 5) is clinic policy; patients in smaller classes may be suppressed from every
  table (the report says how many).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum

from kapstone.clinical.outcomes import (
    DEFAULT_OUTCOME_POLICY,
    OutcomeInputError,
    OutcomePolicy,
    ScorePoint,
    instrument_outcome,
)
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.vital_signs import SedationLevel

SAFE_HARBOR_CITATION = "45 CFR 164.514(b)(2)"
SAFE_HARBOR_SOURCE = Source(
    SAFE_HARBOR_CITATION,
    Verification.SECONDARY,
    Evidence.GUIDELINE,
    "HIPAA Privacy Rule, Safe Harbor method: the 18 identifier classes (A)-(R). Seen in secondary "
    "reproductions (e.g. Weill Cornell HRP, johndcook.com); the eCFR text itself was not read. "
    "Not in docs/clinical-reference.md: it is a privacy rule, not a clinical fact.",
)
K_THRESHOLD_SOURCE = Source(
    "45 CFR 164.514(b)(1)",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "k-anonymity is not part of Safe Harbor; k = 5 is a common threshold for releasing research "
    "data (expert-determination practice), set by the clinic.",
)
OLDEST_AGE_SHOWN = 89  # Safe Harbor (C): ages over 89 only as one category, "90+"
AGE_90_PLUS = "90+"
NOT_RECORDED = "none"

Cell = str | int | float | bool | None


# --- Safe Harbor as data ---------------------------------------------------------------------


class IdentifierClass(StrEnum):
    """The 18 classes of 45 CFR 164.514(b)(2)(i), by their letter in the regulation."""

    NAMES = "A"
    GEOGRAPHY = "B"
    DATES = "C"
    TELEPHONE = "D"
    FAX = "E"
    EMAIL = "F"
    SOCIAL_SECURITY = "G"
    MEDICAL_RECORD_NUMBER = "H"
    HEALTH_PLAN_NUMBER = "I"
    ACCOUNT_NUMBER = "J"
    CERTIFICATE_LICENCE = "K"
    VEHICLE = "L"
    DEVICE = "M"
    URL = "N"
    IP_ADDRESS = "O"
    BIOMETRIC = "P"
    PHOTOGRAPH = "Q"
    OTHER_UNIQUE = "R"

    @property
    def label(self) -> str:
        return _CLASS_LABELS[self]


_CLASS_LABELS = {
    IdentifierClass.NAMES: "Names",
    IdentifierClass.GEOGRAPHY: "Geographic subdivisions smaller than a state (address, ZIP code)",
    IdentifierClass.DATES: "Elements of dates (except year) related to the individual; ages over 89",
    IdentifierClass.TELEPHONE: "Telephone numbers",
    IdentifierClass.FAX: "Fax numbers",
    IdentifierClass.EMAIL: "E-mail addresses",
    IdentifierClass.SOCIAL_SECURITY: "Social Security numbers",
    IdentifierClass.MEDICAL_RECORD_NUMBER: "Medical record numbers",
    IdentifierClass.HEALTH_PLAN_NUMBER: "Health plan beneficiary numbers",
    IdentifierClass.ACCOUNT_NUMBER: "Account numbers",
    IdentifierClass.CERTIFICATE_LICENCE: "Certificate / licence numbers",
    IdentifierClass.VEHICLE: "Vehicle identifiers and serial numbers, licence plates",
    IdentifierClass.DEVICE: "Device identifiers and serial numbers",
    IdentifierClass.URL: "Web URLs",
    IdentifierClass.IP_ADDRESS: "IP addresses",
    IdentifierClass.BIOMETRIC: "Biometric identifiers (finger and voice prints)",
    IdentifierClass.PHOTOGRAPH: "Full-face photographs and comparable images",
    IdentifierClass.OTHER_UNIQUE: "Any other unique identifying number, characteristic or code",
}


class Handling(StrEnum):
    DROPPED = "dropped"
    TRANSFORMED = "transformed"
    NOT_HELD = "not held"


@dataclass(frozen=True, slots=True)
class SafeHarborRule:
    identifier: IdentifierClass
    held: tuple[str, ...]  # where Kapstone holds it ("Patient.phone"); empty when it holds none
    handling: Handling
    how: str
    source: Source = SAFE_HARBOR_SOURCE


SAFE_HARBOR: tuple[SafeHarborRule, ...] = (
    SafeHarborRule(
        IdentifierClass.NAMES,
        (
            "Patient.given_name",
            "Patient.family_name",
            "Patient.preferred_name",
            "Patient.emergency_contact_name",
            "Patient.referrer_name",
            "TreatmentPlan.consent_given_by",
            "staff names (StaffUser)",
        ),
        Handling.DROPPED,
        "No name column is read into the export; staff are not exported at all.",
    ),
    SafeHarborRule(
        IdentifierClass.GEOGRAPHY,
        ("Patient.address", "Site.name", "Site.address"),
        Handling.TRANSFORMED,
        "The patient's address is dropped (no ZIP3 is kept: it is free text, and ZIP3 needs the "
        "census population check). Sites become random per-export codes (site-1 ...).",
    ),
    SafeHarborRule(
        IdentifierClass.DATES,
        (
            "Patient.date_of_birth",
            "Patient.registered_at",
            "questionnaire, dosing, chair-side and integration times",
        ),
        Handling.TRANSFORMED,
        "Birth date and year dropped; age only as a band at first contact, 90+ for every age over "
        "89. Every date becomes days from first contact (day 0); short intervals as hours between "
        "events. FHIR resources carry 2000-01-01 + offset, a fixed fake anchor.",
    ),
    SafeHarborRule(
        IdentifierClass.TELEPHONE,
        ("Patient.phone", "Patient.emergency_contact_phone", "Site.phone"),
        Handling.DROPPED,
        "Not read into the export.",
    ),
    SafeHarborRule(IdentifierClass.FAX, (), Handling.NOT_HELD, "Kapstone keeps no fax numbers."),
    SafeHarborRule(
        IdentifierClass.EMAIL, ("Patient.email",), Handling.DROPPED, "Not read into the export."
    ),
    SafeHarborRule(
        IdentifierClass.SOCIAL_SECURITY, (), Handling.NOT_HELD, "Kapstone keeps no SSN."
    ),
    SafeHarborRule(
        IdentifierClass.MEDICAL_RECORD_NUMBER,
        ("Patient.mrn",),
        Handling.TRANSFORMED,
        "Replaced by a random pseudonym per export (p-<12 hex>), not derived from the MRN; the "
        "mapping is not stored.",
    ),
    SafeHarborRule(
        IdentifierClass.HEALTH_PLAN_NUMBER,
        (
            "Coverage.member_id",
            "Coverage.group_number",
            "Claim.member_id",
            "Claim.group_number",
        ),
        Handling.DROPPED,
        "Held for billing only (coverage and claims); the export reads no coverage or billing "
        "table.",
    ),
    SafeHarborRule(
        IdentifierClass.ACCOUNT_NUMBER,
        (),
        Handling.NOT_HELD,
        "No patient account numbers. The ledger's supplier invoice and DEA 222 numbers are the "
        "clinic's, not a patient's, and are not exported.",
    ),
    SafeHarborRule(
        IdentifierClass.CERTIFICATE_LICENCE,
        (),
        Handling.NOT_HELD,
        "No patient licences; staff credentials (MD, RN) are not exported.",
    ),
    SafeHarborRule(
        IdentifierClass.VEHICLE,
        (),
        Handling.NOT_HELD,
        "None as fields; the ride-home plan is free text and left out.",
    ),
    SafeHarborRule(
        IdentifierClass.DEVICE,
        (),
        Handling.NOT_HELD,
        "No patient devices. Drug lot numbers and esketamine device counts in the ledger and the "
        "medication record identify stock, not a person; lots are not exported, device counts are "
        "not identifiers.",
    ),
    SafeHarborRule(
        IdentifierClass.URL,
        ("QuestionnaireSet.token_hash",),
        Handling.DROPPED,
        "Questionnaire links are stored only as hashes and are not exported; no other URL is "
        "kept for a patient.",
    ),
    SafeHarborRule(
        IdentifierClass.IP_ADDRESS,
        ("ConsentSignature.ip_address",),
        Handling.DROPPED,
        "Kept only as evidence of an electronic consent signature (with the browser it came "
        "from); the export reads no consent signature, and nothing from the audit trail.",
    ),
    SafeHarborRule(IdentifierClass.BIOMETRIC, (), Handling.NOT_HELD, "None kept."),
    SafeHarborRule(IdentifierClass.PHOTOGRAPH, (), Handling.NOT_HELD, "No images kept."),
    SafeHarborRule(
        IdentifierClass.OTHER_UNIQUE,
        ("database ids of every row", "free text (notes, reasons, gender identity, pronouns)"),
        Handling.TRANSFORMED,
        "Database ids never leave: rows are keyed by the pseudonym and numbered within the export "
        "(p-…-r3, p-…-s2). Free text is left out, since it cannot be checked for identifiers.",
    ),
)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What the export does with one field of the patient record, and why."""

    identifier: IdentifierClass | None  # None: not an identifier
    handling: Handling
    how: str


_FREE_TEXT = "free text: left out"
# Every field of SourcePatient (= every field of patients.Patient the export reads), with its rule.
PATIENT_FIELDS: Mapping[str, FieldRule] = {
    "key": FieldRule(IdentifierClass.OTHER_UNIQUE, Handling.TRANSFORMED, "random pseudonym"),
    "mrn": FieldRule(
        IdentifierClass.MEDICAL_RECORD_NUMBER, Handling.TRANSFORMED, "random pseudonym"
    ),
    "given_name": FieldRule(IdentifierClass.NAMES, Handling.DROPPED, "dropped"),
    "family_name": FieldRule(IdentifierClass.NAMES, Handling.DROPPED, "dropped"),
    "preferred_name": FieldRule(IdentifierClass.NAMES, Handling.DROPPED, "dropped"),
    "date_of_birth": FieldRule(
        IdentifierClass.DATES, Handling.TRANSFORMED, "age band at first contact, 90+"
    ),
    "sex_at_birth": FieldRule(None, Handling.TRANSFORMED, "kept (a coded value)"),
    "gender_identity": FieldRule(IdentifierClass.OTHER_UNIQUE, Handling.DROPPED, _FREE_TEXT),
    "pronouns": FieldRule(IdentifierClass.OTHER_UNIQUE, Handling.DROPPED, _FREE_TEXT),
    "phone": FieldRule(IdentifierClass.TELEPHONE, Handling.DROPPED, "dropped"),
    "email": FieldRule(IdentifierClass.EMAIL, Handling.DROPPED, "dropped"),
    "address": FieldRule(IdentifierClass.GEOGRAPHY, Handling.DROPPED, "dropped"),
    "emergency_contact_name": FieldRule(IdentifierClass.NAMES, Handling.DROPPED, "dropped"),
    "emergency_contact_relationship": FieldRule(
        IdentifierClass.OTHER_UNIQUE, Handling.DROPPED, _FREE_TEXT
    ),
    "emergency_contact_phone": FieldRule(IdentifierClass.TELEPHONE, Handling.DROPPED, "dropped"),
    "referral_source": FieldRule(None, Handling.TRANSFORMED, "kept (a coded value)"),
    "referrer_name": FieldRule(IdentifierClass.NAMES, Handling.DROPPED, "dropped"),
    "site_key": FieldRule(
        IdentifierClass.GEOGRAPHY, Handling.TRANSFORMED, "random per-export site code"
    ),
    "registered_at": FieldRule(
        IdentifierClass.DATES, Handling.TRANSFORMED, "first contact (day 0) when earliest"
    ),
    "first_questionnaire_at": FieldRule(
        IdentifierClass.DATES, Handling.TRANSFORMED, "first contact (day 0) when earliest"
    ),
    "program": FieldRule(None, Handling.TRANSFORMED, "kept (program key)"),
    "route": FieldRule(None, Handling.TRANSFORMED, "kept (route code)"),
}


# --- policy ----------------------------------------------------------------------------------


QUASI_IDENTIFIERS = ("age_band", "sex_at_birth", "site", "program", "route")


@dataclass(frozen=True, slots=True)
class DeidentificationPolicy:
    version: str = "deidentify-2026.1"
    k_threshold: int = 5
    k_source: Source = K_THRESHOLD_SOURCE
    age_band_years: int = 10
    quasi_identifiers: tuple[str, ...] = QUASI_IDENTIFIERS

    def __post_init__(self) -> None:
        if self.k_threshold < 1:
            raise ValueError("k_threshold must be at least 1")
        if not 1 <= self.age_band_years <= 30:
            raise ValueError("age_band_years must be between 1 and 30")
        unknown = set(self.quasi_identifiers) - set(QUASI_IDENTIFIERS)
        if unknown:
            raise ValueError(f"unknown quasi-identifiers: {sorted(unknown)}")


DEFAULT_POLICY = DeidentificationPolicy()


# --- the pieces ------------------------------------------------------------------------------


class FirstContactSource(StrEnum):
    REGISTRATION = "registration"
    QUESTIONNAIRE = "questionnaire"


@dataclass(frozen=True, slots=True)
class FirstContact:
    at: dt.datetime
    source: FirstContactSource


def first_contact(
    registered_at: dt.datetime, first_questionnaire_at: dt.datetime | None
) -> FirstContact:
    """The earlier of registration and the first questionnaire sent (registration on a tie)."""
    if first_questionnaire_at is not None and first_questionnaire_at < registered_at:
        return FirstContact(first_questionnaire_at, FirstContactSource.QUESTIONNAIRE)
    return FirstContact(registered_at, FirstContactSource.REGISTRATION)


def day_offset(anchor: dt.datetime, at: dt.datetime, zone: dt.tzinfo) -> int:
    """Calendar days from the anchor's day to ``at``'s day, both in the clinic's zone."""
    return (at.astimezone(zone).date() - anchor.astimezone(zone).date()).days


def hours_between(earlier: dt.datetime, later: dt.datetime) -> float:
    """Hours from one event to another, to one decimal: an interval, never a time of day."""
    return round((later - earlier).total_seconds() / 3600, 1)


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(age: int, width: int = DEFAULT_POLICY.age_band_years) -> str:
    """'30-39' for width 10; every age over 89 is '90+' (Safe Harbor C)."""
    if age < 0:
        raise ValueError(f"age {age} is negative")
    if age > OLDEST_AGE_SHOWN:
        return AGE_90_PLUS
    low = age // width * width
    return f"{low}-{min(low + width - 1, OLDEST_AGE_SHOWN)}"


def pseudonyms(keys: Iterable[int], rng: random.Random) -> dict[int, str]:
    """A random, unique pseudonym per key (``p-`` + 12 hex digits): drawn, not derived."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for key in sorted(set(keys)):
        while True:
            candidate = f"p-{rng.getrandbits(48):012x}"
            if candidate not in taken:
                break
        taken.add(candidate)
        out[key] = candidate
    return out


def site_codes(keys: Iterable[int], rng: random.Random) -> dict[int, str]:
    """site-1, site-2 ... in a random order, so a code says nothing about which site it is."""
    ordered = sorted(set(keys))
    rng.shuffle(ordered)
    return {key: f"site-{n}" for n, key in enumerate(ordered, start=1)}


# --- k-anonymity -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EquivalenceClass:
    values: tuple[str, ...]  # in the order of KReport.quasi_identifiers
    size: int


@dataclass(frozen=True, slots=True)
class KReport:
    quasi_identifiers: tuple[str, ...]
    threshold: int
    threshold_source: Source
    rows: int
    k: int  # the smallest class (0 when there are no rows)
    classes: tuple[EquivalenceClass, ...]  # largest first
    below_threshold: tuple[EquivalenceClass, ...]
    suppressed: int = 0  # patients removed because their class was below the threshold
    k_after: int | None = None  # k of what was exported, when suppression was applied

    def summary(self) -> dict[str, object]:
        return {
            "quasi_identifiers": list(self.quasi_identifiers),
            "threshold": self.threshold,
            "threshold_source": self.threshold_source.cite(),
            "patients": self.rows,
            "k": self.k,
            "classes": len(self.classes),
            "classes_below_threshold": len(self.below_threshold),
            "patients_in_classes_below_threshold": sum(c.size for c in self.below_threshold),
            "suppressed": self.suppressed,
            "k_after_suppression": self.k_after,
        }


def k_anonymity(
    rows: Sequence[Mapping[str, Cell]],
    quasi_identifiers: Sequence[str],
    threshold: int,
    source: Source = K_THRESHOLD_SOURCE,
) -> KReport:
    """Equivalence classes over the quasi-identifiers; k is the size of the smallest."""
    counts = Counter(tuple(str(row[q]) for q in quasi_identifiers) for row in rows)
    classes = tuple(
        EquivalenceClass(values, size)
        for values, size in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    )
    return KReport(
        quasi_identifiers=tuple(quasi_identifiers),
        threshold=threshold,
        threshold_source=source,
        rows=len(rows),
        k=min(counts.values()) if counts else 0,
        classes=classes,
        below_threshold=tuple(c for c in classes if c.size < threshold),
    )


# --- what the shell reads (identified) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourcePatient:
    """A patient as Kapstone holds them, identifiers included (see PATIENT_FIELDS)."""

    key: int
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: dt.date
    sex_at_birth: str
    gender_identity: str
    pronouns: str
    phone: str
    email: str
    address: str
    emergency_contact_name: str
    emergency_contact_relationship: str
    emergency_contact_phone: str
    referral_source: str
    referrer_name: str
    site_key: int
    registered_at: dt.datetime
    first_questionnaire_at: dt.datetime | None
    program: str  # the signed plan's program key, "" when none
    route: str  # the signed plan's route, "" when none


@dataclass(frozen=True, slots=True)
class SourceScore:
    patient_key: int
    response_key: int
    at: dt.datetime
    instrument: str
    instrument_version: str
    total: int | None
    severity: str
    clinician_rated: bool
    policy_version: str
    answers: tuple[tuple[str, int], ...]  # item id -> answer (yes/no as 1/0)


@dataclass(frozen=True, slots=True)
class SourceDose:
    started_at: dt.datetime
    stopped_at: dt.datetime | None
    dose_mg: float
    route: str
    planned_dose_mg: float | None
    devices: int | None


@dataclass(frozen=True, slots=True)
class SourceVital:
    taken_at: dt.datetime
    is_baseline: bool
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    spo2: int | None
    respiratory_rate: int | None
    sedation: str


@dataclass(frozen=True, slots=True)
class SourceDissociation:
    taken_at: dt.datetime
    scale: str
    score: int
    is_baseline: bool


@dataclass(frozen=True, slots=True)
class SourceAdverseEvent:
    onset_at: dt.datetime
    kind: str
    severity: str


@dataclass(frozen=True, slots=True)
class SourceDosingSession:
    patient_key: int
    session_key: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    route: str
    site_key: int
    charted: bool = False
    discharged_at: dt.datetime | None = None
    # When its dose was given: "charted" (the first dose's charted start, ``given_at``), "booked"
    # (no dose charted: the booked start) or "none" (cancelled, or signed with no dose given).
    dose_time_source: str = "booked"
    given_at: dt.datetime | None = None
    doses: tuple[SourceDose, ...] = ()
    vitals: tuple[SourceVital, ...] = ()
    dissociation: tuple[SourceDissociation, ...] = ()
    adverse_events: tuple[SourceAdverseEvent, ...] = ()

    @property
    def dose_at(self) -> dt.datetime | None:
        """When the session's dose was given (see ``dose_time_source``); None: no dose."""
        if self.status == "cancelled" or self.dose_time_source == "none":
            return None
        if self.dose_time_source == "charted" and self.given_at is not None:
            return self.given_at
        return self.starts_at

    @property
    def began_at(self) -> dt.datetime:
        """The session's first moment: its dose if given before the booked start."""
        dose = self.dose_at
        return min(dose, self.starts_at) if dose is not None else self.starts_at


@dataclass(frozen=True, slots=True)
class SourceIntegrationSession:
    patient_key: int
    session_key: int
    dosing_session_key: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    modality: str
    # Numeric fields of the structured note only (name -> value); free text never comes in.
    measures: tuple[tuple[str, float], ...] = ()


# --- what leaves (de-identified) -------------------------------------------------------------


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    meaning: str
    units: str = ""
    transformation: str = "kept as recorded (a coded value or a number)"


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...] = field(default=())

    def dicts(self) -> list[dict[str, Cell]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


_S, _I, _D, _B = ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL, ColumnType.BOOLEAN
_PSEUDONYM = "random per export; not derived from any identifier; the key is not kept"
_DAY = "calendar days from the patient's first contact (day 0), in the clinic's time zone"
PATIENT_ID = Column("patient_id", _S, "the patient's pseudonym in this export", "", _PSEUDONYM)


def _day(name: str, meaning: str) -> Column:
    return Column(name, _I, meaning, "days", _DAY)


def _session_id(meaning: str) -> Column:
    return Column(
        "session_id", _S, meaning, "", "patient_id + '-s' + the session's number in this export"
    )


PATIENTS = Table(
    "patients",
    "One row per patient: the quasi-identifiers kept and how the patient's time line starts.",
    (
        PATIENT_ID,
        Column(
            "first_contact",
            _S,
            "what day 0 is: 'registration' or 'questionnaire' (the first one sent), whichever "
            "came first",
        ),
        Column(
            "age_band",
            _S,
            "age at first contact, in bands; every age over 89 is '90+'",
            "years",
            "date of birth -> age at first contact -> band; birth date and year dropped",
        ),
        Column("sex_at_birth", _S, "female, male, intersex or unknown"),
        Column("site", _S, "the patient's home site", "", "random per-export code (site-1 ...)"),
        Column("referral_source", _S, "self, psychiatrist, primary_care, therapist ... (coded)"),
        Column("program", _S, "program of the signed treatment plan in force ('none': no plan)"),
        Column("route", _S, "route of the signed treatment plan in force ('none': no plan)"),
        Column("questionnaires", _I, "submitted questionnaires exported for the patient"),
        Column("dosing_sessions", _I, "dosing sessions exported for the patient"),
    ),
)
SCORES = Table(
    "questionnaire_scores",
    "One row per submitted questionnaire: the core's total and severity band.",
    (
        Column("response_id", _S, "this response in the export", "", "patient_id + '-r' + n"),
        PATIENT_ID,
        _day("day", "day the questionnaire was submitted (a clinician rating: its interview)"),
        Column(
            "hours_after_last_dose",
            _D,
            "hours since the last dose before it: its charted start, or the booked start of a "
            "session charted without a time (empty: none before)",
            "hours",
            "an interval between two events, to 0.1 h; no time of day",
        ),
        Column("instrument", _S, "instrument key (phq9, gad7, madrs ...)"),
        Column("instrument_version", _S, "version of the instrument definition"),
        Column("total", _I, "total score (empty for screens without a total)", "points"),
        Column("severity", _S, "severity band or risk level as the core scored it"),
        Column("clinician_rated", _B, "rated by a clinician at interview, not self-reported"),
        Column("scoring_policy_version", _S, "scoring policy version that produced the result"),
    ),
)
ITEMS = Table(
    "questionnaire_items",
    "One row per answered item of every exported questionnaire.",
    (
        Column("response_id", _S, "the response (questionnaire_scores.response_id)"),
        PATIENT_ID,
        Column("item", _S, "item id within the instrument ('1', '6b' ...)"),
        Column("answer", _I, "the answer's scored value; yes/no items as 1/0", "points"),
    ),
)
DOSING = Table(
    "dosing_sessions",
    "One row per dosing session that has started (cancelled ones included, with their status).",
    (
        _session_id("this session in the export"),
        PATIENT_ID,
        _day("day", "day the session started"),
        Column(
            "session_number", _I, "n-th session of the patient not cancelled (empty: cancelled)"
        ),
        Column("status", _S, "booked, completed or cancelled"),
        Column("route", _S, "route booked for the session ('none': not set)"),
        Column("site", _S, "site of the session", "", "random per-export code"),
        Column("booked_minutes", _I, "length booked on the calendar", "minutes"),
        Column("charted", _B, "a chair-side record was opened"),
        Column(
            "dose_time_source",
            _S,
            "what the session's dose time is: charted (the first dose's start at the chair), "
            "booked (no dose charted: the booked start) or none (no dose given)",
        ),
        Column("doses", _I, "medication administrations recorded"),
        Column("total_dose_mg", _D, "sum of the doses given", "mg"),
        Column("discharge_minutes", _I, "from session start to discharge (empty: none)", "minutes"),
    ),
)
DOSES = Table(
    "dose_administrations",
    "One row per dose on the medication administration record.",
    (
        _session_id("the dosing session"),
        PATIENT_ID,
        Column("minutes_from_start", _I, "from session start to this dose", "minutes"),
        Column("dose_mg", _D, "dose given", "mg"),
        Column("planned_dose_mg", _D, "the plan's calculated dose (empty: none)", "mg"),
        Column("route", _S, "route of this dose"),
        Column("infusion_minutes", _I, "start to stop of an infusion (empty: bolus)", "minutes"),
        Column("devices", _I, "esketamine 28 mg devices (empty: other routes)", "devices"),
    ),
)
VITALS = Table(
    "vitals_summary",
    "One row per charted session: vital signs summarised (struck readings left out).",
    (
        _session_id("the dosing session"),
        PATIENT_ID,
        Column("readings", _I, "vital-sign readings charted"),
        Column("baseline_systolic", _I, "systolic BP of the baseline reading", "mmHg"),
        Column("baseline_diastolic", _I, "diastolic BP of the baseline reading", "mmHg"),
        Column("max_systolic", _I, "highest systolic BP", "mmHg"),
        Column("max_diastolic", _I, "highest diastolic BP", "mmHg"),
        Column("max_heart_rate", _I, "highest heart rate", "beats/min"),
        Column("min_heart_rate", _I, "lowest heart rate", "beats/min"),
        Column("min_spo2", _I, "lowest oxygen saturation", "%"),
        Column("min_respiratory_rate", _I, "lowest respiratory rate", "breaths/min"),
        Column("max_sedation", _S, "deepest sedation level charted ('none': none charted)"),
    ),
)
DISSOCIATION = Table(
    "dissociation",
    "One row per dissociation rating during a session.",
    (
        _session_id("the dosing session"),
        PATIENT_ID,
        Column("minutes_from_start", _I, "from session start to the rating", "minutes"),
        Column("scale", _S, "cadss (23 items) or cadss_6 (6 items)"),
        Column("score", _I, "score on the scale", "points"),
        Column("baseline", _B, "the pre-dose baseline rating"),
    ),
)
ADVERSE = Table(
    "adverse_events",
    "One row per adverse event charted (kind and severity; the description is left out).",
    (
        _session_id("the dosing session"),
        PATIENT_ID,
        Column("minutes_from_start", _I, "from session start to onset", "minutes"),
        Column("kind", _S, "nausea, vomiting, agitation, emergence_reaction ... (coded)"),
        Column("severity", _S, "mild, moderate or severe"),
    ),
)
INTEGRATION = Table(
    "integration_sessions",
    "One row per integration psychotherapy session; numeric note measures only, never text.",
    (
        Column("integration_id", _S, "this session in the export", "", "patient_id + '-i' + n"),
        PATIENT_ID,
        _day("day", "day of the session"),
        Column(
            "after_session_id",
            _S,
            "the dosing session it follows (dosing_sessions.session_id; empty: none)",
        ),
        Column("status", _S, "booked, completed or cancelled"),
        Column("modality", _S, "emdr, art, ifs, cbt, somatic ... ('none': not set)"),
        Column("booked_minutes", _I, "length booked", "minutes"),
    ),
)
INTEGRATION_MEASURES = Table(
    "integration_measures",
    "Numeric fields of integration notes (one row per field), when notes carry them.",
    (
        Column("integration_id", _S, "the integration session"),
        PATIENT_ID,
        Column("measure", _S, "the note's numeric field"),
        Column("value", _D, "its value"),
    ),
)
OUTCOMES = Table(
    "outcomes",
    "One row per patient and instrument with a total: the core's outcome under the clinic's "
    "outcome policy (baseline = last score at or before the first dosing session).",
    (
        PATIENT_ID,
        Column("instrument", _S, "instrument key"),
        _day("baseline_day", "day of the baseline score"),
        Column("baseline_total", _I, "baseline score", "points"),
        _day("latest_day", "day of the latest score"),
        Column("latest_total", _I, "latest score", "points"),
        Column("follow_ups", _I, "scores after the baseline"),
        Column("change", _I, "latest - baseline (empty: no follow-up)", "points"),
        Column("percent_change", _D, "change / baseline x 100", "%"),
        Column("response", _B, "reduction of at least the policy's share (empty: not assessable)"),
        Column("remission", _B, "latest below the instrument's remission cut-off (empty: none)"),
        Column("outcome_policy_version", _S, "outcome policy version used"),
    ),
)
TABLES: tuple[Table, ...] = (
    PATIENTS,
    SCORES,
    ITEMS,
    DOSING,
    DOSES,
    VITALS,
    DISSOCIATION,
    ADVERSE,
    INTEGRATION,
    INTEGRATION_MEASURES,
    OUTCOMES,
)


@dataclass(frozen=True, slots=True)
class Dataset:
    tables: tuple[Table, ...]
    k_report: KReport
    policy: DeidentificationPolicy
    outcome_policy_version: str

    def table(self, name: str) -> Table:
        (found,) = [t for t in self.tables if t.name == name]
        return found


# --- building it -----------------------------------------------------------------------------


def _minutes(start: dt.datetime, at: dt.datetime) -> int:
    return int((at - start).total_seconds() // 60)


def _max(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _min(values: Iterable[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


_SEDATION_ORDER = tuple(level.value for level in SedationLevel)  # least to most sedated


def _deepest(levels: Iterable[str]) -> str:
    known = [lv for lv in levels if lv in _SEDATION_ORDER]
    if not known:
        return NOT_RECORDED
    return max(known, key=_SEDATION_ORDER.index)


def _with(table: Table, rows: Iterable[tuple[Cell, ...]]) -> Table:
    return Table(table.name, table.description, table.columns, tuple(rows))


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What must be decided over every patient before any of their events is read: pseudonyms
    and site codes (drawn in one sequence from the caller's generator), day 0, the patient row,
    the k-anonymity report and who is kept. A few hundred bytes a patient; the events (nearly all
    of an export) are then de-identified a slice of patients at a time (:func:`build_slice`)."""

    ids: Mapping[int, str]  # patient key -> pseudonym, every patient asked for
    sites: Mapping[int, str]  # site key -> random code
    contact: Mapping[int, dt.datetime]  # patient key -> first contact (day 0)
    rows: Mapping[int, tuple[Cell, ...]]  # patient key -> patient row without the two counts
    kept: frozenset[int]  # patient keys exported (all unless small classes were suppressed)
    report: KReport
    policy: DeidentificationPolicy
    outcome_policy: OutcomePolicy
    zone: dt.tzinfo
    now: dt.datetime

    def order(self) -> list[int]:
        """The kept patients in the order every table lists them: by pseudonym (random)."""
        return sorted(self.kept, key=self.ids.__getitem__)


def has_begun(session: SourceDosingSession, now: dt.datetime) -> bool:
    """A dosing session is in the data once it began (its dose, or its booked start)."""
    return session.began_at <= now


def plan_export(
    *,
    patients: Sequence[SourcePatient],
    dosing_sites: Iterable[int],
    zone: dt.tzinfo,
    rng: random.Random,
    now: dt.datetime,
    suppress: bool = False,
    policy: DeidentificationPolicy = DEFAULT_POLICY,
    outcome_policy: OutcomePolicy = DEFAULT_OUTCOME_POLICY,
) -> ExportPlan:
    """The dataset-wide pass: every patient, none of their events. ``dosing_sites`` are the sites
    of the patients' dosing sessions that have begun by ``now`` (:func:`has_begun`): their codes
    are drawn with the home sites'."""
    by_key = {p.key: p for p in patients}
    contact = {p.key: first_contact(p.registered_at, p.first_questionnaire_at) for p in patients}
    ids = pseudonyms(by_key, rng)
    sites = site_codes([*(p.site_key for p in patients), *dosing_sites], rng)
    rows: dict[int, tuple[Cell, ...]] = {}
    quasi: dict[int, dict[str, Cell]] = {}
    for p in patients:
        anchor = contact[p.key]
        age = age_on(p.date_of_birth, anchor.at.astimezone(zone).date())
        row: dict[str, Cell] = {
            "patient_id": ids[p.key],
            "first_contact": anchor.source.value,
            "age_band": age_band(age, policy.age_band_years),
            "sex_at_birth": p.sex_at_birth,
            "site": sites[p.site_key],
            "referral_source": p.referral_source,
            "program": p.program or NOT_RECORDED,
            "route": p.route or NOT_RECORDED,
        }
        rows[p.key] = tuple(row.values())
        quasi[p.key] = {q: row[q] for q in policy.quasi_identifiers}
    report = k_anonymity(
        list(quasi.values()), policy.quasi_identifiers, policy.k_threshold, policy.k_source
    )
    kept = set(quasi)
    if suppress and report.below_threshold:
        small = {c.values for c in report.below_threshold}
        kept = {
            key
            for key, row in quasi.items()
            if tuple(str(row[q]) for q in policy.quasi_identifiers) not in small
        }
        after = k_anonymity([quasi[k] for k in kept], policy.quasi_identifiers, policy.k_threshold)
        report = KReport(
            report.quasi_identifiers,
            report.threshold,
            report.threshold_source,
            report.rows,
            report.k,
            report.classes,
            report.below_threshold,
            suppressed=len(quasi) - len(kept),
            k_after=after.k,
        )
    elif suppress:
        report = KReport(
            report.quasi_identifiers,
            report.threshold,
            report.threshold_source,
            report.rows,
            report.k,
            report.classes,
            report.below_threshold,
            suppressed=0,
            k_after=report.k,
        )
    return ExportPlan(
        ids=ids,
        sites=sites,
        contact={key: c.at for key, c in contact.items()},
        rows=rows,
        kept=frozenset(kept),
        report=report,
        policy=policy,
        outcome_policy=outcome_policy,
        zone=zone,
        now=now,
    )


def build_dataset(
    *,
    patients: Sequence[SourcePatient],
    scores: Sequence[SourceScore],
    dosing: Sequence[SourceDosingSession],
    integration: Sequence[SourceIntegrationSession],
    zone: dt.tzinfo,
    rng: random.Random,
    now: dt.datetime,
    suppress: bool = False,
    policy: DeidentificationPolicy = DEFAULT_POLICY,
    outcome_policy: OutcomePolicy = DEFAULT_OUTCOME_POLICY,
) -> Dataset:
    """Every table of the export, de-identified, and the k-anonymity report on the patients: the
    plan and one slice holding every kept patient.

    Events of patients not in ``patients``, and events after ``now``, are left out. With
    ``suppress``, patients in classes smaller than the policy's k are removed from every table.
    """
    keys = {p.key for p in patients}
    plan = plan_export(
        patients=patients,
        dosing_sites=[d.site_key for d in dosing if d.patient_key in keys and has_begun(d, now)],
        zone=zone,
        rng=rng,
        now=now,
        suppress=suppress,
        policy=policy,
        outcome_policy=outcome_policy,
    )
    tables = build_slice(
        plan, keys=plan.kept, scores=scores, dosing=dosing, integration=integration
    )
    return Dataset(tables, plan.report, policy, outcome_policy.version)


def build_slice(  # noqa: C901, PLR0915 (over the ceiling before it came in; to be split)
    plan: ExportPlan,
    *,
    keys: Iterable[int],
    scores: Sequence[SourceScore],
    dosing: Sequence[SourceDosingSession],
    integration: Sequence[SourceIntegrationSession],
) -> tuple[Table, ...]:
    """Every table's rows for the kept patients among ``keys``, given all their events.

    Each table is ordered by pseudonym first, so the slices of :meth:`ExportPlan.order`, taken in
    turn, give exactly the rows one slice of everyone would, in the same order. Events of other
    patients, and events after the plan's ``now``, are left out."""
    now, zone, ids, sites = plan.now, plan.zone, plan.ids, plan.sites
    asked = set(keys)
    kept = asked & plan.kept
    # Only what has happened by ``now``: a booking for next week is not an event yet.
    scores = [s for s in scores if s.patient_key in asked and s.at <= now]
    dosing = [d for d in dosing if d.patient_key in asked and has_begun(d, now)]
    integration = [i for i in integration if i.patient_key in asked and i.starts_at <= now]
    score_count = Counter(s.patient_key for s in scores)
    dosing_count = Counter(d.patient_key for d in dosing)

    def day(key: int, at: dt.datetime) -> int:
        return day_offset(plan.contact[key], at, zone)

    # Rows are ordered by pseudonym (random), then time: the order says nothing about who.
    def order(key: int) -> str:
        return ids[key]

    doses_at: dict[int, list[dt.datetime]] = {}
    for d in dosing:
        if (dose := d.dose_at) is not None and dose <= now:
            doses_at.setdefault(d.patient_key, []).append(dose)
    for times in doses_at.values():
        times.sort()

    # Scores and items.
    score_rows: list[tuple[Cell, ...]] = []
    item_rows: list[tuple[Cell, ...]] = []
    per_patient: dict[int, int] = Counter()
    for s in sorted(
        (s for s in scores if s.patient_key in kept),
        key=lambda s: (order(s.patient_key), s.at, s.instrument),
    ):
        per_patient[s.patient_key] += 1
        rid = f"{ids[s.patient_key]}-r{per_patient[s.patient_key]}"
        before = [t for t in doses_at.get(s.patient_key, ()) if t <= s.at]
        score_rows.append(
            (
                rid,
                ids[s.patient_key],
                day(s.patient_key, s.at),
                hours_between(before[-1], s.at) if before else None,
                s.instrument,
                s.instrument_version,
                s.total,
                s.severity or NOT_RECORDED,
                s.clinician_rated,
                s.policy_version,
            )
        )
        for item, answer in s.answers:
            item_rows.append((rid, ids[s.patient_key], item, int(answer)))

    # Dosing sessions and the chair side.
    dosing_rows: list[tuple[Cell, ...]] = []
    dose_rows: list[tuple[Cell, ...]] = []
    vital_rows: list[tuple[Cell, ...]] = []
    dissociation_rows: list[tuple[Cell, ...]] = []
    adverse_rows: list[tuple[Cell, ...]] = []
    session_ids: dict[int, str] = {}
    numbered: dict[int, int] = Counter()
    delivered: dict[int, int] = Counter()
    for d in sorted(
        (d for d in dosing if d.patient_key in kept),
        key=lambda d: (order(d.patient_key), d.began_at, d.session_key),
    ):
        pid = ids[d.patient_key]
        numbered[d.patient_key] += 1
        sid = f"{pid}-s{numbered[d.patient_key]}"
        session_ids[d.session_key] = sid
        number: int | None = None
        if d.status != "cancelled":
            delivered[d.patient_key] += 1
            number = delivered[d.patient_key]
        total_mg = round(sum(x.dose_mg for x in d.doses), 2) if d.doses else None
        dosing_rows.append(
            (
                sid,
                pid,
                day(d.patient_key, d.began_at),
                number,
                d.status,
                d.route or NOT_RECORDED,
                sites[d.site_key],
                _minutes(d.starts_at, d.ends_at),
                d.charted,
                d.dose_time_source if d.status != "cancelled" else "none",
                len(d.doses),
                total_mg,
                _minutes(d.starts_at, d.discharged_at) if d.discharged_at else None,
            )
        )
        for x in sorted(d.doses, key=lambda x: x.started_at):
            dose_rows.append(
                (
                    sid,
                    pid,
                    _minutes(d.starts_at, x.started_at),
                    x.dose_mg,
                    x.planned_dose_mg,
                    x.route,
                    _minutes(x.started_at, x.stopped_at) if x.stopped_at else None,
                    x.devices,
                )
            )
        if d.vitals:
            baseline = next((v for v in d.vitals if v.is_baseline), None)
            vital_rows.append(
                (
                    sid,
                    pid,
                    len(d.vitals),
                    baseline.systolic if baseline else None,
                    baseline.diastolic if baseline else None,
                    _max(v.systolic for v in d.vitals),
                    _max(v.diastolic for v in d.vitals),
                    _max(v.heart_rate for v in d.vitals),
                    _min(v.heart_rate for v in d.vitals),
                    _min(v.spo2 for v in d.vitals),
                    _min(v.respiratory_rate for v in d.vitals),
                    _deepest(v.sedation for v in d.vitals),
                )
            )
        for r in sorted(d.dissociation, key=lambda r: r.taken_at):
            dissociation_rows.append(
                (sid, pid, _minutes(d.starts_at, r.taken_at), r.scale, r.score, r.is_baseline)
            )
        for e in sorted(d.adverse_events, key=lambda e: e.onset_at):
            adverse_rows.append((sid, pid, _minutes(d.starts_at, e.onset_at), e.kind, e.severity))

    # Integration sessions.
    integration_rows: list[tuple[Cell, ...]] = []
    measure_rows: list[tuple[Cell, ...]] = []
    counted: dict[int, int] = Counter()
    for i in sorted(
        (i for i in integration if i.patient_key in kept),
        key=lambda i: (order(i.patient_key), i.starts_at, i.session_key),
    ):
        pid = ids[i.patient_key]
        counted[i.patient_key] += 1
        iid = f"{pid}-i{counted[i.patient_key]}"
        integration_rows.append(
            (
                iid,
                pid,
                day(i.patient_key, i.starts_at),
                session_ids.get(i.dosing_session_key) if i.dosing_session_key else None,
                i.status,
                i.modality or NOT_RECORDED,
                _minutes(i.starts_at, i.ends_at),
            )
        )
        for name, value in i.measures:
            measure_rows.append((iid, pid, name, value))

    # Outcomes: the core's, per patient and instrument with totals.
    outcome_rows: list[tuple[Cell, ...]] = []
    totals: dict[tuple[int, str], dict[dt.datetime, int]] = {}
    for s in scores:
        if s.patient_key in kept and s.total is not None:
            totals.setdefault((s.patient_key, s.instrument), {})[s.at] = s.total
    for (key, instrument), series in sorted(
        totals.items(), key=lambda kv: (order(kv[0][0]), kv[0][1])
    ):
        points = [ScorePoint(at, total) for at, total in series.items()]
        try:
            outcome = instrument_outcome(
                instrument, points, doses_at.get(key, ()), policy=plan.outcome_policy
            )
        except OutcomeInputError:
            continue
        outcome_rows.append(
            (
                ids[key],
                instrument,
                day(key, outcome.baseline.at),
                outcome.baseline.total,
                day(key, outcome.latest.at),
                outcome.latest.total,
                outcome.follow_up_count,
                outcome.change,
                None if outcome.percent_change is None else round(outcome.percent_change, 1),
                outcome.response,
                outcome.remission,
                outcome.policy_version,
            )
        )

    patient_table = [
        (*plan.rows[key], score_count[key], dosing_count[key]) for key in sorted(kept, key=order)
    ]
    return (
        _with(PATIENTS, patient_table),
        _with(SCORES, score_rows),
        _with(ITEMS, item_rows),
        _with(DOSING, dosing_rows),
        _with(DOSES, dose_rows),
        _with(VITALS, vital_rows),
        _with(DISSOCIATION, dissociation_rows),
        _with(ADVERSE, adverse_rows),
        _with(INTEGRATION, integration_rows),
        _with(INTEGRATION_MEASURES, measure_rows),
        _with(OUTCOMES, outcome_rows),
    )


def source_patient_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(SourcePatient))
