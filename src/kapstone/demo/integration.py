"""The demo clinic's integration sessions: one after each retreat dosing session held so far,
with the therapist's signed structured note.

Each session is booked a day ahead, held about four hours after its dose (inside the 24-hour window)
for 60-90 minutes, and written up through the same services the clinic uses: a draft, then the
signature that completes the session. The modality is the signed plan's when there is one, else one
the patient's therapist is credentialed in. How far SUD falls and VOC rises over a course follows
the patient's own PHQ-9 change (responders improve, non-responders barely move), so the Integration
tab's trend agrees with the Outcomes tab. A few notes carry homework reviewed the next time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from kapstone.accounts.models import StaffUser
from kapstone.assessments.models import QuestionnaireResponse, ResponseStatus
from kapstone.clinical.access import Modality
from kapstone.dosing.models import DosingSession, SessionStatus
from kapstone.integration.services import book_integration_session, save_note, sign_note
from kapstone.measures.models import MeasurementCarePlan
from kapstone.patients.models import Patient
from kapstone.plans.selectors import signed_plan

HOURS_AFTER_DOSE = 4
RETREAT = "intensive-retreat"  # the measurement plan the demo's retreat patients follow

# Synthetic content per modality: (target or theme, negative cognition, positive cognition).
EMDR_TARGETS = (
    ("Being left alone at the hospital aged nine", "I am alone", "I can ask for help"),
    ("The car accident on the bridge", "I am not safe", "It is over; I am safe now"),
    ("Being laid off in front of the team", "I am a failure", "I did my best; I am enough"),
    ("My father's shouting at the dinner table", "I am powerless", "I have choices now"),
)
IFS_PARTS = (
    ("The inner critic", "manager"),
    ("The one who scrolls all night", "firefighter"),
    ("The lonely eight-year-old", "exile"),
    ("The perfectionist", "manager"),
)
ACTIVITIES = ("Morning walk", "Call my sister", "Cook a proper dinner", "Swim", "Garden")
HOMEWORK = {
    Modality.EMDR: "Container exercise each evening; note any new memories that surface",
    Modality.ART: "Replay the new scene when the old image intrudes",
    Modality.IFS: "Two minutes a day checking in with the critic, with curiosity",
    Modality.CBT: "Thought record when the mood drops by two points or more",
    Modality.SOMATIC: "Orienting practice three times a day",
    Modality.EXPOSURE: "Repeat the exposure twice before the next session",
    Modality.BEHAVIOURAL_ACTIVATION: "Do the planned activities; rate mastery and pleasure",
}


def _improvement(patient: Patient, now: dt.datetime) -> float:
    """The share of the first PHQ-9 total gone by the last (0 when not measurable)."""
    totals = list(
        QuestionnaireResponse.objects.filter(
            questionnaire_set__patient=patient,
            instrument="phq9",
            status=ResponseStatus.SUBMITTED,
            submitted_at__lte=now,
        )
        .order_by("submitted_at", "pk")
        .values_list("total", flat=True)
    )
    scored = [t for t in totals if t is not None]
    if len(scored) < 2 or scored[0] <= 0:
        return 0.0
    return min(max(1 - scored[-1] / scored[0], 0.0), 1.0)


def _modality(patient: Patient, therapist: StaffUser, rng: random.Random) -> Modality:
    plan = signed_plan(patient)
    credentialed = therapist.modalities()
    if plan is not None:
        for modality in plan.modalities:
            if modality in credentialed:
                return modality
    # Trendable modalities first, so the demo's charts have something to show.
    preferred = [
        m
        for m in (Modality.EMDR, Modality.IFS, Modality.BEHAVIOURAL_ACTIVATION)
        if m in credentialed
    ]
    return rng.choice(preferred or sorted(credentialed) or [Modality.CBT])


def _structured(
    modality: Modality, k: int, n: int, gain: float, rng: random.Random, theme: int
) -> dict[str, object]:
    """Session k (0-based) of n: values move by ``gain`` (0..1) over the course, with noise."""
    progress = gain * (k / max(n - 1, 1))

    def clamp(value: float, low: int, high: int) -> int:
        return min(max(round(value + rng.gauss(0, 0.4)), low), high)

    if modality is Modality.EMDR:
        target, negative, positive = EMDR_TARGETS[theme % len(EMDR_TARGETS)]
        sud_before = clamp(8.5 - 6 * progress, 0, 10)
        voc_before = clamp(2 + 3.5 * progress, 1, 7)
        record: dict[str, object] = {
            "target_memory": target,
            "negative_cognition": negative,
            "positive_cognition": positive,
            "sud_before": sud_before,
            "sud_after": max(0, sud_before - clamp(1 + 3 * gain, 0, 5)),
            "voc_before": voc_before,
            "voc_after": min(7, voc_before + clamp(0.5 + 1.5 * gain, 0, 3)),
            "bls_sets": rng.randint(14, 32),
        }
    elif modality is Modality.IFS:
        parts = IFS_PARTS[theme % 2 : theme % 2 + 2 + (k % 2)]
        record = {
            "parts": [{"name": name, "role": role} for name, role in parts],
            "self_energy": clamp(3 + 5 * progress, 0, 10),
        }
    elif modality is Modality.BEHAVIOURAL_ACTIVATION:
        planned = list(ACTIVITIES[: 3 + (k % 2)])
        done_count = clamp(1 + 3 * progress, 0, len(planned)) if k else 0
        record = {
            "done": planned[:done_count] if k else [],
            "not_done": planned[done_count:] if k else [],
            "planned": planned,
        }
    elif modality is Modality.ART:
        record = {
            "scene": "The hospital corridor at night",
            "sensations": "Tight chest, cold hands, then warmth in the arms",
            "image_replacement": "The corridor opens onto a sunlit garden with the family",
        }
    elif modality is Modality.CBT:
        record = {
            "thoughts_examined": ["Nothing will ever change", "Everyone is tired of me"],
            "restructured_beliefs": ["Some things have already changed this week"],
        }
    elif modality is Modality.SOMATIC:
        record = {
            "practice": "Orienting to the room, feet on the floor, slow exhale",
            "regulation": "Settled from shaky to calm within ten minutes",
        }
    else:
        peak = clamp(8 - 4 * progress, 0, 10)
        record = {
            "situation": "Standing in a crowded supermarket queue",
            "sud_start": max(0, peak - 2),
            "sud_peak": peak,
            "sud_end": max(0, peak - 4),
            "minutes": 30,
        }
    return {modality.value: record, "homework": [HOMEWORK[modality]]}


def build_integration(*, now: dt.datetime, seed: int = 2026) -> int:
    """An integration session with a signed note after every dosing session of a retreat held
    before ``now`` (whose integration time has passed); returns how many notes were signed."""
    rng = random.Random(seed)
    latest_plan: dict[int, str] = {}
    for patient_id, plan in MeasurementCarePlan.objects.order_by("pk").values_list(
        "patient_id", "plan"
    ):
        latest_plan[patient_id] = plan
    retreats = [p for p, plan in latest_plan.items() if plan == RETREAT]
    held: dict[int, list[DosingSession]] = defaultdict(list)
    for dose in (
        DosingSession.objects.filter(
            patient_id__in=retreats,
            starts_at__lte=now - dt.timedelta(hours=HOURS_AFTER_DOSE + 2),
        )
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("patient__therapist", "patient__home_site")
        .order_by("patient_id", "starts_at", "pk")
    ):
        held[dose.patient_id].append(dose)
    signed = 0
    for doses in held.values():
        patient = doses[0].patient
        therapist = patient.therapist
        if therapist is None:
            continue
        modality = _modality(patient, therapist, rng)
        gain = _improvement(patient, now)
        theme = rng.randrange(100)
        for k, dose in enumerate(doses):
            starts_at = dose.starts_at + dt.timedelta(hours=HOURS_AFTER_DOSE)
            minutes = rng.choice((60, 75, 90))
            session = book_integration_session(
                by=None,
                patient=patient,
                starts_at=starts_at,
                duration=dt.timedelta(minutes=minutes),
                therapist=therapist,
                modality=modality.value,
                dosing_session=dose,
                now=dose.starts_at - dt.timedelta(days=1),
            )
            written_at = starts_at + dt.timedelta(minutes=minutes + 20)
            note = save_note(
                by=therapist,
                session=session,
                held_at=starts_at,
                minutes=minutes,
                structured=_structured(modality, k, len(doses), gain, rng, theme),
                narrative="Reviewed the dosing experience and what stayed with the patient; "
                f"worked with {modality.label}. Grounded and oriented at the end.",
                now=written_at,
            )
            sign_note(
                by=therapist,
                note=note,
                # Kept only if the core warns (e.g. a modality outside a later-signed plan).
                override_reason="Demo: the modality the patient and therapist had been using",
                now=written_at + dt.timedelta(minutes=5),
            )
            signed += 1
    return signed
