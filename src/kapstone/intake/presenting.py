"""The intake's JSON in the clinic's words, for the chart pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kapstone.assessments.flow import short_name
from kapstone.intake import labels
from kapstone.intake.models import IntakeVersion
from kapstone.intake.questionnaire_facts import QuestionnaireFact


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _yes_no(value: object, yes: str, no: str, unknown: str = "not recorded") -> str:
    return yes if value is True else no if value is False else unknown


def _trial(t: Mapping[str, Any]) -> str:
    dose = f" {_num(t['daily_dose_mg'])} mg/day" if t.get("daily_dose_mg") is not None else ""
    adequate = _yes_no(
        t.get("adequate_dose"), "adequate dose", "dose not adequate", "dose not judged"
    )
    return (
        f"{t.get('drug')}{dose}, {_num(t.get('weeks'))} weeks, "
        f"{labels.label(labels.TRIAL_OUTCOMES, t.get('outcome')).lower()} ({adequate})"
    )


def facts_summary(intake: IntakeVersion | None, section: str) -> list[str]:  # noqa: C901 (over the ceiling before it came in; to be split)
    """One line per recorded item of a saved section ("None recorded" for an empty answer)."""
    if intake is None:
        return []
    f = intake.facts
    lines: list[str] = []
    if section == "conditions":
        lines = [labels.label(labels.PRESENTING, c) for c in f.get("presenting_conditions") or []]
    elif section == "episode":
        episode = f.get("current_episode")
        if episode:
            lines.append(f"Current episode since {episode.get('started_on') or 'date not known'}")
            lines += [
                f"Current episode: {_trial(t)}" for t in episode.get("antidepressant_trials", [])
            ]
        lines += [
            f"Earlier episode: {_trial(t)}" for t in f.get("earlier_antidepressant_trials") or []
        ]
    elif section == "treatments":
        for c in f.get("psychotherapy") or []:
            lines.append(
                f"{labels.label(labels.PSYCHOTHERAPY, c.get('kind'))}"
                + (f", {c['sessions']} sessions" if c.get("sessions") is not None else "")
                + f" ({_yes_no(c.get('helped'), 'helped', 'did not help', 'effect not recorded')})"
            )
        for c in f.get("neuromodulation") or []:
            lines.append(
                f"{labels.label(labels.NEUROMODULATION, c.get('kind'))}"
                + (f", {c['sessions']} sessions" if c.get("sessions") is not None else "")
                + f" ({_yes_no(c.get('helped'), 'helped', 'did not help', 'effect not recorded')})"
            )
        for k in f.get("prior_ketamine") or []:
            lines.append(
                f"Ketamine {k.get('route')}: {labels.label(labels.PRIOR_KETAMINE, k.get('outcome')).lower()}"
                + (f" ({k['note']})" if k.get("note") else "")
            )
    elif section == "history":
        for item in f.get("medical_history") or []:
            lines.append(
                f"{labels.label(labels.CONDITIONS, item.get('condition'))}: "
                f"{labels.label(labels.CONDITION_STATUS, item.get('status')).lower()}"
                + (f", since {item['since']}" if item.get("since") else "")
                + (f", Child-Pugh {item['child_pugh']}" if item.get("child_pugh") else "")
                + (f" ({item['note']})" if item.get("note") else "")
            )
    elif section == "substances":
        for s in f.get("substance_use") or []:
            lines.append(
                f"{s.get('substance')}: {labels.label(labels.SUBSTANCE_STATUS, s.get('status')).lower()}"
                + (f", last use {s['last_use_on']}" if s.get("last_use_on") else "")
            )
    elif section == "reproductive":
        r = f.get("reproductive") or {}
        lines = [
            "Reproductive potential: " + _yes_no(r.get("reproductive_potential"), "yes", "no"),
            f"Pregnancy: {labels.label(labels.PREGNANCY, r.get('pregnancy')).lower()}",
            "Breastfeeding: " + _yes_no(r.get("breastfeeding"), "yes", "no"),
        ]
    elif section == "medications":
        for m in f.get("medications") or []:
            classes = ", ".join(
                labels.label(labels.INTERACTION_CLASSES, c)
                for c in m.get("interaction_classes", [])
            )
            lines.append(
                f"{m.get('name')}"
                + (
                    f" {_num(m['daily_dose_mg'])} mg/day"
                    if m.get("daily_dose_mg") is not None
                    else ""
                )
                + (f" ({classes})" if classes else "")
                + (
                    f", diazepam-equivalent {_num(m['diazepam_equivalent_mg_per_day'])} mg/day"
                    if m.get("diazepam_equivalent_mg_per_day") is not None
                    else ""
                )
            )
    elif section == "vitals":
        v = f.get("baseline_vitals")
        if v:
            lines.append(
                f"{v.get('systolic_mmhg')}/{v.get('diastolic_mmhg')} mmHg on {v.get('measured_on')}"
                + (f", heart rate {v['heart_rate_bpm']}" if v.get("heart_rate_bpm") else "")
                + (f", {_num(v['weight_kg'])} kg" if v.get("weight_kg") else "")
                + (f", {_num(v['height_cm'])} cm" if v.get("height_cm") else "")
            )
        else:
            lines.append("Not measured yet")
    elif section == "questionnaires":
        if f.get("cssrs_risk"):
            lines.append(
                f"C-SSRS risk recorded by hand: {labels.label(labels.CSSRS, f['cssrs_risk'])}"
            )
        lines += [
            f"{labels.label(labels.FLAGS, flag)} (recorded by hand)"
            for flag in f.get("questionnaire_flags") or []
        ]
    elif section == "presentation":
        p = intake.presentation
        if p.get("anxiety_mainly"):
            lines.append("Anxiety: " + labels.label(labels.ANXIETY, p["anxiety_mainly"]).lower())
        lines += [text for key, text in labels.PRESENTATION_FEATURES.items() if p.get(key)]
    return lines or ["None recorded"]


def findings_view(findings: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    shown = []
    for f in findings:
        source = f.get("source") or {}
        policy = (
            source.get("verification") == "unverified" or source.get("evidence") == "clinic_policy"
        )
        shown.append(
            {
                **f,
                "source_key": source.get("key", ""),
                "verification": source.get("verification", ""),
                "status": "Clinic policy"
                if policy
                else labels.VERIFICATION.get(source.get("verification", ""), ""),
                "source_note": source.get("note", ""),
            }
        )
    return shown


_FACT_NAMES = {
    "cssrs_risk": "C-SSRS risk",
    "mdq_positive": "MDQ",
    "audit_positive": "AUDIT",
    "dast_positive": "DAST-10",
    "phq9_item9": "PHQ-9 item 9",
}


def questionnaire_view(
    results: Sequence[QuestionnaireFact] | Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Questionnaire facts (live results, or the sources a review stored) for display."""
    shown = []
    for item in results:
        data = item.as_json() if isinstance(item, QuestionnaireFact) else dict(item)
        value = data.get("value", "")
        if data.get("fact") == "cssrs_risk":
            value = labels.label(labels.CSSRS, value)
        shown.append(
            {
                "fact": _FACT_NAMES.get(data.get("fact", ""), data.get("fact", "")),
                "value": value,
                "manual": bool(data.get("manual")),
                "instrument": short_name(data.get("instrument", "")),
                "submitted_at": dt.datetime.fromisoformat(data["submitted_at"])
                if data.get("submitted_at")
                else None,
                "note": data.get("note", ""),
                "screened": data.get("fact") != "phq9_item9",
            }
        )
    return shown


_VERDICTS = {
    "counted": "Counted",
    "responded": "Responded: not a failed trial",
    "ongoing": "Ongoing",
    "intolerance": "Stopped for side effects: not counted",
    "too_short": "Too short to count",
    "dose_inadequate": "Dose not adequate: not counted",
    "dose_not_judged": "Dose not yet judged: not counted",
    "same_drug_as_counted": "Same drug as a counted trial",
}


def trd_view(derived: Mapping[str, Any]) -> dict[str, Any]:
    """The screen's treatment-resistance verdict with each trial in words."""
    return {
        **derived,
        "trials": [
            {
                **t,
                "weeks": _num(t.get("weeks")),
                "outcome": labels.label(labels.TRIAL_OUTCOMES, t.get("outcome")),
                "verdict": _VERDICTS.get(t.get("verdict", ""), t.get("verdict", "")),
            }
            for t in derived.get("trials", [])
        ],
    }
