"""Reads for integration sessions: a session's note versions, the note in force (with any
correction by addendum), the course's trend beside dose and dissociation, and process notes as the
one reading them may see them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from kapstone.accounts.models import StaffUser
from kapstone.chairside.selectors import SessionDoseFacts, dose_and_dissociation
from kapstone.charts.integration_trend import TrendChart, TrendSeries, trend_svg
from kapstone.clinical.access import Modality, Permission, roles_granted
from kapstone.clinical.integration_notes import (
    HOMEWORK,
    MODALITY_FIELDS,
    Kind,
    NoteMeasures,
    StructuredNote,
    measures,
    parse_structured,
)
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.integration.models import (
    IntegrationNote,
    IntegrationNoteAddendum,
    IntegrationSession,
    IntegrationStatus,
    ProcessNote,
    ProcessNoteAccess,
)
from kapstone.patients.models import Patient

# --- sessions and notes ---------------------------------------------------------------------------


def sessions_for_patient(patient: Patient) -> QuerySet[IntegrationSession]:
    return (
        IntegrationSession.objects.filter(patient=patient)
        .select_related("therapist", "dosing_session", "signed_note__note")
        .order_by("starts_at", "pk")
    )


def get_session(patient: Patient, session_id: int) -> IntegrationSession | None:
    return sessions_for_patient(patient).filter(pk=session_id).first()


def note_versions(session: IntegrationSession) -> list[IntegrationNote]:
    """Every version, newest first."""
    return list(
        IntegrationNote.objects.filter(session=session)
        .select_related("author", "dosing_session", "signature__signed_by")
        .order_by("-revision")
    )


def latest_note(session: IntegrationSession) -> IntegrationNote | None:
    return (
        IntegrationNote.objects.filter(session=session)
        .select_related("author", "dosing_session")
        .order_by("-revision")
        .first()
    )


def signed_note(session: IntegrationSession) -> IntegrationNote | None:
    return (
        IntegrationNote.objects.filter(session=session, signature__isnull=False)
        .select_related("author", "dosing_session", "signature__signed_by")
        .first()
    )


def addenda(note: IntegrationNote) -> list[IntegrationNoteAddendum]:
    return list(note.addenda.select_related("author").order_by("created_at", "pk"))


def stored_structure(document: dict[str, object]) -> StructuredNote:
    """A stored structured part, read back through the core (it was checked when written)."""
    note, problems = parse_structured(document)
    if note is None:  # only if the core's rules tightened after the note was signed
        raise ValueError(f"stored integration note no longer reads: {problems}")
    return note


def structure_in_force(
    note: IntegrationNote,
) -> tuple[StructuredNote, IntegrationNoteAddendum | None]:
    """The signed note's structured part, or the latest addendum's correction of it."""
    correction = (
        note.addenda.filter(structured__isnull=False).order_by("-created_at", "-pk").first()
    )
    if correction is not None:
        assert correction.structured is not None
        return stored_structure(correction.structured), correction
    return stored_structure(note.structured), None


@dataclass(frozen=True)
class ShownField:
    label: str
    value: str


@dataclass(frozen=True)
class ShownModality:
    label: str
    fields: list[ShownField]


def shown(structure: StructuredNote) -> tuple[list[ShownModality], list[str]]:
    """The structured part as label/value pairs per modality, and the homework, for pages."""
    out = []
    for modality in structure.modalities:
        record = structure.get(modality)
        rows = []
        for spec in MODALITY_FIELDS[modality]:
            value = getattr(record, spec.name)
            if spec.kind is Kind.PARTS:
                text = "; ".join(f"{p.name} ({p.role.value})" for p in value) or "—"
            elif spec.kind is Kind.LINES:
                text = "; ".join(value) or "—"
            else:
                text = str(value) if value != "" else "—"
            rows.append(ShownField(spec.label, text))
        out.append(ShownModality(modality.label, rows))
    return out, list(structure.homework)


def form_initial(structure: StructuredNote) -> dict[str, object]:
    """A stored structured part as the note form's initial values (field names "emdr__sud_before")."""
    initial: dict[str, object] = {"modalities": [m.value for m in structure.modalities]}
    for modality in structure.modalities:
        record = structure.get(modality)
        for spec in MODALITY_FIELDS[modality]:
            value = getattr(record, spec.name)
            if spec.kind is Kind.PARTS:
                value = "\n".join(f"{p.name}: {p.role.value}" for p in value)
            elif spec.kind is Kind.LINES:
                value = "\n".join(value)
            initial[f"{modality.value}__{spec.name}"] = value
    initial[HOMEWORK.name] = "\n".join(structure.homework)
    return initial


# --- the course's trend ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendRow:
    number: int
    session: IntegrationSession
    note: IntegrationNote | None  # the signed note; None while not signed
    corrected: bool
    modalities: list[str]
    measures: NoteMeasures
    dose: SessionDoseFacts | None

    @property
    def label(self) -> str:
        return f"{self.number} · {timezone.localtime(self.session.starts_at):%-d %b}"

    @property
    def dose_text(self) -> str:
        if self.dose is None or self.dose.dose_mg is None:
            return "not charted"
        return f"{format(Decimal(self.dose.dose_mg).normalize(), 'f')} mg"

    @property
    def dissociation_text(self) -> str:
        if self.dose is None or self.dose.dissociation_score is None:
            return "not rated"
        scale = {"cadss": "CADSS", "cadss_6": "CADSS-6"}.get(
            self.dose.dissociation_scale or "", self.dose.dissociation_scale or ""
        )
        return f"{scale} {self.dose.dissociation_score}"


def course_trend(patient: Patient) -> list[TrendRow]:
    """One row per integration session not cancelled, in order: its signed note's measures (as
    corrected by addendum) beside the dose and peak dissociation of the dosing session before it."""
    sessions = list(sessions_for_patient(patient).exclude(status=IntegrationStatus.CANCELLED))
    notes = {
        n.session_id: n
        for n in IntegrationNote.objects.filter(
            session__in=sessions, signature__isnull=False
        ).select_related("dosing_session")
    }
    corrections: dict[int, IntegrationNoteAddendum] = {}
    for a in IntegrationNoteAddendum.objects.filter(
        note__in=notes.values(), structured__isnull=False
    ).order_by("created_at", "pk"):
        corrections[a.note_id] = a  # the latest wins
    dose_ids = {n.dosing_session_id for n in notes.values() if n.dosing_session_id is not None} | {
        s.dosing_session_id for s in sessions if s.dosing_session_id is not None
    }
    facts = dose_and_dissociation(dose_ids)
    rows = []
    for number, session in enumerate(sessions, start=1):
        note = notes.get(session.pk)
        correction = corrections.get(note.pk) if note else None
        structure: StructuredNote | None = None
        if correction is not None and correction.structured is not None:
            structure = stored_structure(correction.structured)
        elif note is not None:
            structure = stored_structure(note.structured)
        dose_id = note.dosing_session_id if note else session.dosing_session_id
        rows.append(
            TrendRow(
                number=number,
                session=session,
                note=note,
                corrected=correction is not None,
                modalities=[m.label for m in structure.modalities] if structure else [],
                measures=measures(structure) if structure else NoteMeasures(),
                dose=facts.get(dose_id) if dose_id is not None else None,
            )
        )
    return rows


@dataclass(frozen=True)
class ShownChart:
    title: str
    svg: str


def trend_charts(rows: list[TrendRow]) -> list[ShownChart]:
    """SVG charts for the measures recorded in at least one session: SUD and VOC before and after
    (EMDR), Self-energy (IFS), activities done and planned (behavioural activation)."""
    if not rows:
        return []
    labels = tuple(r.label for r in rows)
    m = [r.measures for r in rows]
    candidates = [
        TrendChart(
            "SUD, EMDR (0-10)",
            "SUD",
            0,
            10,
            labels,
            (
                TrendSeries("SUD before", tuple(x.sud_before for x in m)),
                TrendSeries("SUD after", tuple(x.sud_after for x in m)),
            ),
        ),
        TrendChart(
            "VOC, EMDR (1-7)",
            "VOC",
            1,
            7,
            labels,
            (
                TrendSeries("VOC before", tuple(x.voc_before for x in m)),
                TrendSeries("VOC after", tuple(x.voc_after for x in m)),
            ),
        ),
        TrendChart(
            "Self-energy, IFS (0-10)",
            "Self-energy",
            0,
            10,
            labels,
            (TrendSeries("Self-energy", tuple(x.self_energy for x in m)),),
        ),
    ]
    top = max(
        [
            v
            for x in m
            for v in (x.activities_done, x.activities_reviewed, x.activities_planned)
            if v is not None
        ],
        default=0,
    )
    candidates.append(
        TrendChart(
            "Behavioural activation: activities",
            "Activities",
            0,
            max(top, 5),
            labels,
            (
                TrendSeries("Done (of last plan)", tuple(x.activities_done for x in m)),
                TrendSeries("Reviewed (last plan)", tuple(x.activities_reviewed for x in m)),
                TrendSeries("Planned", tuple(x.activities_planned for x in m)),
            ),
        )
    )
    return [
        ShownChart(c.title, trend_svg(c, id_prefix=f"integration-trend-{i}"))
        for i, c in enumerate(candidates)
        if c.has_values
    ]


# --- process notes ------------------------------------------------------------------------------


def process_note_grantees(*, author: StaffUser, patient: Patient) -> list[StaffUser]:
    """The colleagues the author's latest row grants (and has not since revoked)."""
    latest: dict[int, bool] = {}
    for grantee_id, granted in (
        ProcessNoteAccess.objects.filter(author=author, patient=patient)
        .order_by("at", "pk")
        .values_list("grantee_id", "granted")
    ):
        latest[grantee_id] = granted
    ids = [g for g, on in latest.items() if on]
    return list(StaffUser.objects.filter(pk__in=ids, is_active=True).order_by("last_name"))


def _authors_granting(reader: StaffUser, patient: Patient) -> set[int]:
    latest: dict[int, bool] = {}
    for author_id, granted in (
        ProcessNoteAccess.objects.filter(grantee=reader, patient=patient)
        .order_by("at", "pk")
        .values_list("author_id", "granted")
    ):
        latest[author_id] = granted
    return {a for a, on in latest.items() if on}


def visible_process_notes(reader: StaffUser, patient: Patient) -> QuerySet[ProcessNote]:
    """The reader's own process notes on the patient and those of authors who granted them.
    Nobody else's, whatever their role: the medical director included."""
    if reader.staff_role not in roles_granted(Permission.READ_PROCESS_NOTES):
        return ProcessNote.objects.none()
    authors = _authors_granting(reader, patient) | {reader.pk}
    return (
        ProcessNote.objects.filter(patient=patient, author_id__in=authors)
        .select_related("author", "session")
        .order_by("-written_at", "-pk")
    )


def get_process_note(reader: StaffUser, patient: Patient, note_id: int) -> ProcessNote | None:
    """The note if the reader may see it; None otherwise (the page answers 404, never saying a
    note exists)."""
    return visible_process_notes(reader, patient).filter(pk=note_id).first()


def grantable_staff(author: StaffUser, patient: Patient) -> list[StaffUser]:
    """Colleagues the author may grant: active, in a role that may be granted, working at the
    patient's home site."""
    roles = [r.value for r in roles_granted(Permission.READ_PROCESS_NOTES)]
    return list(
        StaffUser.objects.filter(role__in=roles, is_active=True, sites=patient.home_site_id)
        .exclude(pk=author.pk)
        .order_by("last_name", "first_name")
    )


def modality_choices() -> list[tuple[str, str]]:
    return [(m.value, m.label) for m in Modality]


def doses_without_integration(patient: Patient) -> list[DosingSession]:
    """Dosing sessions booked or held with no integration session (booked outside the
    scheduler, or its integration cancelled): each can still get one, and its note."""
    covered = IntegrationSession.objects.filter(
        patient=patient, dosing_session__isnull=False
    ).exclude(status=IntegrationStatus.CANCELLED)
    return list(
        DosingSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .exclude(pk__in=covered.values("dosing_session_id"))
        .order_by("starts_at", "pk")
    )


def cancelled_sessions(patient: Patient) -> list[IntegrationSession]:
    return list(sessions_for_patient(patient).filter(status=IntegrationStatus.CANCELLED))
