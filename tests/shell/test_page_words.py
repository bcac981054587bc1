"""Every page a person reads speaks the clinic's words and time (issue 15, point 6).

Signed in as each role, the walker GETs every page that role may open (the URLs of
``test_access_every_url``, on a patient with a charted, alerting session, scores and an audit trail)
and fails on a code-shaped token in the visible text: a snake_case identifier, a dotted rule id, an
ISO timestamp with its T, or a Python dict's ``{'``. CSV and other downloads are not pages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from kapstone.accounts.models import StaffUser
from kapstone.clinical.access import Role, may
from tests.conftest import verified_client
from tests.shell.test_access_every_url import SAMPLE_KWARGS, _url, guarded_urls

CODE_SHAPED = {
    "snake_case identifier": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    "dotted rule id": re.compile(r"\b[a-z][a-z0-9]+(?:\.[a-z][a-z0-9_]+){2,}\b"),
    "ISO timestamp": re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
    "Python dict": re.compile(r"\{'"),
}
# Tokens that are words on a page, not codes: an e-mail address and a web address are shown as
# typed; MRNs are the clinic's own identifiers; a program key's format is shown by an example key.
ALLOWED = re.compile(r"[\w.+-]+@[\w.-]+|https?://\S+|\bMRN-\d+\b|e\.g\. weekly_sc_anxiety")
SKIPPED_TAGS = {"script", "style", "template", "noscript"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:  # type: ignore[no-untyped-def]
        if tag in SKIPPED_TAGS:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def code_tokens(text: str, names: frozenset[str] = frozenset()) -> list[str]:
    """Code-shaped tokens in ``text``; ``names`` are people's own (sign-in and display names)."""
    cleaned = ALLOWED.sub(" ", text)
    for name in sorted(names, key=len, reverse=True):
        cleaned = cleaned.replace(name, " ")
    found = []
    for kind, pattern in CODE_SHAPED.items():
        for match in pattern.finditer(cleaned):
            start = max(0, match.start() - 40)
            found.append(f"{kind} {match.group(0)!r} in …{cleaned[start : match.end() + 40]}…")
    return found


def test_the_detector_finds_each_kind_of_code_and_spares_words():
    page = (
        "<p>Route intranasal_esketamine, rule sbp.rise.pause, ends at 2026-12-05T23:30:00+00:00,"
        " changes {'status': 'booked'}</p><script>var a_b = 1;</script>"
        "<p>Write to front.desk@example.org about MRN-1001, e.g. the PHQ-9.</p>"
    )
    found = code_tokens(visible_text(page))
    assert [f.split(" '")[0].split(' "')[0] for f in found] == [
        "snake_case identifier",
        "dotted rule id",
        "ISO timestamp",
        "Python dict",
    ]


def _charted_session(clinic) -> None:  # type: ignore[no-untyped-def]
    """A session of the walked patient with a dose, a reading that alerts, and a discharge block,
    and a PHQ-9 with its flag: the pages then show routes, rules, flags and times."""
    from kapstone.assessments.services import save_answers, send_questionnaires, submit
    from kapstone.chairside import services
    from tests.shell.chairside_support import at, ready_to_dose, vitals

    record = ready_to_dose(clinic)
    nurse = clinic.staff["nurse"]
    session = record.session
    services.give_dose(by=nurse, record=record, dose_mg=Decimal(35), started_at=at(session, 15))
    vitals(record, nurse, at(session, 30), sys=175, dia=96)
    SAMPLE_KWARGS["hold_id"](clinic.on_team)  # the walker's sample hold, before the PHQ-9's alert
    questionnaire_set, _ = send_questionnaires(
        by=clinic.staff["prescriber"], patient=clinic.on_team, instruments=["phq9"]
    )
    # 17, "moderately_severe" as stored, with item 9 raising the suicide-risk flag.
    answers = {str(i): 2 for i in range(1, 9)} | {"9": 1, "10": 1}
    save_answers(questionnaire_set=questionnaire_set, instrument="phq9", answers=answers)
    submit(questionnaire_set=questionnaire_set, instrument="phq9")


# URL names that answered with a download (a PDF, a CSV) for an earlier role: not pages, and a PDF
# takes a third of a second to make, so the later roles do not ask for them again.
_DOWNLOADS: set[str] = set()


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_no_page_shows_a_code_shaped_token(role, clinic, client):
    _charted_session(clinic)
    me = clinic.staff[role.value]
    verified_client(client, me)
    # The test personas' sign-in names ("intake_coordinator") are what they type, not codes.
    names = frozenset(
        n for p in StaffUser.objects.all() for n in (p.username, p.first_name) if "_" in n
    )
    problems: list[str] = []
    for name, permission, patient_scoped in guarded_urls():
        on_team = me.pk in clinic.on_team.care_team_ids() if patient_scoped else None
        allowed = (
            may(role, permission, on_care_team=on_team) if patient_scoped else may(role, permission)
        )
        if not allowed:
            continue
        if name in _DOWNLOADS:
            continue
        url = _url(name, patient_scoped, clinic.on_team)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            if response.status_code == 200:
                _DOWNLOADS.add(name)
            continue
        for token in code_tokens(visible_text(response.content.decode()), names):
            problems.append(f"{url}: {token}")
    assert problems == [], "\n".join(problems)
