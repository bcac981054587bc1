"""Routes of administration the clinic doses by, and what the reference says about each (§3).

Racemic ketamine is dosed by weight (mg/kg) for injections and may be a fixed dose by mouth;
esketamine is a licensed nasal spray dosed only by device (28 mg each).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kapstone.clinical.provenance import Evidence, Source, Verification


class Route(StrEnum):
    IV = "iv"
    IM = "im"
    SC = "sc"
    SUBLINGUAL_LOZENGE = "sublingual_lozenge"
    ORAL = "oral"
    INTRANASAL_ESKETAMINE = "intranasal_esketamine"

    @property
    def label(self) -> str:
        return ROUTE_FACTS[self].label

    @property
    def short_label(self) -> str:
        """The word on the calendar and in the scheduler's reasons ("no IV-capable chair")."""
        return ROUTE_FACTS[self].short_label

    @property
    def facts(self) -> RouteFacts:
        return ROUTE_FACTS[self]


@dataclass(frozen=True, slots=True)
class RouteFact:
    """One statement about a route, with where it comes from."""

    text: str
    source: Source


@dataclass(frozen=True, slots=True)
class RouteFacts:
    route: Route
    label: str
    short_label: str
    drug: str
    # Weight-based routes take mg/kg; fixed-dose routes take mg (oral and lozenge accept either).
    weight_based: bool
    fixed_dose: bool
    # Injected or infused liquids need a stock concentration to give a volume.
    needs_concentration: bool
    needs_duration: bool
    facts: tuple[RouteFact, ...]


def _src(key: str, verification: Verification, evidence: Evidence, note: str = "") -> Source:
    return Source(key=key, verification=verification, evidence=evidence, note=note)


_V, _S, _U = Verification.VERIFIED, Verification.SECONDARY, Verification.UNVERIFIED
_PRACTICE, _LABEL = Evidence.PUBLISHED_PRACTICE, Evidence.LABEL

ROUTE_FACTS: dict[Route, RouteFacts] = {
    Route.IV: RouteFacts(
        route=Route.IV,
        label="Intravenous infusion (racemic ketamine)",
        short_label="IV",
        drug="racemic ketamine",
        weight_based=True,
        fixed_dose=False,
        needs_concentration=True,
        needs_duration=True,
        facts=(
            RouteFact(
                "Standard dose 0.5 mg/kg over 40 minutes; some respond to 0.1 mg/kg, others need "
                "up to 0.75 mg/kg; infusion durations of 2-100 minutes have been studied.",
                _src("ANDRADE2017-DOSE", _V, _PRACTICE),
            ),
            RouteFact(
                "Acute series e.g. twice a week for 2-3 weeks or three times a week for 2 weeks.",
                _src("§3", _U, Evidence.CLINIC_POLICY, "seed articles; Murrough 2013 SECONDARY"),
            ),
            RouteFact(
                "Anaesthetic induction doses are 1-1.5 mg/kg: at 1 mg/kg and above the dose "
                "approaches the anaesthetic range.",
                _src("YIP2022", _V, _PRACTICE),
            ),
            RouteFact(
                "Blood pressure every 10 minutes during a 40-minute 0.5 mg/kg infusion, every 15 "
                "minutes thereafter.",
                _src("RIVAPOSSE2018", _V, _PRACTICE),
            ),
        ),
    ),
    Route.IM: RouteFacts(
        route=Route.IM,
        label="Intramuscular injection (racemic ketamine)",
        short_label="IM",
        drug="racemic ketamine",
        weight_based=True,
        fixed_dose=False,
        needs_concentration=True,
        needs_duration=False,
        facts=(
            RouteFact(
                "0.25 or 0.5 mg/kg bolus: antidepressant effect at 2 h similar to IV 0.5 mg/kg "
                "(n = 27).",
                _src("CHILUKURI2014", _V, _PRACTICE),
            ),
            RouteFact(
                "Higher IM doses (about 0.75-1.5 mg/kg) are used in psychedelic-dose KAP.",
                _src("§3", _U, Evidence.CLINIC_POLICY),
            ),
        ),
    ),
    Route.SC: RouteFacts(
        route=Route.SC,
        label="Subcutaneous injection (racemic ketamine)",
        short_label="SC",
        drug="racemic ketamine",
        weight_based=True,
        fixed_dose=False,
        needs_concentration=True,
        needs_duration=False,
        facts=(
            RouteFact(
                "For anxiety: ascending 0.25 → 0.5 → 1 mg/kg at weekly intervals; 10 of 12 "
                "responded at 0.5-1 mg/kg.",
                _src("GLUE2017", _V, _PRACTICE),
            ),
            RouteFact(
                "Maintenance for anxiety: 1 mg/kg once or twice weekly for 3 months.",
                _src("GLUE2018", _V, _PRACTICE),
            ),
        ),
    ),
    Route.SUBLINGUAL_LOZENGE: RouteFacts(
        route=Route.SUBLINGUAL_LOZENGE,
        label="Sublingual / buccal lozenge (racemic ketamine)",
        short_label="sublingual",
        drug="racemic ketamine",
        weight_based=True,
        fixed_dose=True,
        needs_concentration=False,
        needs_duration=False,
        facts=(
            RouteFact(
                "Rapid-dissolving tablets of 50 mg and 100 mg; general dosage range 100-400 mg "
                "(source text truncated).",
                _src("CTP-LOZENGE", _V, _PRACTICE, "partial text"),
            ),
        ),
    ),
    Route.ORAL: RouteFacts(
        route=Route.ORAL,
        label="Oral (racemic ketamine)",
        short_label="oral",
        drug="racemic ketamine",
        weight_based=True,
        fixed_dose=True,
        needs_concentration=False,
        needs_duration=False,
        facts=(
            RouteFact(
                "Weight-based 0.25-7.0 mg/kg or fixed 25-300 mg a session; oral bioavailability "
                "about 20-25%, so about 2.0-2.5 mg/kg by mouth is roughly IV-equivalent.",
                _src("ANDRADE2019-ORAL", _V, _PRACTICE),
            ),
        ),
    ),
    Route.INTRANASAL_ESKETAMINE: RouteFacts(
        route=Route.INTRANASAL_ESKETAMINE,
        label="Intranasal esketamine (Spravato)",
        short_label="esketamine nasal",
        drug="esketamine",
        weight_based=False,
        fixed_dose=True,
        needs_concentration=False,
        needs_duration=False,
        facts=(
            RouteFact(
                "28 mg per device (2 sprays); doses of 56 mg (2 devices) or 84 mg (3 devices).",
                _src("SPRAVATO-US", _V, _LABEL),
            ),
            RouteFact(
                "Induction weeks 1-4 twice weekly (day 1 56 mg, then 56 or 84 mg); weeks 5-8 "
                "weekly; from week 9 every 2 weeks or weekly.",
                _src("SPRAVATO-US", _V, _LABEL),
            ),
            RouteFact(
                "Adults 65 and over: day-1 dose 28 mg.",
                _src("SPRAVATO-EU", _V, _LABEL, "table title only"),
            ),
            RouteFact(
                "Monitor at least 2 hours after every dose, then assess clinical stability.",
                _src("SPRAVATO-US", _V, _LABEL, "boxed warning"),
            ),
        ),
    ),
}
