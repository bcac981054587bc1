"""The core's view of a chair-side record: readings, dose times, the baseline, the pre-dose facts.

Services (before writing) and selectors (for the console) both need these; they read only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db.models import QuerySet
from django.utils import timezone

from kapstone.assessments.models import QuestionnaireSet
from kapstone.chairside.models import (
    ChairsideRecord,
    ChecklistAnswer,
    DeviceVerdict,
    DissociationRating,
    DoseAdministration,
    ProceedDecision,
    VitalReading,
    VitalSource,
)
from kapstone.chairside.policy import checklist_policy, monitoring_policy
from kapstone.clinical.alerts import (
    PreDoseBloodPressureCheck,
    PrescriberDecisionToProceed,
    pre_dose_blood_pressure_check,
)
from kapstone.clinical.device_artifacts import DeviceSample, Verdict
from kapstone.clinical.monitoring_cadence import DoseTiming
from kapstone.clinical.pre_dose_checklist import (
    ChecklistItem,
    PreDoseAssessment,
    PreDoseFacts,
    assess_pre_dose,
)
from kapstone.clinical.pregnancy import PregnancyStatus
from kapstone.clinical.routes import Route
from kapstone.clinical.vital_signs import (
    DissociationRating as CoreRating,
)
from kapstone.clinical.vital_signs import (
    DissociationScale,
    SedationLevel,
    VitalSign,
)
from kapstone.intake.selectors import signed_eligibility
from kapstone.kernel.read_once import once_per_page
from kapstone.plans.selectors import SessionDose, signed_plan
from kapstone.safety.models import SafetyAlert
from kapstone.safety.selectors import active_hold
from kapstone.web.labels import clinic_zone

# The nurse's own answers; the other items are read from the chart each time.
NURSE_ITEMS = (
    ChecklistItem.IDENTITY,
    ChecklistItem.FASTING,
    ChecklistItem.ESCORT,
    ChecklistItem.PREGNANCY,
    ChecklistItem.WEIGHT,
)


def core_reading(r: VitalReading) -> VitalSign:
    assert r.systolic is not None and r.diastolic is not None and r.heart_rate is not None
    assert r.spo2 is not None and r.respiratory_rate is not None
    return VitalSign(
        taken_at=r.taken_at,
        systolic_mmhg=r.systolic,
        diastolic_mmhg=r.diastolic,
        heart_rate_bpm=r.heart_rate,
        spo2_percent=r.spo2,
        respiratory_rate_per_min=r.respiratory_rate,
        sedation=SedationLevel(r.sedation) if r.sedation else None,
    )


def core_rating(r: DissociationRating) -> CoreRating:
    return CoreRating(scale=DissociationScale(r.scale), total=r.score, rated_at=r.taken_at)


@once_per_page
def every_reading(record: ChairsideRecord) -> list[VitalReading]:
    """The session's readings, struck ones too, earliest first, with who took, struck and
    verified each (the console's record and its readings list show the same rows)."""
    return list(
        record.vitals.select_related("strike__by", "recorded_by", "verification__by").order_by(
            "taken_at", "pk"
        )
    )


@once_per_page
def live_vitals(record: ChairsideRecord) -> list[VitalReading]:
    """Readings that count, earliest first: a struck reading counts for nothing, and neither does
    a monitor reading held as a possible artifact (the next one confirms it, and counts).

    Taken from :func:`every_reading`, so a page showing both reads the readings once."""
    return [
        r
        for r in every_reading(record)
        if not r.is_struck and r.device_verdict != DeviceVerdict.HELD
    ]


def live_vitals_query(record_ids: list[int]) -> QuerySet[VitalReading]:
    return (
        VitalReading.objects.filter(record_id__in=record_ids, strike__isnull=True)
        .exclude(device_verdict=DeviceVerdict.HELD)
        .order_by("taken_at", "pk")
    )


@once_per_page
def baseline_reading(record: ChairsideRecord) -> VitalReading | None:
    """The latest baseline reading that counts."""
    baselines = [r for r in live_vitals(record) if r.is_baseline]
    return baselines[-1] if baselines else None


def device_samples(record: ChairsideRecord, before: dt.datetime) -> list[DeviceSample]:
    """The monitor's earlier readings of this session, for the artifact policy: the last few are
    enough (it compares with the latest settled one and a held one after it)."""
    rows = list(
        record.vitals.filter(
            source=VitalSource.DEVICE, strike__isnull=True, taken_at__lt=before
        ).order_by("-taken_at", "-pk")[:_SAMPLES_NEEDED]
    )
    return [DeviceSample(core_reading(r), Verdict(r.device_verdict)) for r in reversed(rows)]


# A held reading, the settled one before it, and room for a few held in a row.
_SAMPLES_NEEDED = 10


@once_per_page
def doses(record: ChairsideRecord) -> list[DoseAdministration]:
    """Earliest first, with what the console shows of each (one read serves both)."""
    return list(doses_query([record.pk]))


def doses_query(record_ids: list[int]) -> QuerySet[DoseAdministration]:
    return (
        DoseAdministration.objects.filter(record_id__in=record_ids)
        .select_related("lot", "product", "given_by", "witnessed_by", "ledger_entry")
        .order_by("started_at", "pk")
    )


def first_dose_at(record: ChairsideRecord) -> dt.datetime | None:
    first = record.doses.order_by("started_at").values_list("started_at", flat=True).first()
    return first


def dose_timing(record: ChairsideRecord) -> DoseTiming:
    given = doses(record)
    route = record.route_value
    if not given:
        return DoseTiming(route=route, started_at=None, protocol_id=record.protocol_id)
    started = given[0].started_at
    if route is Route.IV:
        # The infusion ends when every infusion line charted has stopped.
        stops = [d.stopped_at for d in given]
        ended = None if None in stops else max(s for s in stops if s is not None)
    else:
        ended = max(d.stopped_at or d.started_at for d in given)
    return DoseTiming(
        route=route, started_at=started, ended_at=ended, protocol_id=record.protocol_id
    )


def infusion_running(record: ChairsideRecord, at: dt.datetime) -> bool:
    if record.route_value is not Route.IV:
        return False
    return record.doses.filter(started_at__lte=at, stopped_at__isnull=True).exists()


@once_per_page
def latest_answers(record: ChairsideRecord) -> dict[str, ChecklistAnswer]:
    """The latest answer to each item (the nurse's own items carry her answer as ``value``)."""
    latest: dict[str, ChecklistAnswer] = {}
    for answer in record.checklist.order_by("answered_at", "pk"):
        latest[answer.item] = answer
    return latest


@once_per_page
def blood_pressure_check(
    record: ChairsideRecord, baseline: VitalReading | None
) -> tuple[PreDoseBloodPressureCheck | None, ProceedDecision | None]:
    if baseline is None:
        return None, None
    decision = (
        ProceedDecision.objects.filter(record=record, reading=baseline)
        .select_related("prescriber")
        .order_by("-decided_at", "-pk")
        .first()
    )
    patient = record.session.patient
    core_decision = (
        PrescriberDecisionToProceed(
            prescriber=decision.prescriber.display_name,
            # In the clinic's zone: the core writes its time into the reason a person reads.
            decided_at=timezone.localtime(decision.decided_at, clinic_zone(record.session.site)),
            rationale=decision.rationale,
        )
        if decision is not None
        else None
    )
    check = pre_dose_blood_pressure_check(
        core_reading(baseline),
        policy=monitoring_policy(),
        age_years=patient.age_on(timezone.localdate(baseline.taken_at)),
        prescriber_decision=core_decision,
    )
    return check, decision


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        return None


def pre_dose_assessment(
    record: ChairsideRecord, now: dt.datetime, answers: dict[str, object] | None = None
) -> PreDoseAssessment:
    """The checklist as the core grades it now; ``answers`` stands in for the nurse's latest."""
    session = record.session
    patient = session.patient
    today = timezone.localdate(now)
    if answers is None:
        answers = {k: a.value for k, a in latest_answers(record).items()}

    def confirmed(item: ChecklistItem) -> bool:
        return answers.get(item.value) is True

    eligibility = signed_eligibility(patient)
    signed_at = eligibility.signed_at if eligibility is not None else None
    plan = signed_plan(patient)
    pregnancy = answers.get(ChecklistItem.PREGNANCY.value)
    pregnancy_values = {p.value for p in PregnancyStatus}
    baseline = baseline_reading(record)
    bp, _ = blood_pressure_check(record, baseline)
    facts = PreDoseFacts(
        today=today,
        identity_confirmed=confirmed(ChecklistItem.IDENTITY),
        open_suicide_risk_alerts=SafetyAlert.objects.filter(
            patient=patient, acknowledgement__isnull=True
        ).count(),
        dosing_hold=active_hold(patient) is not None,
        consent_on_file=plan is not None and plan.plan.consent_at is not None,
        eligibility_decision=eligibility.decision if eligibility is not None else None,
        eligibility_signed_on=timezone.localdate(signed_at) if signed_at else None,
        fasting_confirmed=confirmed(ChecklistItem.FASTING),
        escort_confirmed=confirmed(ChecklistItem.ESCORT),
        sex_at_birth=patient.sex_at_birth,
        age_years=patient.age_on(today),
        pregnancy_status=PregnancyStatus(pregnancy)
        if isinstance(pregnancy, str) and pregnancy in pregnancy_values
        else None,
        open_questionnaires=sum(
            1
            for s in QuestionnaireSet.objects.filter(patient=patient, submitted_at__isnull=True)
            if s.is_open(now) and not s.is_rating
        ),
        weight_kg=_decimal(answers.get(ChecklistItem.WEIGHT.value)),
        plan_weight_kg=plan.plan.weight_kg if plan is not None else None,
        dose_is_weight_based=plan is not None and plan.plan.dose_basis == "mg_per_kg",
        baseline_taken=baseline is not None,
        blood_pressure=bp,
    )
    return assess_pre_dose(facts, policy=checklist_policy())


def planned_dose(record: ChairsideRecord) -> SessionDose | None:
    """The plan's calculated dose for this session: the nth held session on the signed plan."""
    plan = signed_plan(record.session.patient)
    if plan is None or not plan.doses:
        return None
    held_before = (
        ChairsideRecord.objects.filter(
            session__patient=record.session.patient,
            session__starts_at__lt=record.session.starts_at,
            doses__isnull=False,
        )
        .distinct()
        .count()
    )
    return plan.doses[min(held_before, len(plan.doses) - 1)]


@once_per_page
def ratings(record: ChairsideRecord) -> list[DissociationRating]:
    return list(ratings_query([record.pk]))


def ratings_query(record_ids: list[int]) -> QuerySet[DissociationRating]:
    return (
        DissociationRating.objects.filter(record_id__in=record_ids)
        .select_related("rated_by")
        .order_by("taken_at", "pk")
    )
