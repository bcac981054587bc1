"""The billing code tables: CPT, HCPCS, Category III and ICD-10-CM codes a KAP clinic uses (§13).

Each code is dated (``effective_from`` / ``effective_to``, both inclusive), carries a short
description in the project's own words (CPT descriptors are licensed text and are never copied), a
note where payers may not accept it, and a :class:`~kapstone.clinical.provenance.Source`.

The table is versioned data (:class:`CodeTable`): the clinic's biller may replace it when the
yearly code updates arrive, and every charge records the table version it was proposed from. Dates
that were not confirmed in a source are UNVERIFIED and therefore clinic policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from kapstone.clinical.eligibility.facts import PresentingCondition
from kapstone.clinical.problems import Problem, Refused
from kapstone.clinical.provenance import Evidence, Source, Verification


class CodeKind(StrEnum):
    CPT = "cpt"
    HCPCS = "hcpcs"
    CPT_III = "cpt_iii"
    ICD10CM = "icd10cm"


@dataclass(frozen=True, slots=True)
class BillingCode:
    """One code with its dates (inclusive; ``effective_to`` ``None`` = still in force)."""

    code: str
    kind: CodeKind
    description: str
    effective_from: date
    source: Source
    effective_to: date | None = None
    payer_note: str = ""
    add_on: bool = False

    def effective_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def _s(key: str, note: str = "") -> Source:
    """A fact read in a secondary source (coding guides, payer policies quoting the code set)."""
    return Source(key, Verification.SECONDARY, Evidence.GUIDELINE, note)


def _u(key: str, note: str) -> Source:
    """A fact from memory: clinic policy until the biller checks it against the code set."""
    return Source(key, Verification.UNVERIFIED, Evidence.CLINIC_POLICY, note)


_CPT, _HCPCS, _III, _ICD = CodeKind.CPT, CodeKind.HCPCS, CodeKind.CPT_III, CodeKind.ICD10CM
_INF = date(2009, 1, 1)  # the injection and infusion codes' current numbering (from memory)
_PSY = date(2013, 1, 1)  # the psychotherapy codes' current numbering (from memory)
_EM = date(1992, 1, 1)  # the office E/M codes (from memory; long before any Kapstone service)
_ICD10 = date(2015, 10, 1)  # ICD-10-CM in force in the US
_DATES_FROM_MEMORY = "start date from memory, to be checked; the code itself: §13.1"
_CAT_III_NOTE = (
    "Category III (tracking) code: no national payment; many payers do not pay it, and whether "
    "ketamine sessions are 'psychedelic medication therapy' is for the payer to say"
)

ESKETAMINE_DRUG_CODE_SWITCH = date(2026, 1, 1)

_CODES: tuple[BillingCode, ...] = (
    # --- infusion and injection (CPT) ---
    BillingCode(
        "96365",
        _CPT,
        "IV infusion of a drug for treatment, first hour (more than 15 minutes)",
        _INF,
        _u("AMA-CPT-INFUSION", _DATES_FROM_MEMORY),
    ),
    BillingCode(
        "96366",
        _CPT,
        "IV infusion of the same drug, each further hour (more than 30 minutes past the hour)",
        _INF,
        _u("AMA-CPT-INFUSION", _DATES_FROM_MEMORY),
        add_on=True,
    ),
    BillingCode(
        "96374",
        _CPT,
        "IV push of a drug, or an infusion of 15 minutes or less",
        _INF,
        _u("AMA-CPT-INFUSION", _DATES_FROM_MEMORY),
    ),
    BillingCode(
        "96372",
        _CPT,
        "Injection of a drug into muscle or under the skin",
        _INF,
        _u("AMA-CPT-INFUSION", _DATES_FROM_MEMORY),
    ),
    # --- drugs (HCPCS level II) ---
    BillingCode(
        "J3490",
        _HCPCS,
        "A drug without a code of its own (racemic ketamine); name, dose and NDC on the claim",
        date(2000, 1, 1),
        _u("CMS-HCPCS-2026", "start date from memory; J3490 long predates Kapstone"),
        payer_note="unclassified drug: payers ask for the NDC, the drug name and the dose",
    ),
    BillingCode(
        "S0013",
        _HCPCS,
        "Esketamine nasal spray, per 1 mg (commercial payers; not Medicare)",
        date(2019, 7, 1),
        _u("CMS-HCPCS-2026", "end date SECONDARY (replaced by J0013); start date from memory"),
        effective_to=date(2025, 12, 31),
        payer_note="an S code: commercial payers only; discontinued at the end of 2025",
    ),
    BillingCode(
        "J0013",
        _HCPCS,
        "Esketamine nasal spray, per 1 mg",
        ESKETAMINE_DRUG_CODE_SWITCH,
        _s("CMS-HCPCS-2026", "replaced S0013 on 2026-01-01; billed per 1 mg"),
        payer_note="payer systems were slow to load it in 2026; some kept asking for S0013",
    ),
    # --- esketamine visit (HCPCS G codes, Medicare) ---
    BillingCode(
        "G2082",
        _HCPCS,
        "Established-patient esketamine visit, up to 56 mg, with 2 hours of observation",
        date(2020, 1, 1),
        _s("CMS-PFS-ESKETAMINE", "drug, supervision and observation in one code"),
        payer_note="Medicare's code; includes the drug: no separate drug line or E/M that day",
    ),
    BillingCode(
        "G2083",
        _HCPCS,
        "Established-patient esketamine visit, more than 56 mg, with 2 hours of observation",
        date(2020, 1, 1),
        _s("CMS-PFS-ESKETAMINE", "drug, supervision and observation in one code"),
        payer_note="Medicare's code; includes the drug: no separate drug line or E/M that day",
    ),
    # --- psychotherapy (CPT) ---
    BillingCode(
        "90832",
        _CPT,
        "Individual psychotherapy, about half an hour (16 to 37 minutes)",
        _PSY,
        _s("AMA-CPT-TIME"),
    ),
    BillingCode(
        "90834",
        _CPT,
        "Individual psychotherapy, about three quarters of an hour (38 to 52 minutes)",
        _PSY,
        _s("AMA-CPT-TIME"),
    ),
    BillingCode(
        "90837",
        _CPT,
        "Individual psychotherapy, about an hour (53 minutes or more)",
        _PSY,
        _s("AMA-CPT-TIME"),
    ),
    BillingCode(
        "90833",
        _CPT,
        "Psychotherapy alongside a same-day E/M visit, about half an hour (16 to 37 minutes)",
        _PSY,
        _s("AMA-CPT-TIME"),
        add_on=True,
    ),
    BillingCode(
        "90836",
        _CPT,
        "Psychotherapy alongside a same-day E/M visit, about 45 minutes (38 to 52 minutes)",
        _PSY,
        _s("AMA-CPT-TIME"),
        add_on=True,
    ),
    BillingCode(
        "90838",
        _CPT,
        "Psychotherapy alongside a same-day E/M visit, about an hour (53 minutes or more)",
        _PSY,
        _s("AMA-CPT-TIME"),
        add_on=True,
    ),
    BillingCode(
        "90785",
        _CPT,
        "Interactive complexity added to a psychiatric service",
        _PSY,
        _u("AMA-CPT-TIME", _DATES_FROM_MEMORY),
        add_on=True,
    ),
    # --- office visits for established patients (CPT E/M) ---
    *(
        BillingCode(
            f"9921{level}",
            _CPT,
            f"Office visit, established patient, level {level} of 5",
            _EM,
            _u("AMA-CPT-EM", _DATES_FROM_MEMORY),
        )
        for level in (2, 3, 4, 5)
    ),
    # --- psychedelic monitoring (CPT Category III) ---
    BillingCode(
        "0820T",
        _III,
        "In-person monitoring during psychedelic medication therapy, first clinician, per hour",
        date(2024, 1, 1),
        _s("AMA-CPT-III-PSYCHEDELIC"),
        payer_note=_CAT_III_NOTE,
    ),
    BillingCode(
        "0821T",
        _III,
        "The same monitoring by a second clinician at the same time, per hour",
        date(2024, 1, 1),
        _s("AMA-CPT-III-PSYCHEDELIC"),
        payer_note=_CAT_III_NOTE,
        add_on=True,
    ),
    BillingCode(
        "0822T",
        _III,
        "The same monitoring by clinical staff under a clinician's direction, per hour",
        date(2024, 1, 1),
        _s("AMA-CPT-III-PSYCHEDELIC"),
        payer_note=_CAT_III_NOTE,
        add_on=True,
    ),
)

_ICD_ENTRIES: tuple[tuple[str, str], ...] = (
    ("F32.0", "Major depression, single episode, mild"),
    ("F32.1", "Major depression, single episode, moderate"),
    ("F32.2", "Major depression, single episode, severe, no psychotic features"),
    ("F32.3", "Major depression, single episode, severe, with psychotic features"),
    ("F32.4", "Major depression, single episode, in partial remission"),
    ("F32.5", "Major depression, single episode, in full remission"),
    ("F32.9", "Major depression, single episode, not specified"),
    ("F33.0", "Major depression, recurrent, mild"),
    ("F33.1", "Major depression, recurrent, moderate"),
    ("F33.2", "Major depression, recurrent, severe, no psychotic features"),
    ("F33.3", "Major depression, recurrent, severe, with psychotic features"),
    ("F33.40", "Major depression, recurrent, in remission, not specified"),
    ("F33.41", "Major depression, recurrent, in partial remission"),
    ("F33.42", "Major depression, recurrent, in full remission"),
    ("F33.8", "Other recurrent depressive disorders"),
    ("F33.9", "Major depression, recurrent, not specified"),
    ("F41.1", "Generalised anxiety disorder"),
    ("F41.0", "Panic disorder without agoraphobia"),
    ("F40.01", "Agoraphobia with panic disorder"),
    ("F40.10", "Social anxiety disorder, not specified"),
    ("F43.10", "Post-traumatic stress disorder, not specified"),
    ("F43.11", "Post-traumatic stress disorder, acute"),
    ("F43.12", "Post-traumatic stress disorder, chronic"),
)

_DIAGNOSES: tuple[BillingCode, ...] = (
    *(BillingCode(code, _ICD, text, _ICD10, _s("CMS-ICD10CM")) for code, text in _ICD_ENTRIES),
    BillingCode(
        "F32.A",
        _ICD,
        "Depression, not specified",
        date(2021, 10, 1),
        _u("CMS-ICD10CM", "added with the 2022 ICD-10-CM (from memory)"),
        payer_note="unspecified depression: esketamine payers usually ask for F32.x/F33.x",
    ),
)

# What the intake's presenting condition suggests; the clinician chooses the code (no TRD code
# exists: treatment resistance is documented, not coded).
INTAKE_DIAGNOSES: Mapping[PresentingCondition, tuple[str, ...]] = MappingProxyType(
    {
        PresentingCondition.MAJOR_DEPRESSION: tuple(
            code for code, _ in _ICD_ENTRIES if code.startswith(("F32", "F33"))
        ),
        PresentingCondition.GENERALISED_ANXIETY: ("F41.1",),
        PresentingCondition.PANIC_AGORAPHOBIA: ("F41.0", "F40.01"),
        PresentingCondition.SOCIAL_ANXIETY: ("F40.10",),
        PresentingCondition.PTSD: ("F43.10", "F43.11", "F43.12"),
    }
)


class CodeProblem(StrEnum):
    UNKNOWN = "unknown_code"
    NOT_YET_EFFECTIVE = "code_not_yet_effective"
    NO_LONGER_EFFECTIVE = "code_no_longer_effective"


@dataclass(frozen=True, slots=True)
class CodeTable:
    """The clinic's code table (versioned): every proposed charge records the version."""

    version: str = "codes-2026-12"
    codes: tuple[BillingCode, ...] = field(default_factory=lambda: _CODES + _DIAGNOSES)

    def by_code(self) -> Mapping[str, tuple[BillingCode, ...]]:
        found: dict[str, list[BillingCode]] = {}
        for entry in self.codes:
            found.setdefault(entry.code, []).append(entry)
        return {code: tuple(entries) for code, entries in found.items()}

    def problems(self, code: str, service_date: date, *, field_name: str = "code") -> list[Problem]:
        """Why ``code`` cannot be billed for a service on ``service_date`` (empty if it can)."""
        entries = self.by_code().get(code.strip().upper(), ())
        if not entries:
            return [
                Problem(field_name, f"{code!r} is not in the code table", code=CodeProblem.UNKNOWN)
            ]
        if any(entry.effective_on(service_date) for entry in entries):
            return []
        if all(service_date < entry.effective_from for entry in entries):
            first = min(entry.effective_from for entry in entries)
            return [
                Problem(
                    field_name,
                    f"{code} is not in force until {first.isoformat()}",
                    code=CodeProblem.NOT_YET_EFFECTIVE,
                )
            ]
        ends = [e.effective_to for e in entries if e.effective_to is not None]
        last = max(ends).isoformat() if ends else "?"
        return [
            Problem(
                field_name,
                f"{code} ended on {last}",
                accepts=_replacement_hint(code),
                code=CodeProblem.NO_LONGER_EFFECTIVE,
            )
        ]

    def on(self, code: str, service_date: date) -> BillingCode:
        Refused.refuse_if_any(self.problems(code, service_date))
        entries = self.by_code()[code.strip().upper()]
        return next(entry for entry in entries if entry.effective_on(service_date))

    def in_force(
        self, service_date: date, *, kinds: Iterable[CodeKind] = ()
    ) -> tuple[BillingCode, ...]:
        wanted = frozenset(kinds)
        return tuple(
            e
            for e in self.codes
            if e.effective_on(service_date) and (not wanted or e.kind in wanted)
        )


def _replacement_hint(code: str) -> str:
    return {"S0013": "J0013 from 2026-01-01"}.get(code.strip().upper(), "")


DEFAULT_CODE_TABLE = CodeTable()


def code_on(code: str, service_date: date, *, table: CodeTable = DEFAULT_CODE_TABLE) -> BillingCode:
    """The code as in force on ``service_date``; refuses (``Refused``) one that is not."""
    return table.on(code, service_date)


def esketamine_drug_code(service_date: date) -> str:
    """S0013 for a service before 2026-01-01, J0013 from then on (CMS-HCPCS-2026)."""
    return "J0013" if service_date >= ESKETAMINE_DRUG_CODE_SWITCH else "S0013"
