"""Search and read over the registry's kinds, without HTTP: filters, dates, paging, refusals."""

from __future__ import annotations

import pytest
from django.utils import timezone

from kapstone.demo.generator import build_demo_clinic
from kapstone.fhirapi import reading as selectors
from kapstone.fhirapi import registry, search
from kapstone.fhirapi.outcome import FhirProblem
from kapstone.patients.models import Patient
from tests.conftest import kept_for_the_module

BASE = "http://testserver/fhir"


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with kept_for_the_module(django_db_blocker):
        yield build_demo_clinic(
            patients=3, seed=5, today=timezone.localdate(), history_until=timezone.now()
        )


@pytest.fixture
def clinic(built, db):
    return built


def ids(answer: selectors.Answer) -> list[str]:
    return [e["resource"]["id"] for e in answer.bundle.get("entry", [])]


def test_every_patient_reads_and_is_found(clinic):
    kind = registry.KINDS["Patient"]
    pks = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    answer = selectors.search_page(kind, [], lenient=False, base=BASE)
    assert ids(answer) == [str(pk) for pk in pks]
    assert answer.bundle["total"] == len(pks)
    read, about = selectors.read(kind, str(pks[0]))
    assert about == pks[0]
    assert read["id"] == str(pks[0])
    assert Patient.objects.get(pk=pks[0]).mrn not in answer.bundle["link"][0]["url"]


def test_paging_walks_every_row_once_in_a_stable_order(clinic):
    kind = registry.KINDS["Patient"]
    everyone = ids(selectors.search_page(kind, [], lenient=False, base=BASE))
    seen: list[str] = []
    offset = 0
    while True:
        answer = selectors.search_page(
            kind, [("_count", "4"), ("_offset", str(offset))], lenient=False, base=BASE
        )
        seen += ids(answer)
        links = {link["relation"]: link["url"] for link in answer.bundle["link"]}
        if "next" not in links:
            break
        offset += 4
    assert seen == everyone


def test_unknown_parameter_is_refused_unless_lenient(clinic):
    kind = registry.KINDS["Patient"]
    with pytest.raises(FhirProblem) as refused:
        selectors.search_page(kind, [("colour", "blue")], lenient=False, base=BASE)
    assert refused.value.status == 400
    lenient = selectors.search_page(kind, [("colour", "blue")], lenient=True, base=BASE)
    assert lenient.bundle["total"] == Patient.objects.count()


def test_a_missing_id_is_not_found(clinic):
    with pytest.raises(FhirProblem) as missing:
        selectors.read(registry.KINDS["Patient"], "999999")
    assert missing.value.status == 404


@pytest.mark.parametrize(("value", "status"), [("2026-13", 400), ("sa2026", 400), ("xx", 400)])
def test_bad_dates_are_refused(value, status):
    with pytest.raises(FhirProblem) as refused:
        search.date_q(registry.DatePath("x"), value)
    assert refused.value.status == status


def test_group_members(clinic):
    kind = registry.KINDS["Group"]
    groups = selectors.search_page(kind, [], lenient=False, base=BASE).bundle["entry"]
    site = next(e["resource"] for e in groups if e["resource"]["id"].startswith("site-"))
    members = registry.group_patient_ids(site["id"])
    assert members and site["quantity"] == len(members)
    with pytest.raises(FhirProblem):
        registry.group_patient_ids("site-999999")


def test_questionnaires_carry_items_only_where_the_licence_allows(clinic):
    from kapstone.clinical.instruments import INSTRUMENTS

    kind = registry.KINDS["Questionnaire"]
    served = {
        e["resource"]["id"]: e["resource"]
        for e in selectors.search_page(kind, [], lenient=False, base=BASE).bundle["entry"]
    }
    assert len(served) == len(INSTRUMENTS)
    for name, definition in INSTRUMENTS.items():
        resource = served[name.replace("_", "-")]
        assert ("item" in resource) == definition.licence.wording_redistributable, name
    phq9, _ = selectors.read(kind, "phq9")
    assert phq9["url"] == "http://loinc.org/q/44249-1"
    only = selectors.search_page(kind, [("_id", "gad7")], lenient=False, base=BASE)
    assert [e["resource"]["id"] for e in only.bundle["entry"]] == ["gad7"]
    assert list(kind.export(patient_ids=[1], since=None)) == []


def test_date_prefixes_on_a_date_column(clinic):
    kind = registry.KINDS["Patient"]
    born = sorted(Patient.objects.values_list("date_of_birth", flat=True))
    day = born[0].isoformat()

    def total(value: str) -> int:
        answer = selectors.search_page(kind, [("birthdate", value)], lenient=False, base=BASE)
        return int(answer.bundle["total"])

    same_day = sum(1 for b in born if b == born[0])
    assert total(day) == same_day
    assert total(f"eq{day}") == same_day
    assert total(f"lt{day}") == 0
    assert total(f"le{day}") == same_day
    assert total(f"gt{day}") == len(born) - same_day
    assert total(f"ge{day}") == len(born)
    assert total(day[:4]) >= same_day
