"""Discharge readiness: what still keeps the patient in the chair, each item with its Source.

The result lists every blocking criterion, not the first, so the nurse sees the whole picture; it is
ready only when none blocks. The clinician still signs the discharge: this is a checklist, not an
order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from kapstone.clinical.dose_moment import is_post_dose
from kapstone.clinical.monitoring_cadence import DoseTiming, check_dose_timing, dose_end
from kapstone.clinical.monitoring_policy import (
    InvalidMonitoringInput,
    MonitoringPolicy,
    Sourced,
    TimeReference,
)
from kapstone.clinical.problems import Problem
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.vital_signs import DissociationRating, VitalSign


class DischargeCriterion(StrEnum):
    DOSE_RECORDED = "dose_recorded"
    MINIMUM_OBSERVATION = "minimum_observation"
    VITALS_RECENT = "vitals_recent"
    VITALS_WITHIN_LIMITS = "vitals_within_limits"
    VITALS_NEAR_BASELINE = "vitals_near_baseline"
    NO_SUPPLEMENTAL_OXYGEN = "no_supplemental_oxygen"
    SEDATION_RESOLVED = "sedation_resolved"
    ALERT_AND_ORIENTED = "alert_and_oriented"
    DISSOCIATION_RESOLVED = "dissociation_resolved"
    TOLERATING_FLUIDS = "tolerating_fluids"
    ESCORT_PRESENT = "escort_present"
    INSTRUCTIONS_GIVEN = "instructions_given"
    ALERTS_ACKNOWLEDGED = "alerts_acknowledged"
    NO_NEW_HIGH_RISK_FINDING = "no_new_high_risk_finding"


@dataclass(frozen=True, slots=True)
class DischargeChecklist:
    """What the nurse confirms at the chair side."""

    alert_and_oriented: bool
    dissociation_resolved: bool  # clinician's judgement
    tolerating_fluids: bool  # and no more than minimal nausea
    escort_present: bool  # a responsible adult to take the patient home
    instructions_given: bool  # written: no driving or decisions until after a night's sleep
    on_supplemental_oxygen: bool = False


@dataclass(frozen=True, slots=True)
class DischargeBlocker:
    criterion: DischargeCriterion
    message: str
    source: Source


@dataclass(frozen=True, slots=True)
class DischargeReadiness:
    ready: bool
    blockers: tuple[DischargeBlocker, ...]
    earliest_discharge_at: datetime | None  # None until the dose times allow it to be computed
    as_of: datetime
    protocol_id: str
    policy_version: str

    @property
    def blocking_criteria(self) -> frozenset[DischargeCriterion]:
        return frozenset(b.criterion for b in self.blockers)


_SEDATION_CRITERIA = Source(
    "§2.3",
    Verification.VERIFIED,
    Evidence.GUIDELINE,
    "General procedural-sedation discharge criteria (RCEM learning module).",
)
_LABEL_DISCHARGE = Source(
    "SPRAVATO-US",
    Verification.VERIFIED,
    Evidence.LABEL,
    "No driving or machinery until the next day after restful sleep; arranged transport home.",
)
_HIGH_RISK = Source(
    "§2.3", Verification.VERIFIED, Evidence.GUIDELINE, "No new high-risk C-SSRS finding."
)
_REMS_RESOLVED = Source(
    "§11.1",
    Verification.VERIFIED,
    Evidence.LABEL,
    "REMS objective: monitor until sedation, dissociation and respiratory depression resolve.",
)
_ALERTS = Source(
    "§2.2",
    Verification.UNVERIFIED,
    Evidence.CLINIC_POLICY,
    "Every alert raised in the session is acknowledged with the action taken (issue 5).",
)


def assess_discharge(  # noqa: C901 (over the ceiling before it came in; to be split)
    *,
    dose: DoseTiming,
    baseline: VitalSign | None,
    latest_vitals: VitalSign | None,
    checklist: DischargeChecklist,
    now: datetime,
    policy: MonitoringPolicy,
    latest_dissociation: DissociationRating | None = None,
    baseline_dissociation: DissociationRating | None = None,
    unacknowledged_alerts: int = 0,
    new_high_risk_finding: bool = False,
    zone: tzinfo | None = None,
) -> DischargeReadiness:
    """Every criterion that blocks discharge at ``now``, and when observation time allows it.
    Times in messages are read in ``zone`` (the clinic's), never as UTC stamps."""
    protocol = policy.protocol_for(dose.route, dose.protocol_id)
    problems = check_dose_timing(dose, now)
    if not problems:
        for name, reading in (("latest_vitals", latest_vitals), ("baseline", baseline)):
            if reading is not None and reading.taken_at > now:
                problems.append(Problem(name, f"{name} is timed after now"))
    if isinstance(unacknowledged_alerts, bool) or unacknowledged_alerts < 0:
        problems.append(Problem("unacknowledged_alerts", "must be a count of 0 or more"))
    if (
        latest_dissociation is not None
        and baseline_dissociation is not None
        and latest_dissociation.scale is not baseline_dissociation.scale
    ):
        problems.append(
            Problem(
                "latest_dissociation",
                f"compare like with like: baseline was rated on {baseline_dissociation.scale}",
            )
        )
    InvalidMonitoringInput.refuse_if_any(problems)

    blockers: list[DischargeBlocker] = []

    def block(criterion: DischargeCriterion, message: str, source: Source) -> None:
        blockers.append(DischargeBlocker(criterion, message, source))

    # Minimum observation.
    end = dose_end(dose, protocol)
    observe = protocol.minimum_observation
    start_ref = protocol.observation_from.value
    anchor = dose.started_at if start_ref is TimeReference.DOSE_START else end
    earliest = anchor + observe.value if anchor is not None else None
    if dose.started_at is None:
        block(DischargeCriterion.DOSE_RECORDED, "No dose start time is recorded.", observe.source)
    elif earliest is None:
        block(
            DischargeCriterion.DOSE_RECORDED,
            "The infusion's end time is not recorded; observation runs from the end of the dose.",
            protocol.observation_from.source,
        )
    if earliest is not None and now < earliest:
        minutes = int(observe.value.total_seconds() // 60)
        left = int((earliest - now).total_seconds() // 60) + (
            1 if (earliest - now).total_seconds() % 60 else 0
        )
        block(
            DischargeCriterion.MINIMUM_OBSERVATION,
            f"Minimum observation of {minutes} min from the {_ref_text(start_ref)} ends at "
            f"{_clock(earliest, now, zone)} ({left} min to go).",
            observe.source,
        )

    _vital_blockers(block, dose, end, baseline, latest_vitals, checklist, now, policy)

    if not checklist.alert_and_oriented:
        block(
            DischargeCriterion.ALERT_AND_ORIENTED,
            "Patient is not yet alert and oriented.",
            _SEDATION_CRITERIA,
        )
    _dissociation_blockers(
        block, checklist, dose, latest_dissociation, baseline_dissociation, policy
    )
    if not checklist.tolerating_fluids:
        block(
            DischargeCriterion.TOLERATING_FLUIDS,
            "Patient is not yet tolerating oral fluids without more than minimal nausea.",
            _SEDATION_CRITERIA,
        )
    if not checklist.escort_present:
        block(
            DischargeCriterion.ESCORT_PRESENT,
            "No responsible adult is present to take the patient home; the patient must not "
            "drive until the next day after restful sleep.",
            _LABEL_DISCHARGE,
        )
    if not checklist.instructions_given:
        block(
            DischargeCriterion.INSTRUCTIONS_GIVEN,
            "Written discharge instructions (no driving, machinery or legal decisions until the "
            "next day after restful sleep; emergency number) have not been given.",
            _LABEL_DISCHARGE,
        )
    if unacknowledged_alerts:
        block(
            DischargeCriterion.ALERTS_ACKNOWLEDGED,
            f"{unacknowledged_alerts} alert(s) not yet acknowledged with the action taken.",
            _ALERTS,
        )
    if new_high_risk_finding:
        block(
            DischargeCriterion.NO_NEW_HIGH_RISK_FINDING,
            "A new high-risk finding (suicide risk) during the session needs a clinician's "
            "assessment before discharge.",
            _HIGH_RISK,
        )

    return DischargeReadiness(
        ready=not blockers,
        blockers=tuple(blockers),
        earliest_discharge_at=earliest,
        as_of=now,
        protocol_id=protocol.protocol_id,
        policy_version=policy.version,
    )


def _clock(at: datetime, now: datetime, zone: tzinfo | None) -> str:
    """'23:30', or '00:10 on 6 Dec' when the local day differs from today's."""
    local, today = (at.astimezone(zone), now.astimezone(zone)) if zone else (at, now)
    text = f"{local:%H:%M}"
    return text if local.date() == today.date() else f"{text} on {local:%-d %b}"


def _ref_text(ref: TimeReference) -> str:
    return "start of dosing" if ref is TimeReference.DOSE_START else "end of dosing"


type _Block = Callable[[DischargeCriterion, str, Source], None]


def _vital_blockers(
    block: _Block,
    dose: DoseTiming,
    end: datetime | None,
    baseline: VitalSign | None,
    latest: VitalSign | None,
    checklist: DischargeChecklist,
    now: datetime,
    policy: MonitoringPolicy,
) -> None:
    d = policy.discharge
    if checklist.on_supplemental_oxygen:
        block(
            DischargeCriterion.NO_SUPPLEMENTAL_OXYGEN,
            "Patient still needs supplemental oxygen.",
            _SEDATION_CRITERIA,
        )
    since = end or dose.started_at
    # After the infusion's end, or (a bolus or nasal dose) after the dose: see dose_moment.
    if latest is None or (since is not None and not is_post_dose(latest.taken_at, since)):
        block(
            DischargeCriterion.VITALS_RECENT,
            "No vital signs recorded since the dose; take a set before discharge.",
            d.vitals_max_age.source,
        )
        return
    age = now - latest.taken_at
    if age > d.vitals_max_age.value:
        block(
            DischargeCriterion.VITALS_RECENT,
            f"Latest vital signs are {int(age.total_seconds() // 60)} min old; discharge needs a "
            f"set from the last {int(d.vitals_max_age.value.total_seconds() // 60)} min.",
            d.vitals_max_age.source,
        )

    def bound(name: str, value: int, unit: str, limit: Sourced[int], above: bool) -> None:
        # above=True: value must be below the limit; else at least the limit.
        fails = value >= limit.value if above else value < limit.value
        if fails:
            rule = f"below {limit.value}" if above else f"at least {limit.value}"
            block(
                DischargeCriterion.VITALS_WITHIN_LIMITS,
                f"{name} {value} {unit} is outside the discharge limit (must be {rule} {unit}).",
                limit.source,
            )

    bound("Systolic", latest.systolic_mmhg, "mmHg", d.systolic_below, above=True)
    bound("Systolic", latest.systolic_mmhg, "mmHg", d.systolic_at_least, above=False)
    bound("Diastolic", latest.diastolic_mmhg, "mmHg", d.diastolic_below, above=True)
    bound("Heart rate", latest.heart_rate_bpm, "bpm", d.heart_rate_below, above=True)
    bound("Heart rate", latest.heart_rate_bpm, "bpm", d.heart_rate_at_least, above=False)
    bound("SpO2", latest.spo2_percent, "%", d.spo2_at_least, above=False)
    rr = latest.respiratory_rate_per_min
    bound("Respiratory rate", rr, "/min", d.respiratory_rate_below, above=True)
    bound("Respiratory rate", rr, "/min", d.respiratory_rate_at_least, above=False)

    if baseline is None:
        block(
            DischargeCriterion.VITALS_NEAR_BASELINE,
            "No pre-dose baseline to compare with; a clinician must judge the vital signs.",
            d.systolic_rise_below.source,
        )
    else:
        for name, now_value, base_value, limit in (
            ("Systolic", latest.systolic_mmhg, baseline.systolic_mmhg, d.systolic_rise_below),
            ("Diastolic", latest.diastolic_mmhg, baseline.diastolic_mmhg, d.diastolic_rise_below),
        ):
            rise = now_value - base_value
            if rise >= limit.value:
                block(
                    DischargeCriterion.VITALS_NEAR_BASELINE,
                    f"{name} {now_value} mmHg is still {rise} mmHg above the pre-dose "
                    f"{base_value} (must be less than {limit.value} above).",
                    limit.source,
                )

    deepest = d.deepest_sedation
    if latest.sedation is None:
        block(
            DischargeCriterion.SEDATION_RESOLVED,
            "Sedation level is not recorded in the latest vital signs.",
            deepest.source,
        )
    elif latest.sedation.rank > deepest.value.rank:
        block(
            DischargeCriterion.SEDATION_RESOLVED,
            f"Sedation '{latest.sedation.label}' has not resolved (needs "
            f"'{deepest.value.label}' or lighter).",
            deepest.source,
        )


def _dissociation_blockers(
    block: _Block,
    checklist: DischargeChecklist,
    dose: DoseTiming,
    latest: DissociationRating | None,
    baseline: DissociationRating | None,
    policy: MonitoringPolicy,
) -> None:
    if not checklist.dissociation_resolved:
        block(
            DischargeCriterion.DISSOCIATION_RESOLVED,
            "The clinician has not yet judged dissociation resolved.",
            _REMS_RESOLVED,
        )
    margin = policy.discharge.dissociation_max_rise_over_baseline
    if margin.value is None:
        return
    post_dose = (
        latest
        if latest is not None and dose.started_at is not None and latest.rated_at > dose.started_at
        else None
    )
    if post_dose is None or baseline is None:
        block(
            DischargeCriterion.DISSOCIATION_RESOLVED,
            "Clinic policy needs a pre-dose and a current dissociation rating to compare.",
            margin.source,
        )
        return
    rise = post_dose.total - baseline.total
    if rise > margin.value:
        block(
            DischargeCriterion.DISSOCIATION_RESOLVED,
            f"Dissociation {post_dose.total} is {rise} above the pre-dose {baseline.total} "
            f"(policy allows at most {margin.value} above).",
            margin.source,
        )
