"""Issue 20, point 6: a patient whose account is in Spanish walks one page flow on a phone (home,
sessions, the checklist with an item ticked, messages) and reads it in Spanish, with the page's
language declared, and axe finds no serious or critical violation on any page."""

from __future__ import annotations

import pytest

from kapstone.companion.models import PatientAccount
from kapstone.preparation.models import PreparationAnswer
from tests.companion.program_support import booked_patient
from tests.companion.support import patient_cookie
from tests.conftest import build_clinic
from tests.functional.conftest import assert_accessible
from tests.functional.test_companion_program import PHONE, fits_the_screen, watched_page

pytestmark = pytest.mark.functional


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es")
    yield context
    context.close()


def in_spanish(page) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == "es"
    footer = page.get_by_role("contentinfo")
    assert footer.get_by_role("heading", name="Si está en crisis").is_visible()
    assert "llame al 988" in footer.inner_text()
    assert_accessible(page)
    assert fits_the_screen(page)
    assert page.csp_violations == []


def test_a_spanish_speaking_patient_walks_their_program_in_spanish(live_server, phone):
    clinic = build_clinic()
    booked = booked_patient(clinic)
    PatientAccount.objects.filter(pk=booked.account.pk).update(language="es")
    phone.add_cookies([patient_cookie(booked.account, live_server.url)])
    page = watched_page(phone)
    # The live server's first request loads every URL module: slow on a busy 2-core machine.
    page.set_default_timeout(60_000)

    page.goto(f"{live_server.url}/me/", timeout=120_000)
    page.get_by_role("heading", name="Su próxima sesión").wait_for()
    page.get_by_text("0 de 6 listos").wait_for()
    in_spanish(page)

    page.get_by_role("link", name="Ver todas sus sesiones").click()
    page.get_by_role("heading", name="Sus sesiones", level=1).wait_for()
    page.get_by_text("No coma después de las 08:00.").first.wait_for()
    page.get_by_text("EMDR: usted recuerda algo vivido").first.wait_for()
    in_spanish(page)

    page.get_by_role("link", name="Abrir su lista de preparación").first.click()
    page.get_by_role("heading", name="Prepárese para su sesión").wait_for()
    fasting = page.locator(f"#item-{booked.next.pk}-fasting")
    fasting.get_by_role("heading", name="Haré el ayuno como dice mi plan.").wait_for()
    fasting.get_by_role("button", name="Sí").click()
    page.get_by_text("Guardado.").wait_for()
    page.get_by_text("1 de 6 listos.").first.wait_for()
    fasting.get_by_text("Hecho").wait_for()
    in_spanish(page)
    said = {(a.item, a.answer) for a in PreparationAnswer.objects.all()}
    assert said == {("fasting", True)}

    page.get_by_role("link", name="Mensajes", exact=True).click()
    page.get_by_role("heading", name="Mensajes", level=1).wait_for()
    page.get_by_role("heading", name="Los mensajes no son para emergencias").wait_for()
    assert page.get_by_label("Su mensaje").is_visible()
    assert page.get_by_role("button", name="Enviar el mensaje").is_visible()
    in_spanish(page)
