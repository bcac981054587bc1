"""The library as data: provenance, LOINC codes (and §9 pitfalls), recall periods, licences, bands
that tile the score range, and loading a clinic's licensed wording."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest

from kapstone.clinical.instruments import (
    INSTRUMENTS,
    InstrumentDefinition,
    ScoringPolicy,
    WordingErrors,
    apply_wording_document,
    policy_source,
    score,
    with_licensed_wording,
)
from kapstone.clinical.instruments.policy import POLICY_FIELDS_WITH_SOURCES
from kapstone.clinical.provenance import Evidence, Source, Verification
from tests.reference import REFERENCE

CLI_NAMES = {
    "phq9", "gad7", "phq15", "pcl5", "cssrs_screen", "mdq", "qids_sr16", "audit", "audit_c",
    "dast10", "pdss_sr", "cadss", "cadss6", "madrs",
}  # fmt: skip


def sources_of(definition: InstrumentDefinition) -> Iterator[Source]:
    yield definition.source
    yield definition.recall.source
    yield definition.scoring.source
    yield definition.licence.source
    if definition.loinc.source is not None:
        yield definition.loinc.source
    yield from (band.source for band in definition.bands)
    yield from (rule.source for rule in definition.flag_rules)
    for item in definition.items:
        yield item.source
        if item.asked_when is not None:
            yield item.asked_when.source


def test_registry_holds_exactly_the_cli_names() -> None:
    assert set(INSTRUMENTS) == CLI_NAMES
    assert all(name == definition.name for name, definition in INSTRUMENTS.items())


def test_every_source_key_appears_in_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    keys = {s.key for d in INSTRUMENTS.values() for s in sources_of(d)}
    keys |= {policy_source(name).key for name in POLICY_FIELDS_WITH_SOURCES}
    missing = set()
    for key in keys:
        if key.startswith("§"):  # a section: "§4.1" is the heading "### 4.1 ..."
            if not re.search(rf"^#+ {re.escape(key[1:])}[. ]", text, flags=re.MULTILINE):
                missing.add(key)
        elif f"| {key} |" not in text:  # a source key from the table in section 0
            missing.add(key)
    assert not missing
    assert "CSSRS-TRIAGE" in keys


def test_every_unverified_threshold_is_clinic_policy() -> None:
    for definition in INSTRUMENTS.values():
        for source in [band.source for band in definition.bands] + [
            rule.source for rule in definition.flag_rules
        ]:
            if source.verification is Verification.UNVERIFIED:
                assert source.evidence is Evidence.CLINIC_POLICY, definition.name
    for name in POLICY_FIELDS_WITH_SOURCES:
        assert policy_source(name).evidence is Evidence.CLINIC_POLICY
    assert policy_source("pcl5_probable_ptsd_cutoff").key == "§4.3"
    assert ScoringPolicy().pcl5_probable_ptsd_cutoff == 33


@pytest.mark.parametrize("name", sorted(CLI_NAMES))
def test_bands_tile_the_total_range_without_gaps(name: str) -> None:
    definition = INSTRUMENTS[name]
    if not definition.bands:
        return
    assert definition.scoring.total_range is not None
    low, high = definition.scoring.total_range
    assert definition.bands[0].low == low
    assert definition.bands[-1].high == high
    for before, after in zip(definition.bands, definition.bands[1:], strict=False):
        assert after.low == before.high + 1


@pytest.mark.parametrize("name", sorted(CLI_NAMES - {"cssrs_screen"}))
def test_declared_total_range_is_reached_by_lowest_and_highest_answers(name: str) -> None:
    definition = INSTRUMENTS[name]
    bottom = {i.id: i.lowest.value for i in definition.items}
    top = {i.id: max(i.options, key=lambda o: o.points).value for i in definition.items}
    assert (score(name, bottom).total, score(name, top).total) == definition.scoring.total_range


def test_cssrs_has_no_total() -> None:
    assert INSTRUMENTS["cssrs_screen"].scoring.total_range is None
    assert {i.id for i in INSTRUMENTS["cssrs_screen"].items} == {"1", "2", "3", "4", "5", "6", "6b"}


def test_mdq_item_keys() -> None:
    expected = {f"1{c}" for c in "abcdefghijklm"} | {"2", "3"}
    assert set(INSTRUMENTS["mdq"].item_ids) == expected


VERIFIED_CODES = {
    "phq9": ("44249-1", "44261-6"),
    "gad7": ("69737-5", "70274-6"),
    "phq15": ("69728-4", None),
    "audit_c": ("72109-2", "75626-2"),
}


@pytest.mark.parametrize("name", sorted(CLI_NAMES))
def test_loinc_codes_only_where_the_reference_verifies_them(name: str) -> None:
    loinc = INSTRUMENTS[name].loinc
    assert (loinc.panel, loinc.total) == VERIFIED_CODES.get(name, (None, None))


def test_item_loinc_codes() -> None:
    phq9 = INSTRUMENTS["phq9"]
    assert [i.loinc for i in phq9.items] == [
        "44250-9", "44255-8", "44259-0", "44254-1", "44251-7", "44258-2", "44252-5", "44253-3",
        "44260-8", "69722-7",
    ]  # fmt: skip
    assert INSTRUMENTS["gad7"].item("1").loinc == "69725-0"
    assert INSTRUMENTS["gad7"].item("6").loinc == "69689-8"
    assert INSTRUMENTS["phq15"].item("1").loinc == "69671-6"
    assert [o.loinc for o in phq9.item("1").options] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9",
    ]  # fmt: skip


def all_codes(definition: InstrumentDefinition) -> set[str]:
    codes = {definition.loinc.panel, definition.loinc.total, *definition.loinc.subscales.values()}
    for item in definition.items:
        codes.add(item.loinc)
        codes |= {option.loinc for option in item.options}
    return {code for code in codes if code}


def test_section_9_loinc_mislabels_are_not_propagated() -> None:
    codes = {name: all_codes(d) for name, d in INSTRUMENTS.items()}
    everywhere = set().union(*codes.values())
    assert "89204-2" not in everywhere  # PHQ-9 teens total, not C-SSRS
    assert "75624-7" not in everywhere  # AUDIT total: inconsistent in public code, unverified
    assert "97006-2" not in everywhere  # PCL-5: unconfirmed
    assert "75626-2" not in codes["dast10"]  # AUDIT-C total, not DAST-10
    assert not codes["cssrs_screen"]
    assert [n for n, c in codes.items() if "69725-0" in c] == ["gad7"]  # GAD-7 item 1, not PHQ-A


@pytest.mark.parametrize(
    ("name", "days"),
    [("phq9", 14), ("gad7", 14), ("phq15", 28), ("pcl5", 30), ("cssrs_screen", 30),
     ("qids_sr16", 7), ("dast10", 365), ("mdq", None), ("cadss", None), ("cadss6", None),
     ("madrs", None)],
)  # fmt: skip
def test_recall_periods(name: str, days: int | None) -> None:
    # §9: the PHQ-9 asks about 2 weeks, not "the last week".
    assert INSTRUMENTS[name].recall.days == days


def test_pfizer_instruments_ship_wording_and_the_notice() -> None:
    for name in ("phq9", "gad7", "phq15"):
        definition = INSTRUMENTS[name]
        assert definition.licence.wording_redistributable
        assert "No permission required to reproduce" in definition.licence.notice
        assert all(item.text for item in definition.items), name
    assert INSTRUMENTS["phq9"].item("9").text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )


def test_restricted_instruments_ship_labels_only() -> None:
    for name, definition in INSTRUMENTS.items():
        assert definition.licence.notice
        assert all(item.label for item in definition.items)
        if not definition.licence.wording_redistributable:
            assert all(item.text is None for item in definition.items), name
    assert "Skinner" in INSTRUMENTS["dast10"].licence.notice
    assert "Columbia Lighthouse Project" in INSTRUMENTS["cssrs_screen"].licence.notice


# --- licensed wording ---------------------------------------------------------------------------


def cssrs_wording() -> dict[str, str]:
    return {item_id: f"Licensed text {item_id}" for item_id in INSTRUMENTS["cssrs_screen"].item_ids}


def test_with_licensed_wording_sets_texts_and_keeps_scoring() -> None:
    base = INSTRUMENTS["cssrs_screen"]
    licensed = with_licensed_wording(base, cssrs_wording(), note="Columbia licence 2026-114")
    assert licensed.item("6b").text == "Licensed text 6b"
    assert licensed.wording_note == "Columbia licence 2026-114"
    assert licensed.version == base.version
    assert base.item("6b").text is None  # the shipped definition is untouched
    assert dataclasses.replace(licensed, items=base.items, wording_note=None) == base


def test_with_licensed_wording_refuses_mismatched_ids() -> None:
    wording = cssrs_wording()
    del wording["6b"]
    wording["7"] = "extra"
    wording["1"] = "  "
    with pytest.raises(WordingErrors) as caught:
        with_licensed_wording(INSTRUMENTS["cssrs_screen"], wording)
    assert {p.item: p.problem for p in caught.value.problems} == {
        "7": "not an item of this instrument",
        "6b": "no wording given",
        "1": "wording is empty or not text",
    }


def test_apply_wording_document() -> None:
    document = {
        "format": "kapstone-licensed-wording/1",
        "instrument": "cssrs_screen",
        "licence": "Columbia Lighthouse Project agreement 2026-114",
        "items": cssrs_wording(),
    }
    definition = apply_wording_document(INSTRUMENTS, document)
    assert definition.item("1").text == "Licensed text 1"
    assert definition.wording_note == "Columbia Lighthouse Project agreement 2026-114"
    with pytest.raises(WordingErrors) as caught:
        apply_wording_document(INSTRUMENTS, {**document, "format": "v0", "instrument": "phq10"})
    assert len(caught.value.problems) == 2
    with pytest.raises(WordingErrors):
        apply_wording_document(INSTRUMENTS, {**document, "licence": ""})
