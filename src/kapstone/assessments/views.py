"""The patient's questionnaire pages (public: a link's or the tablet session's token is the
credential), the staff's questionnaire tab, sending and hand-over, and clinician ratings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kapstone.assessments import flow, selectors, services
from kapstone.assessments.forms import QuestionForm, RatingForm, SendForm
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.clinical.access import Permission, may
from kapstone.clinical.instruments import Answer, InstrumentDefinition, Item
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.authz import public, requires
from kapstone.web.http import AuthenticatedHttpRequest

# ---------------------------------------------------------------------------------------------
# The patient's pages, reached by a link (token in the URL) or on the clinic's tablet (token in the
# session). The pages are the same; an Entry says where the token comes from and how to link on.


class Entry:
    """How the patient reached the questionnaires."""

    kiosk = False

    def __init__(self, token: str):
        self.token = token

    def url(self, page: str, **kwargs: str) -> str:
        return reverse(f"assessments:{page}", kwargs={"token": self.token, **kwargs})

    def home(self) -> str:
        return self.url("link")

    def resume(self, instrument: str) -> str:
        return self.url("resume", instrument=instrument)

    def question(self, instrument: str, item: Item | None) -> str:
        if item is None:
            return self.url("review", instrument=instrument)
        return self.url("question", instrument=instrument, item=item.id)

    def finished(self, request: HttpRequest, *, crisis: bool = False) -> HttpResponse:
        if crisis:
            request.session[CRISIS_SESSION_KEY] = True
        return redirect("assessments:thank_you")


class KioskEntry(Entry):
    """The clinic's tablet: no token in any address, so the tablet's history holds no link."""

    kiosk = True

    def url(self, page: str, **kwargs: str) -> str:
        name = "kiosk" if page == "link" else f"kiosk_{page}"
        return reverse(f"assessments:{name}", kwargs=kwargs)

    def finished(self, request: HttpRequest, *, crisis: bool = False) -> HttpResponse:
        # Nothing of the patient's stays on the tablet: Back now reaches only the refusal. The
        # crisis resources stay on the thank-you page (they say nothing about the patient).
        request.session.flush()
        if crisis:
            request.session[CRISIS_SESSION_KEY] = True
        return redirect("assessments:kiosk_thank_you")


# The tablet's session idles out after this long untouched (clinic policy): a tablet left on a
# chair does not stay open on someone's questionnaires. Every kiosk page renews it.
KIOSK_IDLE_SECONDS = 10 * 60
KIOSK_SESSION_KEY = "kiosk_token"
# Set when a submission raised a suicide-risk flag: the thank-you page, which has no token to look
# the answers up by, still puts the crisis resources first.
CRISIS_SESSION_KEY = "crisis_help"


def _crisis(request: HttpRequest, questionnaire_set: QuestionnaireSet | None = None) -> bool:
    """Whether the patient should see the crisis resources first: an answer of theirs raised a
    suicide-risk flag (a submitted questionnaire of this set, or one submitted in this browser)."""
    if request.session.get(CRISIS_SESSION_KEY):
        return True
    if questionnaire_set is None:
        return False
    return selectors.raised_suicide_risk(questionnaire_set)


def start_kiosk(request: HttpRequest, token: str) -> None:
    """Signs the staff member out of this browser and leaves only the patient's token in a fresh
    session: the patient holds a tablet with no staff session on it."""
    list(messages.get_messages(request))  # staff notices must not show on the patient's screen
    logout(request)
    request.session[KIOSK_SESSION_KEY] = token
    request.session.set_expiry(KIOSK_IDLE_SECONDS)


def _kiosk_entry(request: HttpRequest) -> KioskEntry | None:
    token = request.session.get(KIOSK_SESSION_KEY)
    # A signed-in browser would show staff navigation next to the patient's questions.
    if not isinstance(token, str) or request.user.is_authenticated:
        return None
    request.session.modified = True  # saved again, so the idle time starts over
    return KioskEntry(token)


def _refused(request: HttpRequest, exc: InputError | None = None) -> HttpResponse:
    message = services.LINK_REFUSED if exc is None else exc.errors.get("token", [""])[0]
    return render(
        request,
        "assessments/link_refused.html",
        {"message": message or services.LINK_REFUSED, "crisis": _crisis(request)},
        status=404,
    )


def _open(entry: Entry) -> QuestionnaireSet:
    return services.open_link(token=entry.token, now=timezone.now(), kiosk=entry.kiosk)


def _unsubmitted(
    request: HttpRequest, entry: Entry, instrument: str
) -> tuple[QuestionnaireSet, QuestionnaireResponse, InstrumentDefinition] | HttpResponse:
    """The link's set, the instrument's response still being answered and its definition, or
    where the patient goes instead: the refusal page for a link that no longer opens, the link's
    home once the response is submitted."""
    try:
        questionnaire_set = _open(entry)
    except InputError as exc:
        return _refused(request, exc)
    response = selectors.response_in_set(questionnaire_set, instrument)
    if response is None:
        raise Http404("No such questionnaire in this link")
    if response.is_submitted:
        return redirect(entry.home())
    return questionnaire_set, response, flow.definition(instrument)


def _home(request: HttpRequest, entry: Entry) -> HttpResponse:
    try:
        questionnaire_set = _open(entry)
    except InputError as exc:
        return _refused(request, exc)
    rows = [
        (row, entry.question(row.response.instrument, row.next_item))
        for row in selectors.link_progress(questionnaire_set)
    ]
    return render(
        request,
        "assessments/link_home.html",
        {
            "rows": rows,
            "expires_at": questionnaire_set.expires_at,
            "kiosk": entry.kiosk,
            "crisis": _crisis(request, questionnaire_set),
        },
    )


def _resume(request: HttpRequest, entry: Entry, instrument: str) -> HttpResponse:
    opened = _unsubmitted(request, entry, instrument)
    if isinstance(opened, HttpResponse):
        return opened
    _, response, definition = opened
    return redirect(entry.question(instrument, flow.resume_item(definition, response.answers)))


def _neighbours(
    definition: InstrumentDefinition, answers: Mapping[str, Answer], item: Item
) -> tuple[list[Item], int]:
    shown = flow.shown_items(definition, answers)
    return shown, [i.id for i in shown].index(item.id)


def _question(request: HttpRequest, entry: Entry, instrument: str, item: str) -> HttpResponse:
    opened = _unsubmitted(request, entry, instrument)
    if isinstance(opened, HttpResponse):
        return opened
    questionnaire_set, response, definition = opened
    try:
        asked = definition.item(item)
    except KeyError as exc:
        raise Http404("No such question") from exc
    if not flow.is_shown(asked, response.answers):
        return redirect(entry.resume(instrument))
    required = flow.is_required(asked, response.answers)
    wording = flow.wording(definition, asked)
    initial = {}
    if asked.id in response.answers:
        initial["answer"] = flow.encode(response.answers[asked.id])
    form = QuestionForm(
        request.POST if request.method == "POST" else None,  # an empty POST still needs checking
        item=asked,
        required=required,
        label=wording,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.chosen()
        try:
            if chosen is not None:
                response = services.save_answers(
                    questionnaire_set=questionnaire_set,
                    instrument=instrument,
                    answers={asked.id: chosen},
                )
        except InputError as exc:
            if "token" in exc.errors:
                return _refused(request, exc)
            for errors in exc.errors.values():
                for error in errors:
                    form.add_error("answer", error)
        else:
            shown, index = _neighbours(definition, response.answers, asked)
            following = shown[index + 1] if index + 1 < len(shown) else None
            return redirect(entry.question(instrument, following))
    shown, index = _neighbours(definition, response.answers, asked)
    back = entry.question(instrument, shown[index - 1]) if index > 0 else entry.home()
    return render(
        request,
        "assessments/question.html",
        {
            "definition": definition,
            "form": form,
            "wording": wording,
            "required": required,
            "position": index + 1,
            "count": len(shown),
            "back_url": back,
            "crisis": _crisis(request, questionnaire_set),
        },
    )


def _review(request: HttpRequest, entry: Entry, instrument: str) -> HttpResponse:
    opened = _unsubmitted(request, entry, instrument)
    if isinstance(opened, HttpResponse):
        return opened
    questionnaire_set, response, definition = opened
    answers = response.answers
    shown = flow.shown_items(definition, answers)
    numbers = {item.id: n for n, item in enumerate(shown, start=1)}
    problems: list[tuple[int | None, str, str]] = []
    if request.method == "POST":
        try:
            services.submit(questionnaire_set=questionnaire_set, instrument=instrument)
        except InputError as exc:
            if "token" in exc.errors:
                return _refused(request, exc)
            for key in exc.errors:
                target = definition.item(key) if key in definition.item_ids else None
                number = numbers.get(key)
                if target is None:
                    continue
                text = (
                    "please answer this question."
                    if key not in answers
                    else "please choose one of the answers shown."
                )
                problems.append((number, text, entry.question(instrument, target)))
        else:
            if selectors.is_finished(questionnaire_set):
                return entry.finished(request, crisis=_crisis(request, questionnaire_set))
            messages.success(request, f"Thank you: {definition.title} is sent to your care team.")
            return redirect(entry.home())
    rows = [
        (
            numbers[item.id],
            flow.wording(definition, item),
            flow.option_label(item, answers[item.id]) if item.id in answers else None,
            flow.is_required(item, answers),
            entry.question(instrument, item),
        )
        for item in shown
    ]
    return render(
        request,
        "assessments/review.html",
        {
            "definition": definition,
            "rows": rows,
            "problems": problems,
            "missing": len(flow.missing_items(definition, answers)),
            "crisis": _crisis(request, questionnaire_set),
        },
    )


# The link: the token is the credential.


@public
@never_cache
def link_home(request: HttpRequest, token: str) -> HttpResponse:
    return _home(request, Entry(token))


@public
@never_cache
def resume(request: HttpRequest, token: str, instrument: str) -> HttpResponse:
    return _resume(request, Entry(token), instrument)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, token: str, instrument: str, item: str) -> HttpResponse:
    return _question(request, Entry(token), instrument, item)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, token: str, instrument: str) -> HttpResponse:
    return _review(request, Entry(token), instrument)


@public
@never_cache
def thank_you(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/thank_you.html", {"crisis": _crisis(request)})


# The clinic's tablet: the token is in the session the hand-over started.


@public
@never_cache
def kiosk_home(request: HttpRequest) -> HttpResponse:
    entry = _kiosk_entry(request)
    return _refused(request) if entry is None else _home(request, entry)


@public
@never_cache
def kiosk_resume(request: HttpRequest, instrument: str) -> HttpResponse:
    entry = _kiosk_entry(request)
    return _refused(request) if entry is None else _resume(request, entry, instrument)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def kiosk_question(request: HttpRequest, instrument: str, item: str) -> HttpResponse:
    entry = _kiosk_entry(request)
    return _refused(request) if entry is None else _question(request, entry, instrument, item)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def kiosk_review(request: HttpRequest, instrument: str) -> HttpResponse:
    entry = _kiosk_entry(request)
    return _refused(request) if entry is None else _review(request, entry, instrument)


@public
@never_cache
def kiosk_thank_you(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/kiosk_thank_you.html", {"crisis": _crisis(request)})


# ---------------------------------------------------------------------------------------------
# Staff: the chart's Questionnaires tab


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def chart_tab(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    role = request.user.staff_role
    may_rate = may(
        role,
        Permission.RATE_CLINICIAN_INSTRUMENT,
        on_care_team=request.user.pk in patient.care_team_ids(),
    )
    return render(
        request,
        "assessments/chart_tab.html",
        {
            "patient": patient,
            "sets": list(selectors.sets_for_patient(patient)),
            "now": timezone.now(),
            "tab": "questionnaires",
            "rated": [flow.definition(name) for name in sorted(flow.CLINICIAN_RATED)]
            if may_rate
            else [],
        },
    )


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def response_detail(
    request: AuthenticatedHttpRequest, patient: Patient, response_id: int
) -> HttpResponse:
    response = selectors.patient_response_or_404(patient, response_id)
    detail = selectors.open_response(user=request.user, response=response)
    return render(
        request,
        "assessments/response_detail.html",
        {"patient": patient, "detail": detail, "tab": "questionnaires"},
    )


@requires(Permission.SEND_QUESTIONNAIRES, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def send(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    """A link for the patient, or (the second button) this tablet handed to the patient."""
    hand_over = request.method == "POST" and "hand_over" in request.POST
    form = SendForm(request.POST or None, hand_over=hand_over)
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire_set, token = services.send_questionnaires(
                by=request.user,
                patient=patient,
                instruments=form.cleaned_data["instruments"],
                valid_for=dt.timedelta(days=form.cleaned_data.get("valid_days") or 7),
                kiosk=hand_over,
            )
        except InputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error("instruments" if field == "instruments" else None, error)
        else:
            if hand_over:
                start_kiosk(request, token)
                return redirect("assessments:kiosk")
            # Shown once: only the token's hash is kept, so this page is the only copy.
            link = request.build_absolute_uri(reverse("assessments:link", kwargs={"token": token}))
            return render(
                request,
                "assessments/sent.html",
                {"patient": patient, "link": link, "questionnaire_set": questionnaire_set},
            )
    return render(
        request,
        "assessments/send.html",
        {
            "patient": patient,
            "form": form,
            "kiosk_hours": int(services.KIOSK_VALIDITY.total_seconds() // 3600),
            "kiosk_idle_minutes": KIOSK_IDLE_SECONDS // 60,
        },
    )


@requires(Permission.RATE_CLINICIAN_INSTRUMENT, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def rate(request: AuthenticatedHttpRequest, patient: Patient, instrument: str) -> HttpResponse:
    """Every item of a clinician-rated instrument on one page, saved and scored in one go."""
    refusal = services.why_not_rated(instrument)
    if refusal is not None:
        return render(
            request,
            "assessments/rate_refused.html",
            {"patient": patient, "message": refusal, "tab": "questionnaires"},
            status=404,
        )
    definition = flow.definition(instrument)
    form = RatingForm(
        request.POST or None,
        definition=definition,
        initial={"rated_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            response = services.rate_instrument(
                by=request.user,
                patient=patient,
                instrument=instrument,
                answers=form.answers(),
                rated_at=form.cleaned_data["rated_at"],
            )
        except InputError as exc:
            form.add_service_errors(exc.errors)
        else:
            result = "" if response.total is None else f": total {response.total}"
            if response.severity:
                result += f", {response.severity}"
            messages.success(request, f"Rating saved. {definition.title}{result}.")
            return redirect("assessments:chart_tab", patient.pk)
    return render(
        request,
        "assessments/rate.html",
        {
            "patient": patient,
            "definition": definition,
            "form": form,
            "problems": [(item, field.errors) for item, field in form.items() if field.errors],
            "tab": "questionnaires",
        },
    )
