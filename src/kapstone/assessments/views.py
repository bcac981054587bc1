"""Patient link pages (public: the token is the credential) and the staff's questionnaire tab."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from kapstone.assessments import flow, selectors, services
from kapstone.assessments.forms import QuestionForm, SendForm
from kapstone.assessments.models import QuestionnaireResponse, QuestionnaireSet
from kapstone.clinical.access import Permission
from kapstone.clinical.instruments import InstrumentDefinition, Item
from kapstone.errors import InputError
from kapstone.patients.models import Patient
from kapstone.web.authz import public, requires

# ---------------------------------------------------------------------------------------------
# The patient's link


def _refused(request: HttpRequest, exc: InputError) -> HttpResponse:
    message = exc.errors.get("token", [services.LINK_REFUSED])[0]
    return render(request, "assessments/link_refused.html", {"message": message}, status=404)


def _response(questionnaire_set: QuestionnaireSet, instrument: str) -> QuestionnaireResponse:
    response = questionnaire_set.responses.filter(instrument=instrument).first()
    if response is None:
        raise Http404("No such questionnaire in this link")
    return response


def _question_url(token: str, instrument: str, item: Item | None) -> str:
    if item is None:
        return reverse("assessments:review", kwargs={"token": token, "instrument": instrument})
    return reverse(
        "assessments:question", kwargs={"token": token, "instrument": instrument, "item": item.id}
    )


@public
@never_cache
def link_home(request: HttpRequest, token: str) -> HttpResponse:
    try:
        questionnaire_set = services.open_link(token=token, now=timezone.now())
    except InputError as exc:
        return _refused(request, exc)
    rows = [
        (row, _question_url(token, row.response.instrument, row.next_item))
        for row in selectors.link_progress(questionnaire_set)
    ]
    return render(
        request,
        "assessments/link_home.html",
        {"rows": rows, "expires_at": questionnaire_set.expires_at},
    )


@public
@never_cache
def resume(request: HttpRequest, token: str, instrument: str) -> HttpResponse:
    try:
        questionnaire_set = services.open_link(token=token, now=timezone.now())
    except InputError as exc:
        return _refused(request, exc)
    response = _response(questionnaire_set, instrument)
    if response.is_submitted:
        return redirect("assessments:link", token=token)
    definition = flow.definition(instrument)
    return redirect(
        _question_url(token, instrument, flow.resume_item(definition, response.answers))
    )


def _neighbours(
    definition: InstrumentDefinition, answers: dict, item: Item
) -> tuple[list[Item], int]:
    shown = flow.shown_items(definition, answers)
    return shown, [i.id for i in shown].index(item.id)


@public
@never_cache
@require_http_methods(["GET", "POST"])
def question(request: HttpRequest, token: str, instrument: str, item: str) -> HttpResponse:
    try:
        questionnaire_set = services.open_link(token=token, now=timezone.now())
    except InputError as exc:
        return _refused(request, exc)
    response = _response(questionnaire_set, instrument)
    if response.is_submitted:
        return redirect("assessments:link", token=token)
    definition = flow.definition(instrument)
    try:
        asked = definition.item(item)
    except KeyError as exc:
        raise Http404("No such question") from exc
    if not flow.is_shown(asked, response.answers):
        return redirect("assessments:resume", token=token, instrument=instrument)
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
            return redirect(_question_url(token, instrument, following))
    shown, index = _neighbours(definition, response.answers, asked)
    back = (
        _question_url(token, instrument, shown[index - 1])
        if index > 0
        else reverse("assessments:link", kwargs={"token": token})
    )
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
        },
    )


@public
@never_cache
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, token: str, instrument: str) -> HttpResponse:
    try:
        questionnaire_set = services.open_link(token=token, now=timezone.now())
    except InputError as exc:
        return _refused(request, exc)
    response = _response(questionnaire_set, instrument)
    if response.is_submitted:
        return redirect("assessments:link", token=token)
    definition = flow.definition(instrument)
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
                problems.append((number, text, _question_url(token, instrument, target)))
        else:
            questionnaire_set.refresh_from_db()
            if questionnaire_set.submitted_at is not None:
                return redirect("assessments:thank_you")
            messages.success(request, f"Thank you: {definition.title} is sent to your care team.")
            return redirect("assessments:link", token=token)
    rows = [
        (
            numbers[item.id],
            flow.wording(definition, item),
            flow.option_label(item, answers[item.id]) if item.id in answers else None,
            flow.is_required(item, answers),
            _question_url(token, instrument, item),
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
        },
    )


@public
@never_cache
def thank_you(request: HttpRequest) -> HttpResponse:
    return render(request, "assessments/thank_you.html")


# ---------------------------------------------------------------------------------------------
# Staff: the chart's Questionnaires tab


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def chart_tab(request: HttpRequest, patient_id: Patient) -> HttpResponse:
    patient = patient_id
    return render(
        request,
        "assessments/chart_tab.html",
        {
            "patient": patient,
            "sets": list(selectors.sets_for_patient(patient)),
            "now": timezone.now(),
            "tab": "questionnaires",
        },
    )


@requires(Permission.SEE_RESPONSES, patient_kwarg="patient_id")
def response_detail(request: HttpRequest, patient_id: Patient, response_id: int) -> HttpResponse:
    patient = patient_id
    response = get_object_or_404(
        QuestionnaireResponse.objects.select_related(
            "questionnaire_set__patient", "questionnaire_set__sent_by"
        ),
        pk=response_id,
        questionnaire_set__patient=patient,
    )
    detail = selectors.open_response(user=request.user, response=response)  # type: ignore[arg-type]
    return render(
        request,
        "assessments/response_detail.html",
        {"patient": patient, "detail": detail, "tab": "questionnaires"},
    )


@requires(Permission.SEND_QUESTIONNAIRES, patient_kwarg="patient_id")
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, patient_id: Patient) -> HttpResponse:
    patient = patient_id
    form = SendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire_set, token = services.send_questionnaires(
                by=request.user,  # type: ignore[arg-type]
                patient=patient,
                instruments=form.cleaned_data["instruments"],
                valid_for=dt.timedelta(days=form.cleaned_data["valid_days"]),
            )
        except InputError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error("instruments" if field == "instruments" else None, error)
        else:
            # Shown once: only the token's hash is kept, so this page is the only copy.
            link = request.build_absolute_uri(reverse("assessments:link", kwargs={"token": token}))
            return render(
                request,
                "assessments/sent.html",
                {"patient": patient, "link": link, "questionnaire_set": questionnaire_set},
            )
    return render(request, "assessments/send.html", {"patient": patient, "form": form})
