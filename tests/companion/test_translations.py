"""Issue 20, point 6: the patient companion ships in English and Spanish. The committed Spanish
catalogue is complete (nothing untranslated or fuzzy), its compiled form is what msgfmt makes of it,
and no marked string in the code is missing from it (a new string fails here, with its words)."""

from __future__ import annotations

import datetime as dt
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

import kapstone
from kapstone.companion.program import band_word
from tests.companion.program_support import signed_plan_for
from tests.companion.support import make_account, patient_client
from tests.companion.test_program import scored

SOURCE = Path(kapstone.__file__).parent
MESSAGES = SOURCE / "locale" / "es" / "LC_MESSAGES"
# The same folders `make messages` leaves out (Makefile).
IGNORED = ["static", "migrations"]

pytestmark = pytest.mark.django_db
needs_gettext = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is installed by .ci/run"
)


def statistics(po: Path) -> str:
    done = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr.strip()


def catalogue(mo: Path) -> dict[object, str]:
    with mo.open("rb") as f:
        return dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]


@needs_gettext
def test_every_spanish_entry_is_translated_and_none_is_fuzzy():
    said = statistics(MESSAGES / "django.po")
    assert re.fullmatch(r"\d+ translated messages?\.", said), said


@needs_gettext
def test_the_committed_mo_is_what_msgfmt_compiles_from_the_po(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(MESSAGES / "django.po")], check=True
    )
    committed = catalogue(MESSAGES / "django.mo")
    assert committed == catalogue(compiled)
    assert len(committed) > 300


@needs_gettext
def test_no_marked_string_is_missing_from_the_catalogue(tmp_path, settings, monkeypatch):
    copy = tmp_path / "kapstone"
    shutil.copytree(SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__", *IGNORED, "*.mo"))
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["es"], ignore_patterns=IGNORED, verbosity=0)
    fresh = copy / "locale" / "es" / "LC_MESSAGES" / "django.po"
    missing = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(fresh)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(fresh)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # The header is the one entry msgattrib always prints; any other is a string to translate.
    assert missing.count("msgid ") <= 1, f"Translate these (make messages):\n{missing}"
    assert "#, fuzzy" not in fuzzy, f"Check these guessed translations:\n{fuzzy}"
    assert statistics(fresh) == statistics(MESSAGES / "django.po")


def test_the_severity_bands_read_in_the_patients_language():
    with translation.override("es"):
        assert band_word("moderately_severe") == "moderadamente grave"
        assert band_word("an_unlisted_word") == "an unlisted word"
    with translation.override("en-gb"):
        assert band_word("moderately_severe") == "moderately severe"


def test_in_spanish_the_progress_page_names_the_band_in_spanish(clinic):
    when = timezone.now() - dt.timedelta(days=5)
    scored(clinic.on_team, clinic.staff["prescriber"], 18, when)
    es = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"], language="es")
    text = patient_client(Client(), es).get(reverse("companion:progress")).content.decode()
    assert "Su puntuación de PHQ-9 fue 18 (moderadamente grave) el " in text
    assert " de " in text.split("(moderadamente grave) el ")[1].split(".")[0]  # "3 de marzo"
    assert '<div lang="en"><svg' in text.replace("\n", "")


def test_in_spanish_the_questionnaires_and_the_consent_say_why_they_stay_in_english(clinic):
    es = make_account(patient=clinic.on_team, by=clinic.staff["intake_coordinator"], language="es")
    page = patient_client(Client(), es).get(reverse("companion:questionnaires"))
    text = page.content.decode()
    assert '<html lang="es">' in text
    assert "Los cuestionarios aparecerán en inglés" in text
    assert "Si está en crisis" in text
    assert 'llame al <a href="tel:988">988</a>' in text
    signed_plan_for(clinic)
    text = patient_client(Client(), es).get(reverse("companion:consent")).content.decode()
    assert "El texto del consentimiento que sigue está en inglés" in text
    assert '<h2 id="doc-title" lang="en">' in text

    en = make_account(patient=clinic.elsewhere, by=clinic.staff["intake_coordinator"])
    text = patient_client(Client(), en).get(reverse("companion:questionnaires")).content.decode()
    assert "questionnaires-in-english" not in text
    assert "If you are in crisis" in text
