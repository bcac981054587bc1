"""REMS monitoring forms in the shell: prepared from a signed esketamine session (real chair-side
rows), refused for anything else, the PDF's text checked against the session, the filing recorded
and audited, append-only rows, the queue's deadlines, the batch button and the command."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from pypdf import PdfReader

from kapstone.audit.models import AuditEntry
from kapstone.chairside.models import ChairsideRecord, SessionAddendum, VitalReading
from kapstone.errors import InputError
from kapstone.rems import selectors, services
from kapstone.rems.models import AppendOnlyError, RemsFiling, RemsForm
from kapstone.rems.tasks import prepare_rems_forms
from kapstone.web.downloads import opaque_id
from tests.shell.rems_support import NEW_YORK, at, signed_esketamine_session

# Two days after the session, mid-morning in New York.
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=NEW_YORK)


@pytest.fixture
def signed(clinic):
    return signed_esketamine_session(
        clinic.on_team, nurse=clinic.staff["nurse"], prescriber=clinic.staff["prescriber"]
    )


@pytest.fixture
def form(signed, clinic):
    return services.prepare_form(session=signed.session, by=clinic.staff["nurse"], now=NOW)


def _pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


# --- preparing -----------------------------------------------------------------------------------


def test_a_signed_esketamine_session_fills_the_form_from_its_record(form, clinic):
    form.refresh_from_db()
    assert form.schema_version == "spravato-pmf-newer-walkthrough"
    assert (form.session_date, form.due_on) == (dt.date(2026, 11, 20), dt.date(2026, 11, 27))
    pmf = form.pmf
    value = {f.key: f.value for f in pmf.fields}
    assert value["patient_first_name"] == "Ada"
    assert value["patient_last_name"] == "Lovelace"
    assert value["patient_dob"] == "12/10/1985"
    assert value["patient_sex"] == "Female"
    assert value["first_treatment"] == "Yes"
    assert value["setting_name"] == "Riverside"
    assert value["hcp_first_name"] == "Nurse"
    assert value["hcp_last_name"] == "Tester"
    assert value["dose_administered"] == "56 mg (2 devices)"
    assert value["lot_number"] == "ESK-24A117"
    assert value["treatment_duration_minutes"] == "128"
    assert value["bp_before"] == "128/82"
    # The struck 210/60 at 38 minutes never reaches the form: the 41-minute reading does.
    assert value["bp_40_minutes"] == "152/94"
    assert value["bp_at_completion"] == "126/80"
    assert value["vitals_acceptable_before"] == "Yes"
    assert value["vitals_acceptable_at_completion"] == "Yes"
    assert value["sedation"] == "Yes"
    assert value["dissociation"] == "Yes"
    assert value["pulse_oximetry"] == "Yes"
    assert value["respiratory_depression"] == "No"
    # What Kapstone does not hold is left to the clinician, with the reason.
    assert value["ready_to_leave_minutes"] is None
    assert value["rems_enrolled"] is None
    assert value["serious_adverse_event"] is None  # mild nausea: seriousness is not charted
    assert "Nausea (mild) at 09:35" in pmf.get("serious_adverse_event").missing
    assert value["conmed_benzodiazepines"] is None  # no intake medication list
    assert not form.complete
    entry = AuditEntry.objects.filter(action="rems_form.prepared").latest("seq")
    assert (entry.actor, entry.patient, entry.object_id) == (
        clinic.staff["nurse"],
        clinic.on_team,
        str(form.pk),
    )
    assert entry.after["due_on"] == "2026-11-27"
    assert "ready_to_leave_minutes" in entry.after["missing_required"]


def test_a_second_session_is_not_a_first_treatment(clinic, form):
    later = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=at(3 * 24 * 60),
    )
    second = services.prepare_form(session=later.session, by=None, now=NOW)
    assert second.pmf.get("first_treatment").value == "No"
    assert second.created_by is None
    assert AuditEntry.objects.filter(action="rems_form.prepared").latest("seq").actor is None


def test_acceptable_ranges_follow_the_policy_the_session_was_charted_under(clinic, form):
    from kapstone.policies.services import set_monitoring_policy

    tighter = set_monitoring_policy(
        by=clinic.staff["medical_director"],
        overrides={"discharge": {"systolic_below": 120}},
        reason="Stricter discharge systolic limit",
    )
    charted_under_it = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=at(24 * 60),
        policy_version=tighter.version,
    )
    strict = services.prepare_form(session=charted_under_it.session, by=None, now=NOW)
    f = strict.pmf.get("vitals_acceptable_at_completion")
    assert (f.value, f.basis) == (
        "No",
        "reading at 11:05 against the discharge limits: systolic 126 outside",
    )
    # The earlier session was charted under the defaults: its answer stays Yes.
    assert form.pmf.get("vitals_acceptable_at_completion").value == "Yes"
    assert selectors.drift_since_prepared(form) == []
    assert strict.pmf.policy_version.endswith(f"+{tighter.version}")


def test_refused_for_an_unsigned_a_racemic_or_an_already_prepared_session(clinic, form, signed):
    unsigned = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=at(24 * 60),
        sign=False,
    )
    iv = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=at(2 * 24 * 60),
        route="iv",
    )
    before = RemsForm.objects.count()
    for session, message in (
        (unsigned.session, "not signed yet"),
        (iv.session, "esketamine (Spravato) sessions only"),
        (signed.session, "already been prepared"),
    ):
        with pytest.raises(InputError, match=re.escape(message)):
            services.prepare_form(session=session, by=clinic.staff["nurse"], now=NOW)
    assert RemsForm.objects.count() == before
    assert list(selectors.sessions_without_form()) == []


def test_forms_and_filings_are_append_only(form, clinic):
    form.complete = True
    with pytest.raises(AppendOnlyError):
        form.save()
    with pytest.raises(AppendOnlyError):
        form.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RemsForm.objects.filter(pk=form.pk).update(due_on=dt.date(2027, 1, 1))
    filing = services.mark_filed(
        form=form, by=clinic.staff["nurse"], filed_on=dt.date(2026, 11, 21), note="Fax", now=NOW
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RemsFiling.objects.filter(pk=filing.pk).delete()


# --- filing ---------------------------------------------------------------------------------------


def test_marking_filed_is_recorded_and_audited_once(form, clinic):
    nurse = clinic.staff["nurse"]
    filing = services.mark_filed(
        form=form,
        by=nurse,
        filed_on=dt.date(2026, 11, 22),
        confirmation_number=" PMF-778812 ",
        now=NOW,
    )
    assert (filing.confirmation_number, filing.recorded_by, filing.recorded_at) == (
        "PMF-778812",
        nurse,
        NOW,
    )
    entry = AuditEntry.objects.filter(action="rems_form.filed").latest("seq")
    assert (entry.actor, entry.patient, entry.object_id) == (nurse, clinic.on_team, str(form.pk))
    assert entry.after == {
        "filed_on": "2026-11-22",
        "confirmation_number": "PMF-778812",
        "note": "",
        "due_on": "2026-11-27",
        "late": False,
    }
    with pytest.raises(InputError, match="already recorded as filed"):
        services.mark_filed(
            form=form, by=nurse, filed_on=dt.date(2026, 11, 22), note="again", now=NOW
        )
    assert RemsFiling.objects.count() == 1


def test_a_filing_needs_a_day_and_a_confirmation_or_a_note(form, clinic):
    nurse = clinic.staff["nurse"]
    cases = [
        (None, "X1", "", "filed_on", "Give the day the form was filed."),
        (dt.date(2026, 11, 23), "X1", "", "filed_on", "The filing day cannot be in the future."),
        (dt.date(2026, 11, 19), "X1", "", "filed_on", "before the session took place"),
        (dt.date(2026, 11, 21), " ", " ", "confirmation_number", "REMS confirmation number"),
    ]
    for filed_on, confirmation, note, field, message in cases:
        with pytest.raises(InputError) as refused:
            services.mark_filed(
                form=form,
                by=nurse,
                filed_on=filed_on,
                confirmation_number=confirmation,
                note=note,
                now=NOW,
            )
        assert list(refused.value.errors) == [field]
        assert message in refused.value.errors[field][0]
    assert not RemsFiling.objects.exists()
    assert not AuditEntry.objects.filter(action="rems_form.filed").exists()


def test_a_late_filing_is_recorded_as_late(form, clinic):
    later = dt.datetime(2026, 12, 1, 9, 0, tzinfo=NEW_YORK)
    services.mark_filed(
        form=form,
        by=clinic.staff["prescriber"],
        filed_on=dt.date(2026, 11, 30),
        note="Fax",
        now=later,
    )
    row = selectors.form_row(RemsForm.objects.get(pk=form.pk), later)
    assert (row.state.status, row.state.filed_late) == ("filed", True)
    entry = AuditEntry.objects.filter(action="rems_form.filed").latest("seq")
    assert entry.after["late"] is True
    assert "3 day(s) late" in entry.summary


# --- the queue ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (dt.datetime(2026, 11, 22, 10, 0, tzinfo=NEW_YORK), "due"),
        (dt.datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK), "due_soon"),
        (dt.datetime(2026, 11, 27, 23, 59, tzinfo=NEW_YORK), "due_today"),
        # 02:00 UTC on the 28th is still the 27th in New York: the site's calendar day counts.
        (dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC), "due_today"),
        (dt.datetime(2026, 11, 28, 0, 1, tzinfo=NEW_YORK), "overdue"),
    ],
)
def test_the_queue_shows_each_forms_deadline_state(form, clinic, now, status):
    queue = selectors.queue(user=clinic.staff["nurse"], now=now)
    assert [(r.form, r.state.status.value) for r in queue.open] == [(form, status)]
    assert queue.filed == []


def test_the_queue_holds_only_the_users_patients(form, clinic):
    assert selectors.queue(user=clinic.others["nurse"], now=NOW).open == []
    assert [
        r.form for r in selectors.queue(user=clinic.staff["medical_director"], now=NOW).open
    ] == [form]


def test_the_queue_page_highlights_overdue_and_lists_filed(clinic, as_role):
    from django.utils import timezone

    # A session of 1 November was due on 8 November: overdue by the page's own clock.
    old = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        start=dt.datetime(2026, 11, 1, 9, 5, tzinfo=NEW_YORK),
    )
    form = services.prepare_form(session=old.session, by=clinic.staff["nurse"])
    client = as_role("nurse")
    page = client.get(reverse("rems:queue")).content.decode()
    row = re.search(r'<tr class="rems-overdue">(.*?)</tr>', page, flags=re.S)
    assert row is not None, page
    assert "Ada Lovelace" in row.group(1)
    assert "Sun 8 Nov 2026" in row.group(1)
    assert re.search(r"Overdue</span>, \d+ days late", row.group(1))
    services.mark_filed(
        form=form,
        by=clinic.staff["nurse"],
        filed_on=selectors.local_today(form.site, timezone.now()),
        confirmation_number="PMF-1",
    )
    page = client.get(reverse("rems:queue")).content.decode()
    assert "No form is waiting to be filed." in page
    filed = re.search(r'<tr class="rems-filed">(.*?)</tr>', page, flags=re.S)
    assert filed is not None
    assert "PMF-1" in filed.group(1) and "Nurse Tester" in filed.group(1)
    assert "(late)" in filed.group(1)


def test_the_button_prepares_forms_for_signed_sessions_without_one(signed, clinic, as_role):
    signed_esketamine_session(
        clinic.elsewhere,
        nurse=clinic.others["nurse"],
        prescriber=clinic.others["prescriber"],
        start=at(60),
    )
    client = as_role("nurse")
    page = client.get(reverse("rems:queue")).content.decode()
    assert "Signed esketamine sessions without a form" in page
    assert "Grace Hopper" not in page  # not this nurse's patient
    response = client.post(reverse("rems:prepare_missing"), follow=True)
    assert "1 REMS monitoring form(s) prepared." in response.content.decode()
    assert list(RemsForm.objects.values_list("patient", flat=True)) == [clinic.on_team.pk]
    # The scheduled task covers every patient.
    result = prepare_rems_forms.call()
    assert result == 1
    assert RemsForm.objects.count() == 2


def test_the_management_command_prepares_what_is_missing(signed, clinic):
    out = io.StringIO()
    call_command("prepare_rems_forms", stdout=out)
    assert "1 REMS monitoring form(s) prepared" in out.getvalue()
    call_command("prepare_rems_forms", stdout=out)
    assert RemsForm.objects.count() == 1


# --- pages ----------------------------------------------------------------------------------------


def test_the_pdf_text_matches_the_session(form, clinic, as_role):
    response = as_role("therapist").get(reverse("rems:pdf", args=[clinic.on_team.pk, form.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="rems-pmf-2026-11-20-{opaque_id(form)}.pdf"'
    )
    text = _pdf_text(response)
    for expected in (
        "SPRAVATO REMS Patient Monitoring Form",
        "Generated from the session record; file via the REMS portal",
        "Clinic Riverside",
        "Ada Lovelace",
        "MRN-1001",
        "12/10/1985",
        "Prescriber Prescriber Tester",
        "Session date 11/20/2026",
        "Due by 11/27/2026",
        "56 mg (2 devices)",
        "28 mg at 09:05, 28 mg at 09:10",
        "ESK-24A117",
        "128",
        "first device 09:05 to discharge sign-off 11:13",
        "128/82",
        "152/94",
        "taken 09:46 (41 min after the first device)",
        "126/80",
        "peak CADSS-6 11 at 09:45 (pre-dose 2)",
        "Not filled: the clinician's estimate is not recorded at the chair side",
    ):
        assert expected in text, expected
    assert "210/60" not in text  # the struck reading
    entry = AuditEntry.objects.filter(action="rems_form.exported").latest("seq")
    assert (entry.actor, entry.patient) == (clinic.staff["therapist"], clinic.on_team)


def test_the_form_page_shows_what_is_missing_and_records_the_read(form, clinic, as_role):
    response = as_role("prescriber").get(reverse("rems:detail", args=[clinic.on_team.pk, form.pk]))
    page = response.content.decode()
    assert "To complete on the portal" in page
    assert "REMS patient enrolment is not recorded in Kapstone" in page
    assert "Record as filed" in page
    assert "changed after this form was prepared" not in page
    assert AuditEntry.objects.filter(action="rems_form.viewed", object_id=str(form.pk)).exists()
    therapist = as_role("therapist").get(reverse("rems:detail", args=[clinic.on_team.pk, form.pk]))
    assert "Record as filed" not in therapist.content.decode()


def test_a_strike_or_addendum_after_preparing_is_shown_on_the_form(form, signed, clinic, as_role):
    record = ChairsideRecord.objects.get(pk=signed.record.pk)
    reading = VitalReading.objects.get(record=record, taken_at=at(41))
    from kapstone.chairside.models import VitalStrike

    VitalStrike.objects.create(
        reading=reading, reason="Wrong patient's cuff", by=clinic.staff["nurse"], at=at(200)
    )
    SessionAddendum.objects.create(
        record=record,
        reason="Late entry",
        text="BP rechecked",
        by=clinic.staff["nurse"],
        at=at(210),
    )
    page = as_role("nurse").get(reverse("rems:detail", args=[clinic.on_team.pk, form.pk]))
    text = page.content.decode()
    assert "The session record changed after this form was prepared" in text
    assert (
        "40 minutes post-administration: prepared “152/94”, the record now gives “not filled”"
        in text
    )
    assert "1 addendum to the signed record" in text


def test_recording_a_filing_through_the_page(form, clinic, as_role):
    from django.utils import timezone

    today = selectors.local_today(form.site, timezone.now()).isoformat()  # the page's own clock
    client = as_role("nurse")
    url = reverse("rems:file", args=[clinic.on_team.pk, form.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"filed_on": today, "confirmation_number": "", "note": ""})
    assert "Give the REMS confirmation number" in refused.content.decode()
    assert not RemsFiling.objects.exists()
    done = client.post(url, {"filed_on": today, "confirmation_number": "PMF-42", "note": ""})
    assert done.status_code == 302
    assert RemsFiling.objects.get().confirmation_number == "PMF-42"


def test_the_chart_tab_lists_forms_and_offers_to_prepare(signed, clinic, as_role):
    client = as_role("nurse")
    url = reverse("rems:chart_tab", args=[clinic.on_team.pk])
    page = client.get(url).content.decode()
    assert "Prepare the form" in page
    response = client.post(reverse("rems:prepare", args=[clinic.on_team.pk, signed.session.pk]))
    form = RemsForm.objects.get()
    assert response["Location"] == reverse("rems:detail", args=[clinic.on_team.pk, form.pk])
    page = client.get(url).content.decode()
    assert "Fri 27 Nov 2026" in page and "Prepare the form" not in page
    again = client.post(
        reverse("rems:prepare", args=[clinic.on_team.pk, signed.session.pk]), follow=True
    )
    assert "already been prepared" in again.content.decode()


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_files_most_forms_and_leaves_one_overdue_and_one_due(clinic):
    from kapstone.demo.rems import build_rems_forms

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=NEW_YORK)
    for days_ago in (27, 20, 13, 10, 6):  # due 10, 17, 24 and 27 Nov (past), and 1 Dec
        signed_esketamine_session(
            clinic.on_team,
            nurse=clinic.staff["nurse"],
            prescriber=clinic.staff["prescriber"],
            start=dt.datetime(2026, 11, 30, 9, 5, tzinfo=NEW_YORK) - dt.timedelta(days=days_ago),
        )
    forms = build_rems_forms(now=now)
    assert len(forms) == 5
    states = [selectors.form_row(RemsForm.objects.get(pk=f.pk), now).state for f in forms]
    assert [s.status.value for s in states] == ["filed", "filed", "filed", "overdue", "due_soon"]
    for form in RemsForm.objects.filter(filing__isnull=False):
        assert form.session_date < form.filing.filed_on <= form.session_date + dt.timedelta(days=5)
        assert form.filing.confirmation_number.startswith("PMF-")
    assert build_rems_forms(now=now) == []  # run again: nothing left to prepare


def test_signing_an_esketamine_record_prepares_its_form(clinic):
    from kapstone.chairside.services import sign_record

    unsigned = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        sign=False,
    )
    ChairsideRecord.objects.filter(pk=unsigned.record.pk).update(discharged_at=at(128))
    assert not RemsForm.objects.exists()
    sign_record(by=clinic.staff["nurse"], record=unsigned.record, now=at(135))
    form = RemsForm.objects.get(session=unsigned.session)
    assert form.due_on == dt.date(2026, 11, 27)  # the session day in New York + 7
    assert AuditEntry.objects.filter(action="chairside.signed").exists()


def test_an_iv_record_needs_no_rems_form(clinic):
    from kapstone.chairside.services import sign_record

    unsigned = signed_esketamine_session(
        clinic.on_team,
        nurse=clinic.staff["nurse"],
        prescriber=clinic.staff["prescriber"],
        sign=False,
        route="iv",
    )
    ChairsideRecord.objects.filter(pk=unsigned.record.pk).update(discharged_at=at(128))
    sign_record(by=clinic.staff["nurse"], record=unsigned.record, now=at(135))
    assert not RemsForm.objects.exists()
