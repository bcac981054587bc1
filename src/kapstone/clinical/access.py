"""Who may do what: the one place where Kapstone's authorisation rules live.

The shell asks these functions through a single decorator (``kapstone.web.authz.requires``); no view
decides access on its own. Patient-scoped actions also need the user to be on the patient's care team,
unless their role sees every chart (the medical director, who supervises all care, and the intake
coordinator, who registers patients before a care team exists).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MEDICAL_DIRECTOR = "medical_director"
    PRESCRIBER = "prescriber"
    NURSE = "nurse"
    THERAPIST = "therapist"
    INTAKE_COORDINATOR = "intake_coordinator"
    RESEARCHER = "researcher"
    ADMINISTRATOR = "administrator"
    BILLER = "biller"

    @property
    def label(self) -> str:
        return _ROLE_LABELS[self]


_ROLE_LABELS = {
    Role.MEDICAL_DIRECTOR: "Medical director",
    Role.PRESCRIBER: "Prescriber",
    Role.NURSE: "Nurse / monitor",
    Role.THERAPIST: "Therapist",
    Role.INTAKE_COORDINATOR: "Intake coordinator",
    Role.RESEARCHER: "Researcher",
    Role.ADMINISTRATOR: "Administrator",
    Role.BILLER: "Biller",
}


class Modality(StrEnum):
    """Integration psychotherapy modalities a therapist can be credentialed in."""

    EMDR = "emdr"
    ART = "art"
    IFS = "ifs"
    CBT = "cbt"
    SOMATIC = "somatic"
    EXPOSURE = "exposure"
    BEHAVIOURAL_ACTIVATION = "behavioural_activation"

    @property
    def label(self) -> str:
        return _MODALITY_LABELS[self]


_MODALITY_LABELS = {
    Modality.EMDR: "EMDR",
    Modality.ART: "Accelerated Resolution Therapy",
    Modality.IFS: "Internal Family Systems",
    Modality.CBT: "CBT",
    Modality.SOMATIC: "Somatic therapy",
    Modality.EXPOSURE: "Exposure therapy",
    Modality.BEHAVIOURAL_ACTIVATION: "Behavioural activation",
}


class Permission(StrEnum):
    SEE_DASHBOARD = "see_dashboard"
    FIND_PATIENTS = "find_patients"
    REGISTER_PATIENT = "register_patient"
    OPEN_CHART = "open_chart"
    EDIT_PATIENT = "edit_patient"
    RECORD_MEASUREMENT = "record_measurement"
    BROWSE_AUDIT = "browse_audit"
    MANAGE_STAFF = "manage_staff"
    SEND_QUESTIONNAIRES = "send_questionnaires"
    SEE_RESPONSES = "see_responses"
    RATE_CLINICIAN_INSTRUMENT = "rate_clinician_instrument"
    EXPORT_RECORDS = "export_records"
    SEE_ALERT_BOARD = "see_alert_board"
    ACKNOWLEDGE_ALERT = "acknowledge_alert"
    REVIEW_DOSING_HOLD = "review_dosing_hold"
    BOOK_DOSING = "book_dosing"
    SEE_WORK_QUEUE = "see_work_queue"
    MANAGE_CARE_PLAN = "manage_care_plan"
    MANAGE_STOCK = "manage_stock"
    RECORD_DOSE_STOCK = "record_dose_stock"
    RESOLVE_DISCREPANCY = "resolve_discrepancy"
    SEE_LEDGER_REPORTS = "see_ledger_reports"
    SEE_COHORT_DASHBOARD = "see_cohort_dashboard"
    PRINT_OUTCOME_LETTER = "print_outcome_letter"
    RUN_RESEARCH_EXPORT = "run_research_export"
    MANAGE_PROGRAMS = "manage_programs"
    MANAGE_CLINIC_POLICY = "manage_clinic_policy"
    MANAGE_TREATMENT_PLAN = "manage_treatment_plan"
    SIGN_ELIGIBILITY = "sign_eligibility"
    COSIGN_ELIGIBILITY = "cosign_eligibility"
    SEE_REMS_QUEUE = "see_rems_queue"
    FILE_REMS_FORMS = "file_rems_forms"
    CHART_DOSING_SESSION = "chart_dosing_session"
    SIGN_DOSING_SESSION = "sign_dosing_session"
    DECIDE_TO_PROCEED = "decide_to_proceed"
    SCHEDULE_SESSIONS = "schedule_sessions"
    MANAGE_CLINIC_CALENDAR = "manage_clinic_calendar"
    SEE_INTEGRATION_NOTES = "see_integration_notes"
    WRITE_INTEGRATION_NOTE = "write_integration_note"
    KEEP_PROCESS_NOTES = "keep_process_notes"
    READ_PROCESS_NOTES = "read_process_notes"
    SEE_DAY_BOARD = "see_day_board"
    CHECK_IN_PATIENT = "check_in_patient"
    MANAGE_MONITORS = "manage_monitors"
    MANAGE_API_CLIENTS = "manage_api_clients"
    SEE_CHARGES = "see_charges"
    FINALISE_CHARGES = "finalise_charges"
    SEE_ACCOUNT = "see_account"
    POST_PAYMENTS = "post_payments"
    MANAGE_CLAIMS = "manage_claims"
    SEE_AUTHORISATIONS = "see_authorisations"
    RECORD_COVERAGE = "record_coverage"
    MANAGE_BILLING_SETUP = "manage_billing_setup"
    READ_MESSAGES = "read_messages"
    REPLY_TO_MESSAGES = "reply_to_messages"
    INVITE_TO_COMPANION = "invite_to_companion"


CLINICAL_ROLES = frozenset(
    {Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.NURSE, Role.THERAPIST, Role.INTAKE_COORDINATOR}
)

_GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.SEE_DASHBOARD: frozenset(Role),
    Permission.FIND_PATIENTS: CLINICAL_ROLES,
    Permission.REGISTER_PATIENT: frozenset(
        {Role.INTAKE_COORDINATOR, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}
    ),
    Permission.OPEN_CHART: CLINICAL_ROLES,
    Permission.EDIT_PATIENT: frozenset(
        {Role.INTAKE_COORDINATOR, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}
    ),
    Permission.RECORD_MEASUREMENT: CLINICAL_ROLES,
    Permission.BROWSE_AUDIT: frozenset({Role.ADMINISTRATOR, Role.MEDICAL_DIRECTOR}),
    Permission.MANAGE_STAFF: frozenset({Role.ADMINISTRATOR}),
    Permission.MANAGE_MONITORS: frozenset({Role.ADMINISTRATOR}),
    # Registering a system that may read the FHIR API (SMART Backend Services) is IT work.
    Permission.MANAGE_API_CLIENTS: frozenset({Role.ADMINISTRATOR}),
    # Intake screening is part of a coordinator's work, so they send and read questionnaires too.
    Permission.SEND_QUESTIONNAIRES: CLINICAL_ROLES,
    Permission.SEE_RESPONSES: CLINICAL_ROLES,
    # The MADRS is rated at interview by a trained clinician, never by the front desk.
    Permission.RATE_CLINICIAN_INSTRUMENT: CLINICAL_ROLES - {Role.INTAKE_COORDINATOR},
    # Exports leave the clinic's control, so only those responsible for the record make them.
    Permission.EXPORT_RECORDS: frozenset({Role.MEDICAL_DIRECTOR, Role.PRESCRIBER}),
    Permission.SEE_ALERT_BOARD: CLINICAL_ROLES,
    # Acknowledging a suicide-risk alert means taking clinical action: clinicians only.
    Permission.ACKNOWLEDGE_ALERT: CLINICAL_ROLES - {Role.INTAKE_COORDINATOR},
    # Releasing a dosing hold after a high C-SSRS result is a prescribing decision.
    Permission.REVIEW_DOSING_HOLD: frozenset({Role.MEDICAL_DIRECTOR, Role.PRESCRIBER}),
    Permission.BOOK_DOSING: CLINICAL_ROLES - {Role.THERAPIST},
    Permission.SEE_WORK_QUEUE: CLINICAL_ROLES,
    Permission.MANAGE_CARE_PLAN: frozenset(
        {Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.THERAPIST}
    ),
    # Schedule III stock is handled by licensed clinical staff; the ledger is clinic-wide, not
    # per chart, and only the medical director closes a count discrepancy.
    Permission.MANAGE_STOCK: frozenset({Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.NURSE}),
    Permission.RECORD_DOSE_STOCK: frozenset({Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.NURSE}),
    Permission.RESOLVE_DISCREPANCY: frozenset({Role.MEDICAL_DIRECTOR}),
    Permission.SEE_LEDGER_REPORTS: frozenset(
        {Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.NURSE, Role.ADMINISTRATOR}
    ),
    # De-identified data is the researcher's work (design.md: "de-identified outcome data"); the
    # medical director answers for what leaves the clinic and may run one too. Clinicians see
    # identified charts already and have no need of it; an administrator has no clinical remit.
    Permission.RUN_RESEARCH_EXPORT: frozenset({Role.RESEARCHER, Role.MEDICAL_DIRECTOR}),
    # Program outcomes are aggregates (no patient named): the medical director and prescribers
    # steer the program by them, and the researcher studies them. A researcher gets the dashboard
    # because it shows aggregates only (minimum necessary), never a chart.
    Permission.SEE_COHORT_DASHBOARD: frozenset(
        {Role.MEDICAL_DIRECTOR, Role.PRESCRIBER, Role.RESEARCHER}
    ),
    # An outcome letter discloses a patient's results to them or to a payer: as for exports, those
    # responsible for the record (the prescriber, the medical director) print it.
    Permission.PRINT_OUTCOME_LETTER: frozenset({Role.MEDICAL_DIRECTOR, Role.PRESCRIBER}),
    # Program templates are clinic policy: the medical director sets them for the whole clinic.
    Permission.MANAGE_PROGRAMS: frozenset({Role.MEDICAL_DIRECTOR}),
    # Monitoring thresholds, grades and discharge limits are the medical director's policy (§2.2).
    Permission.MANAGE_CLINIC_POLICY: frozenset({Role.MEDICAL_DIRECTOR}),
    # A treatment plan (program, route, dose) is a prescribing decision.
    Permission.MANAGE_TREATMENT_PLAN: frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    # Eligibility is a prescribing decision; overriding an absolute contraindication also needs
    # the medical director's second sign-off.
    Permission.SIGN_ELIGIBILITY: frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    Permission.COSIGN_ELIGIBILITY: frozenset({Role.MEDICAL_DIRECTOR}),
    # The Spravato REMS monitoring form reports the chair-side record: the nurse who monitored,
    # the prescriber (on site, REMS §11.1) and the medical director keep the queue, prepare and
    # file the forms. Filing is the certified setting's act, recorded by a clinician.
    Permission.SEE_REMS_QUEUE: frozenset({Role.NURSE, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    Permission.FILE_REMS_FORMS: frozenset({Role.NURSE, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    # The chair-side record is kept by those who give and supervise the dose: the nurse at the
    # chair, the prescriber (on site for esketamine) and the medical director. Discharging and
    # signing it is theirs too; dosing despite a raised pre-dose BP is a prescribing decision.
    Permission.CHART_DOSING_SESSION: frozenset(
        {Role.NURSE, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}
    ),
    Permission.SIGN_DOSING_SESSION: frozenset({Role.NURSE, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    Permission.DECIDE_TO_PROCEED: frozenset({Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}),
    # Booking retreats is the front desk's daily work (the intake coordinator already sees every
    # chart); prescribers and the medical director also schedule, to re-plan around a clinical change.
    # Nurses and therapists are booked by it but do not run it: their own calendars are read-only.
    Permission.SCHEDULE_SESSIONS: frozenset(
        {Role.INTAKE_COORDINATOR, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}
    ),
    # Opening hours, closures, rooms and staff hours are clinic operations: the medical director
    # (who answers for staffing dosing safely) and the administrator keep them.
    Permission.MANAGE_CLINIC_CALENDAR: frozenset({Role.MEDICAL_DIRECTOR, Role.ADMINISTRATOR}),
    # Integration notes are part of the clinical record the care team doses by (SUD/VOC next to
    # dose and dissociation). The intake coordinator sees every chart to register patients, not
    # to read what a patient works through in therapy, so not these.
    Permission.SEE_INTEGRATION_NOTES: CLINICAL_ROLES - {Role.INTAKE_COORDINATOR},
    # The note records psychotherapy the credentialed therapist delivered; the medical director
    # supervises and reads it but does not write it (a director who also practises therapy has a
    # therapist account, so the note names who delivered it). Addenda are the therapist's too.
    Permission.WRITE_INTEGRATION_NOTE: frozenset({Role.THERAPIST}),
    # Psychotherapy process notes are the therapist's own working notes, kept apart from the
    # record. Only their author and the colleagues the author grants read them: the role grant
    # below is who may be granted (a supervising therapist, a consulting prescriber, the medical
    # director); the author/grant check in kapstone.integration.selectors decides, and nobody,
    # the medical director included, sees them by role alone.
    Permission.KEEP_PROCESS_NOTES: frozenset({Role.THERAPIST}),
    Permission.READ_PROCESS_NOTES: frozenset(
        {Role.THERAPIST, Role.PRESCRIBER, Role.MEDICAL_DIRECTOR}
    ),
    # The day board is the clinic floor's whiteboard: who is where, in which phase. Every
    # clinician working a site sees it; links into a chart still follow the care-team rule.
    Permission.SEE_DAY_BOARD: CLINICAL_ROLES,
    # Checking a patient in is the front desk's job; nurses and prescribers at the door do it too.
    Permission.CHECK_IN_PATIENT: CLINICAL_ROLES - {Role.THERAPIST},
    # Billing (kapstone.billing). The biller reviews the charges signed encounters propose, keeps
    # the accounts and sends the claims; the medical director answers for what is billed in the
    # clinic's name and sees it. The front desk (intake coordinator) takes payments and prints a
    # patient's superbill and statement. The biller has no clinical permission: no chart, notes,
    # vitals, questionnaires or process notes, only the demographics a claim carries.
    Permission.SEE_CHARGES: frozenset({Role.BILLER, Role.MEDICAL_DIRECTOR}),
    Permission.FINALISE_CHARGES: frozenset({Role.BILLER}),
    Permission.SEE_ACCOUNT: frozenset(
        {Role.BILLER, Role.MEDICAL_DIRECTOR, Role.INTAKE_COORDINATOR}
    ),
    Permission.POST_PAYMENTS: frozenset({Role.BILLER, Role.INTAKE_COORDINATOR}),
    Permission.MANAGE_CLAIMS: frozenset({Role.BILLER}),
    # Coverage and esketamine prior authorisations (kapstone.coverage): the biller and the front
    # desk record them; the medical director sees them. Not clinical: no notes, no vitals.
    Permission.SEE_AUTHORISATIONS: frozenset(
        {Role.BILLER, Role.INTAKE_COORDINATOR, Role.MEDICAL_DIRECTOR}
    ),
    Permission.RECORD_COVERAGE: frozenset(
        {Role.BILLER, Role.INTAKE_COORDINATOR, Role.MEDICAL_DIRECTOR}
    ),
    # Billing setup (payers, the practice's and clinicians' NPIs, fee schedules): the biller keeps
    # it; the administrator sets a clinic up, as with the monitors and the staff.
    Permission.MANAGE_BILLING_SETUP: frozenset({Role.BILLER, Role.ADMINISTRATOR}),
    # A patient's secure messages (kapstone.messaging) go to their care team: the clinicians who
    # treat them read and answer them, and the medical director, who supervises all care. The
    # front desk (intake coordinator) sees every chart by role, so it gets neither: what a patient
    # writes to their clinicians is clinical, and a booking question is answered by a clinician
    # passing it on. Replying is the same group: whoever reads a message can be asked to answer it.
    Permission.READ_MESSAGES: CLINICAL_ROLES - {Role.INTAKE_COORDINATOR},
    Permission.REPLY_TO_MESSAGES: CLINICAL_ROLES - {Role.INTAKE_COORDINATOR},
    # Inviting a patient to the companion app (and resending, pausing it) is part of caring for
    # them: the front desk at registration, or any clinician on the care team. Not the biller.
    Permission.INVITE_TO_COMPANION: CLINICAL_ROLES,
}

# Permissions that act on one patient's chart: the care-team rule applies to them.
PATIENT_SCOPED = frozenset(
    {
        Permission.OPEN_CHART,
        Permission.EDIT_PATIENT,
        Permission.RECORD_MEASUREMENT,
        Permission.SEND_QUESTIONNAIRES,
        Permission.SEE_RESPONSES,
        Permission.RATE_CLINICIAN_INSTRUMENT,
        Permission.EXPORT_RECORDS,
        Permission.ACKNOWLEDGE_ALERT,
        Permission.REVIEW_DOSING_HOLD,
        Permission.BOOK_DOSING,
        Permission.MANAGE_CARE_PLAN,
        Permission.MANAGE_TREATMENT_PLAN,
        Permission.SIGN_ELIGIBILITY,
        Permission.COSIGN_ELIGIBILITY,
        Permission.PRINT_OUTCOME_LETTER,
        Permission.FILE_REMS_FORMS,
        Permission.CHART_DOSING_SESSION,
        Permission.SIGN_DOSING_SESSION,
        Permission.DECIDE_TO_PROCEED,
        Permission.SEE_INTEGRATION_NOTES,
        Permission.WRITE_INTEGRATION_NOTE,
        Permission.KEEP_PROCESS_NOTES,
        Permission.READ_PROCESS_NOTES,
        Permission.CHECK_IN_PATIENT,
        Permission.SEE_ACCOUNT,
        Permission.POST_PAYMENTS,
        Permission.MANAGE_CLAIMS,
        Permission.RECORD_COVERAGE,
        Permission.READ_MESSAGES,
        Permission.REPLY_TO_MESSAGES,
        Permission.INVITE_TO_COMPANION,
    }
)

# Roles that see every chart in the clinic, care team or not.
SEES_EVERY_CHART = frozenset({Role.MEDICAL_DIRECTOR, Role.INTAKE_COORDINATOR})

# Billing is clinic-wide work: the biller bills every patient's encounters, care team or not, but
# only through the billing permissions (the biller holds no chart permission to widen).
BILLING_SCOPED = frozenset(
    {Permission.SEE_ACCOUNT, Permission.POST_PAYMENTS, Permission.MANAGE_CLAIMS}
    | {Permission.RECORD_COVERAGE}
)
SEES_EVERY_ACCOUNT = frozenset({Role.BILLER})


def role_may(role: Role, permission: Permission) -> bool:
    """Whether the role carries the permission at all (before any care-team check)."""
    return role in _GRANTS[permission]


def may(role: Role, permission: Permission, *, on_care_team: bool | None = None) -> bool:
    """The whole decision: the role's grant and, for a patient-scoped permission, the care team.

    ``on_care_team`` is required for patient-scoped permissions and ignored otherwise.
    """
    if not role_may(role, permission):
        return False
    if permission not in PATIENT_SCOPED:
        return True
    if on_care_team is None:
        raise ValueError(
            f"{permission} acts on a patient: say whether the user is on the care team"
        )
    if permission in BILLING_SCOPED and role in SEES_EVERY_ACCOUNT:
        return True
    return on_care_team or role in SEES_EVERY_CHART


def roles_granted(permission: Permission) -> frozenset[Role]:
    return _GRANTS[permission]
