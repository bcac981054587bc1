"""Charge lines proposed from a signed encounter (§13.2): codes, units, modifiers, pointers.

Only a signed chair-side record or a signed integration note is billed. The core proposes; a biller
reviews and finalises. Every line names the rule that produced it and that rule's source. The
numbers (time thresholds, the G2082 dose ceiling) come from :class:`BillingPolicy`; the codes from
the :class:`CodeTable` in force on the service date (S0013 before 2026-01-01, J0013 from then).

Rules, in order:

- IV infusion: minutes = stop - start. 15 minutes or fewer: 96374 (a push). 16 to 90 minutes:
  96365 x 1. Longer: 96365 x 1 and 96366 x one unit per further full hour, plus one for a last
  part-hour of more than 30 minutes (91 -> 1, 150 -> 1, 151 -> 2). The drug: J3490 x 1.
- IM or SC injection: 96372 x 1, the drug J3490 x 1.
- Esketamine (dose = devices x the core's device size): on the G-code pathway (Medicare) G2082 up
  to 56 mg or G2083 above, x 1, which includes the drug, the E/M and the observation; buy and bill:
  the drug code (S0013/J0013) x one unit per mg, and the E/M if one was done; pharmacy benefit: the
  pharmacy bills the drug, the clinic the E/M if one was done.
- E/M 99212-99215 when one was done (and not included in a G code); modifier 25 when an injection
  or infusion was also billed that day.
- Psychotherapy minutes: under 16 none; 16-37 90832, 38-52 90834, 53 and more 90837; the add-on
  90833/90836/90838 instead when an E/M is billed on the same encounter.
- Interactive complexity 90785 only with a psychotherapy line.
- Category III psychedelic monitoring (0820T-0822T) only when the clinic's policy turns it on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from kapstone.clinical.billing.codes import (
    DEFAULT_CODE_TABLE,
    CodeKind,
    CodeTable,
    esketamine_drug_code,
)
from kapstone.clinical.billing.policy import DEFAULT_BILLING_POLICY, BillingPolicy, BillingValue
from kapstone.clinical.dosing import ESKETAMINE_DEVICE_MG, ESKETAMINE_SOURCE
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification
from kapstone.clinical.routes import Route

POINTER_LETTERS = "ABCDEFGHIJKL"
MAX_DIAGNOSES = 12
MAX_POINTERS_PER_LINE = 4
EM_LEVELS = (2, 3, 4, 5)
PROCEDURE_CODES = frozenset({"96365", "96366", "96374", "96372"})


class EncounterKind(StrEnum):
    IV_INFUSION = "iv_infusion"
    IM_INJECTION = "im_injection"
    SC_INJECTION = "sc_injection"
    ESKETAMINE_INTRANASAL = "esketamine_intranasal"
    ORAL_KETAMINE = "oral_ketamine"
    INTEGRATION_PSYCHOTHERAPY = "integration_psychotherapy"


# Which routes each dosing kind is given by (an integration session has none).
KIND_ROUTES: dict[EncounterKind, frozenset[Route]] = {
    EncounterKind.IV_INFUSION: frozenset({Route.IV}),
    EncounterKind.IM_INJECTION: frozenset({Route.IM}),
    EncounterKind.SC_INJECTION: frozenset({Route.SC}),
    EncounterKind.ESKETAMINE_INTRANASAL: frozenset({Route.INTRANASAL_ESKETAMINE}),
    EncounterKind.ORAL_KETAMINE: frozenset({Route.ORAL, Route.SUBLINGUAL_LOZENGE}),
    EncounterKind.INTEGRATION_PSYCHOTHERAPY: frozenset(),
}


def kind_for_route(route: Route) -> EncounterKind:
    """The encounter kind of a dosing session given by ``route``."""
    return next(kind for kind, routes in KIND_ROUTES.items() if route in routes)


class EsketaminePathway(StrEnum):
    """How the esketamine session is billed: the payer's rules decide (clinic policy per payer)."""

    G_CODE = "g_code"  # Medicare: G2082/G2083 include drug, E/M and observation
    BUY_AND_BILL = "buy_and_bill"  # the clinic buys the drug and bills it per mg, plus the E/M
    PHARMACY_BENEFIT = "pharmacy_benefit"  # a pharmacy bills the drug; the clinic only the E/M


class PlaceOfService(StrEnum):
    """CMS place-of-service codes a KAP clinic uses."""

    OFFICE = "11"
    TELEHEALTH_HOME = "10"
    TELEHEALTH_OTHER = "02"


@dataclass(frozen=True, slots=True)
class SignedEncounter:
    """What a signed chair-side record or integration note says that billing needs.

    Infusion start and stop are minutes from any common origin (the session's start, midnight);
    only their difference is used. Esketamine gives ``devices`` or ``dose_mg`` (or both, agreeing).
    ``em_level`` (2-5) is the level of a same-day E/M the clinician documented, else ``None``.
    """

    encounter_id: str
    kind: EncounterKind
    service_date: date
    rendering_clinician_id: str
    place_of_service: PlaceOfService
    diagnoses: tuple[str, ...]
    route: Route | None = None
    infusion_start_minute: int | None = None
    infusion_stop_minute: int | None = None
    dose_mg: Decimal | None = None
    esketamine_devices: int | None = None
    esketamine_pathway: EsketaminePathway = EsketaminePathway.G_CODE
    psychotherapy_minutes: int | None = None
    em_level: int | None = None
    interactive_complexity: bool = False
    monitoring_minutes_first: int | None = None
    monitoring_minutes_second: int | None = None
    monitoring_minutes_staff: int | None = None

    @property
    def infusion_minutes(self) -> int | None:
        if self.infusion_start_minute is None or self.infusion_stop_minute is None:
            return None
        return self.infusion_stop_minute - self.infusion_start_minute

    @property
    def esketamine_mg(self) -> Decimal | None:
        if self.dose_mg is not None:
            return self.dose_mg
        if self.esketamine_devices is not None:
            return ESKETAMINE_DEVICE_MG * self.esketamine_devices
        return None


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One proposed line: the code, units, modifiers, diagnosis pointers (A-D) and why."""

    service_date: date
    code: str
    units: int
    diagnosis_pointers: tuple[str, ...]
    place_of_service: PlaceOfService
    rendering_clinician_id: str
    rule: str
    source: Source
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChargeProposal:
    """The lines proposed for one encounter and what the biller should look at."""

    encounter_id: str
    lines: tuple[ChargeLine, ...]
    notes: tuple[str, ...]
    code_table_version: str
    policy_version: str

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.lines)


# --- pure rules (each tested at its edges) ---------------------------------------------------------


def infusion_units(minutes: int, policy: BillingPolicy = DEFAULT_BILLING_POLICY) -> dict[str, int]:
    """Codes and units for an IV infusion of ``minutes`` (a push at 15 or fewer)."""
    if minutes <= 0:
        return {}
    if minutes <= policy.push_max_minutes.value:
        return {"96374": 1}
    hour = policy.first_hour_minutes.value
    beyond = minutes - hour
    if beyond <= 0:
        return {"96365": 1}
    whole, part = divmod(beyond, hour)
    extra = whole + (1 if part > policy.additional_hour_more_than_minutes.value else 0)
    return {"96365": 1, "96366": extra} if extra else {"96365": 1}


def psychotherapy_code(
    minutes: int, *, with_em: bool, policy: BillingPolicy = DEFAULT_BILLING_POLICY
) -> str | None:
    """The psychotherapy code for ``minutes`` face to face; ``None`` under the first band."""
    chosen = None
    for band in sorted(policy.psychotherapy_bands, key=lambda b: b.from_minutes):
        if minutes >= band.from_minutes:
            chosen = band
    if chosen is None:
        return None
    return chosen.with_em if with_em else chosen.standalone


def esketamine_visit_code(dose_mg: Decimal, policy: BillingPolicy = DEFAULT_BILLING_POLICY) -> str:
    """G2082 up to the policy's ceiling (56 mg), G2083 above it."""
    return "G2082" if dose_mg <= policy.g2082_max else "G2083"


def hour_units(minutes: int, more_than: BillingValue) -> int:
    """Whole hours, plus one for a last part-hour of more than ``more_than`` minutes."""
    if minutes <= 0:
        return 0
    whole, part = divmod(minutes, 60)
    return whole + (1 if part > more_than.value else 0)


# --- checking the encounter ------------------------------------------------------------------------


def encounter_problems(
    encounter: SignedEncounter, *, table: CodeTable = DEFAULT_CODE_TABLE
) -> list[Problem]:
    """Every reason the encounter cannot be billed as recorded."""
    problems: list[Problem] = []
    if not encounter.encounter_id.strip():
        problems.append(Problem("encounter_id", "is required"))
    if not encounter.rendering_clinician_id.strip():
        problems.append(Problem("rendering_clinician_id", "the rendering clinician is required"))
    problems.extend(_diagnosis_problems(encounter, table))
    problems.extend(_route_problems(encounter))
    problems.extend(_minutes_problems(encounter))
    problems.extend(_esketamine_problems(encounter))
    if encounter.em_level is not None and encounter.em_level not in EM_LEVELS:
        problems.append(Problem("em_level", "is not an office visit level", accepts="2, 3, 4 or 5"))
    return problems


def _diagnosis_problems(encounter: SignedEncounter, table: CodeTable) -> list[Problem]:
    problems: list[Problem] = []
    if not encounter.diagnoses:
        problems.append(Problem("diagnoses", "at least one diagnosis is required"))
    if len(encounter.diagnoses) > MAX_DIAGNOSES:
        problems.append(Problem("diagnoses", f"at most {MAX_DIAGNOSES} diagnoses fit a claim"))
    if len(set(encounter.diagnoses)) != len(encounter.diagnoses):
        problems.append(Problem("diagnoses", "a diagnosis is listed twice"))
    by_code = table.by_code()
    for i, code in enumerate(encounter.diagnoses):
        name = f"diagnoses.{i}"
        found = table.problems(code, encounter.service_date, field_name=name)
        if found:
            problems.extend(found)
        elif by_code[code.strip().upper()][0].kind is not CodeKind.ICD10CM:
            problems.append(Problem(name, f"{code} is not an ICD-10-CM diagnosis"))
    return problems


def _route_problems(encounter: SignedEncounter) -> list[Problem]:
    routes = KIND_ROUTES[encounter.kind]
    if not routes:
        if encounter.route is not None:
            return [Problem("route", "an integration session has no route")]
        return []
    if encounter.route not in routes:
        accepted = ", ".join(sorted(route.value for route in routes))
        return [Problem("route", f"does not match {encounter.kind.value}", accepts=accepted)]
    return []


def _minutes_problems(encounter: SignedEncounter) -> list[Problem]:
    problems: list[Problem] = []
    minutes = encounter.infusion_minutes
    if encounter.kind is EncounterKind.IV_INFUSION:
        if minutes is None:
            problems.append(Problem("infusion_minutes", "an infusion needs its start and stop"))
        elif minutes <= 0:
            problems.append(Problem("infusion_minutes", "the infusion must stop after it started"))
    for name in (
        "psychotherapy_minutes",
        "monitoring_minutes_first",
        "monitoring_minutes_second",
        "monitoring_minutes_staff",
    ):
        value = getattr(encounter, name)
        if value is not None and value < 0:
            problems.append(Problem(name, "cannot be negative"))
    return problems


def _esketamine_problems(encounter: SignedEncounter) -> list[Problem]:
    if encounter.kind is not EncounterKind.ESKETAMINE_INTRANASAL:
        return []
    problems: list[Problem] = []
    devices, dose = encounter.esketamine_devices, encounter.dose_mg
    if devices is None and dose is None:
        return [Problem("dose_mg", "an esketamine session needs its dose or its devices")]
    if devices is not None and devices < 1:
        problems.append(Problem("esketamine_devices", "at least one device"))
    if dose is not None and (dose <= 0 or dose % ESKETAMINE_DEVICE_MG != 0):
        problems.append(
            Problem("dose_mg", "must be a whole number of devices", accepts=ESKETAMINE_SOURCE.note)
        )
    if devices is not None and dose is not None and ESKETAMINE_DEVICE_MG * devices != dose:
        problems.append(Problem("dose_mg", "does not match the devices given"))
    return problems


# --- proposing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Lines:
    encounter: SignedEncounter
    table: CodeTable
    pointers: tuple[str, ...]
    lines: list[ChargeLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, code: str, units: int, rule: str, modifiers: tuple[str, ...] = ()) -> None:
        entry = self.table.on(code, self.encounter.service_date)
        self.lines.append(
            ChargeLine(
                service_date=self.encounter.service_date,
                code=entry.code,
                units=units,
                diagnosis_pointers=self.pointers,
                place_of_service=self.encounter.place_of_service,
                rendering_clinician_id=self.encounter.rendering_clinician_id,
                rule=rule,
                source=entry.source,
                modifiers=modifiers,
            )
        )


def propose_charges(
    encounter: SignedEncounter,
    *,
    policy: BillingPolicy = DEFAULT_BILLING_POLICY,
    table: CodeTable = DEFAULT_CODE_TABLE,
) -> ChargeProposal:
    """The charge lines a signed encounter supports; refuses (``Refused``) a faulty record."""
    Refused.refuse_if_any(encounter_problems(encounter, table=table))
    count = min(len(encounter.diagnoses), MAX_POINTERS_PER_LINE)
    out = _Lines(encounter, table, tuple(POINTER_LETTERS[:count]))
    em_included = _administration(out, policy)
    em_billed = _evaluation(out, policy, em_included=em_included)
    _psychotherapy(out, policy, em_billed=em_billed)
    _monitoring(out, policy)
    if not out.lines:
        out.notes.append("nothing billable was recorded on this encounter")
    return ChargeProposal(
        encounter_id=encounter.encounter_id,
        lines=tuple(out.lines),
        notes=tuple(out.notes),
        code_table_version=table.version,
        policy_version=policy.version,
    )


def _administration(out: _Lines, policy: BillingPolicy) -> bool:
    """Administration and drug lines; True when a G code already includes the day's E/M."""
    encounter = out.encounter
    if encounter.kind is EncounterKind.IV_INFUSION:
        minutes = encounter.infusion_minutes or 0
        for code, units in infusion_units(minutes, policy).items():
            out.add(code, units, f"{minutes} infusion minutes: {code} x {units}")
        out.add("J3490", 1, "racemic ketamine has no code of its own")
    elif encounter.kind in (EncounterKind.IM_INJECTION, EncounterKind.SC_INJECTION):
        out.add("96372", 1, "one injection")
        out.add("J3490", 1, "racemic ketamine has no code of its own")
    elif encounter.kind is EncounterKind.ESKETAMINE_INTRANASAL:
        return _esketamine(out, policy)
    return False


def _esketamine(out: _Lines, policy: BillingPolicy) -> bool:
    encounter = out.encounter
    dose = encounter.esketamine_mg or Decimal(0)
    pathway = encounter.esketamine_pathway
    if pathway is EsketaminePathway.G_CODE:
        code = esketamine_visit_code(dose, policy)
        out.add(code, 1, f"{dose} mg esketamine: {code} (G2082 up to {policy.g2082_max} mg)")
        if encounter.em_level is not None:
            out.notes.append(f"{code} includes the E/M: no separate E/M line was proposed")
        return True
    if pathway is EsketaminePathway.BUY_AND_BILL:
        code = esketamine_drug_code(encounter.service_date)
        out.add(code, int(dose), f"{dose} mg esketamine at one unit per mg: {code}")
    else:
        out.notes.append("pharmacy benefit: the pharmacy bills the drug; no drug line")
    return False


def _evaluation(out: _Lines, policy: BillingPolicy, *, em_included: bool) -> bool:
    level = out.encounter.em_level
    if level is None or em_included:
        return False
    procedure = any(line.code in PROCEDURE_CODES for line in out.lines)
    modifiers = (policy.em_with_procedure_modifier,) if procedure else ()
    why = "same-day E/M" + (" with a procedure: modifier 25" if procedure else "")
    out.add(f"9921{level}", 1, why, modifiers)
    return True


def _psychotherapy(out: _Lines, policy: BillingPolicy, *, em_billed: bool) -> None:
    encounter = out.encounter
    minutes = encounter.psychotherapy_minutes
    code = (
        None if minutes is None else psychotherapy_code(minutes, with_em=em_billed, policy=policy)
    )
    if minutes is not None and code is None:
        out.notes.append(f"{minutes} psychotherapy minutes is under the shortest code's band")
    if code is not None:
        kind = "add-on with the E/M" if em_billed else "standalone"
        out.add(code, 1, f"{minutes} psychotherapy minutes: {code} ({kind})")
        if encounter.interactive_complexity:
            out.add("90785", 1, "interactive complexity with psychotherapy")
    elif encounter.interactive_complexity:
        out.notes.append("interactive complexity is only billed with psychotherapy")


def _monitoring(out: _Lines, policy: BillingPolicy) -> None:
    encounter = out.encounter
    recorded = (
        ("0820T", encounter.monitoring_minutes_first),
        ("0821T", encounter.monitoring_minutes_second),
        ("0822T", encounter.monitoring_minutes_staff),
    )
    if not any(minutes for _, minutes in recorded):
        return
    if not policy.propose_psychedelic_monitoring:
        out.notes.append("monitoring time recorded; the clinic does not bill 0820T-0822T")
        return
    for code, minutes in recorded:
        units = hour_units(minutes or 0, policy.monitoring_hour_more_than_minutes)
        if units:
            out.add(code, units, f"{minutes} monitoring minutes: {code} x {units}")


def propose_all(
    encounters: Sequence[SignedEncounter],
    *,
    policy: BillingPolicy = DEFAULT_BILLING_POLICY,
    table: CodeTable = DEFAULT_CODE_TABLE,
) -> tuple[ChargeProposal, ...]:
    """One proposal per encounter (a retreat day's sessions, in order)."""
    return tuple(propose_charges(e, policy=policy, table=table) for e in encounters)


CHARGE_RULES_SOURCE = Source(
    "§13.2", Verification.SECONDARY, Evidence.CLINIC_POLICY, "how Kapstone turns records into lines"
)
