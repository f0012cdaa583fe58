"""The builder of an appraisal form's version: a draft's page for HR to edit, a published
(or retired) version's page for anyone who may read it, and publishing.

Reading goes through competencies.selectors (a draft answers 404 to anyone but HR);
changing is HR's (competencies.access.can_build_forms: any POST here answers 403 to
anyone else) through competencies.services, whose ValidationError answers a 400 that
shows the messages beside what was typed, and ConflictError a 409 that keeps what was
typed. Every builder POST carries the draft's ``version``: a page read before someone
else's save is refused, not merged.

The builder's one URL takes every change to a draft, named by ``action``:
``save`` (weights, scales, question wording), ``add_competency``,
``add_question``, ``move_competency:<row>:up|down``, ``remove_competency:<row>``,
the same three for questions, ``reorder_competencies`` / ``reorder_questions``
(``order`` = every row id, in the new order) and ``discard``. Moves and reorders
answer JSON to form_builder.js (``Accept: application/json``) and redirect otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from competencies import access, selectors, services
from competencies.forms.builder import AddCompetencyForm, AddQuestionForm, BuilderForm
from competencies.models import DialogueQuestion, FormCompetency, FormVersion
from core.access import deny_unless, requires
from core.errors import ConflictError
from core.forms import apply_service_errors
from core.inputs import id_or_none

STALE = (
    "Someone else changed this draft while you were editing it, so your change was not saved. "
    "What you typed is kept below, now based on their version: check it and save again."
)
STALE_ROW = "Someone else changed this draft since you opened it. Reload the page to see their changes."


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _posted_version(request: HttpRequest) -> int | None:
    return id_or_none(request.POST.get("version", ""))


def _messages_of(exc: ValidationError) -> dict[str, list[str]]:
    """A service's refusal by area of the page: ``general`` for what belongs to no field."""
    if not hasattr(exc, "error_dict"):
        return {"general": exc.messages}
    return {("general" if key == "__all__" else key): msgs for key, msgs in exc.message_dict.items()}


# ---------------------------------------------------------------- the builder


class Draft:
    """The builder's Django forms over what selectors.builder_content read."""

    def __init__(self, version: FormVersion, *, editing: bool) -> None:
        content = selectors.builder_content(version, editing=editing)
        self.version, self.rows, self.questions = content.version, content.rows, content.questions
        self.scales, self.available = content.scales, content.available

    def builder_form(self, data=None) -> BuilderForm:  # type: ignore[no-untyped-def]
        initial = BuilderForm.initial_for(self.version, self.rows, self.questions)
        return BuilderForm(data, initial=initial, rows=self.rows, questions=self.questions, scales=self.scales)

    def add_competency_form(self, data=None) -> AddCompetencyForm:  # type: ignore[no-untyped-def]
        left = 100 - sum(row.weight for row in self.rows)
        initial = {"version": self.version.version, "weight": left if 0 < left <= 100 else ""}
        return AddCompetencyForm(data, initial=initial, competencies=self.available, scales=self.scales)

    def add_question_form(self, data=None) -> AddQuestionForm:  # type: ignore[no-untyped-def]
        return AddQuestionForm(data, initial={"version": self.version.version})

    def kept(self, request: HttpRequest, action: str) -> dict[str, object]:
        """After a 409: the posted form as typed, now carrying the current version."""
        data = request.POST.copy()
        data["version"] = str(self.version.version)
        if action == "save":
            current = {k: str(v) for k, v in BuilderForm.initial_for(self.version, self.rows, self.questions).items()}
            return {"builder": self.builder_form({**current, **data.dict()})}
        if action == "add_competency":
            return {"add_competency": self.add_competency_form(data)}
        if action == "add_question":
            return {"add_question": self.add_question_form(data)}
        return {}


def _builder_page(
    request: HttpRequest,
    version: FormVersion,
    *,
    forms: dict[str, object] | None = None,
    errors: dict[str, list[str]] | None = None,
    errors_title: str = "",
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    can_build = access.can_build_forms(request.user)
    draft = Draft(version, editing=can_build and version.is_draft)
    version = draft.version
    editable = can_build and version.is_draft
    forms = forms or {}
    context: dict[str, object] = {
        "form": version.form,
        "version": version,
        "rows": draft.rows,
        "questions": draft.questions,
        "can_build": can_build,
        "editable": editable,
        "balance": selectors.version_balance(version),
        "errors": errors or {},
        "errors_title": errors_title,
        "conflict": conflict,
    }
    if editable:
        builder = forms.get("builder") or draft.builder_form()
        goals_weight, competencies_weight = (
            builder.typed_number("goals_weight"),
            builder.typed_number("competencies_weight"),
        )
        competency_total = sum(builder.typed_number(f"weight-{row.pk}") for row in draft.rows)
        context.update(
            totals={"sections": _total(goals_weight + competencies_weight), "competencies": _total(competency_total)},
            builder=builder,
            add_competency=forms.get("add_competency") or draft.add_competency_form(),
            add_question=forms.get("add_question") or draft.add_question_form(),
            problems=selectors.version_problems(version),
            typed_balance=selectors.balance_of(goals_weight, competencies_weight),
            first_row=draft.rows[0].pk if draft.rows else None,
            last_row=draft.rows[-1].pk if draft.rows else None,
            first_question=draft.questions[0].pk if draft.questions else None,
            last_question=draft.questions[-1].pk if draft.questions else None,
        )
    else:
        for row in draft.rows:  # a published version shows the wording it was published with
            row.display_name = (row.frozen or {}).get("name") or row.competency.name
        context.update(
            in_use=version.is_in_use(),
            draft_of_form=selectors.draft_of(version.form) if can_build and not version.is_draft else None,
        )
    return render(request, "competencies/appraisal_forms/builder.html", context, status=status)


def _total(value: int) -> dict[str, object]:
    state = "ok" if value == 100 else ("short" if value < 100 else "over")
    return {"value": value, "gap": abs(100 - value), "state": state}


def _refuse(request: HttpRequest, version: FormVersion, message: str, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    if status == 409:
        return _builder_page(request, version, conflict=message, status=status)
    title = "Nothing was changed"
    return _builder_page(request, version, errors={"general": [message]}, errors_title=title, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def version_builder(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    # Reading is for whoever may see the version; changing is HR's, whichever version is named.
    deny_unless(request.method == "GET" or access.can_build_forms(request.user), access.FORMS_ONLY_HR)
    form = selectors.get_form(user=request.user, pk=pk)
    version = selectors.get_version(user=request.user, form=form, number=number)
    if request.method == "GET":
        return _builder_page(request, version)
    action, _, target = request.POST.get("action", "save").partition(":")
    handler = ACTIONS.get(action)
    if handler is None:
        return _refuse(request, version, "That change is not one this page makes; reload it and try again.", 400)
    if not version.is_draft:
        # A published (or retired) version never changes: say so, change nothing.
        return _refuse(request, version, version.frozen_message(), 400)
    if _posted_version(request) is None:
        return _refuse(request, version, "The page did not say which version of the draft it shows; reload it.", 400)
    if _posted_version(request) != version.version:
        if _wants_json(request):
            return JsonResponse({"error": STALE_ROW}, status=409)
        draft = Draft(version, editing=True)
        return _builder_page(request, version, forms=draft.kept(request, action), conflict=STALE, status=409)
    try:
        return handler(request, version, target)
    except ConflictError:
        if _wants_json(request):
            return JsonResponse({"error": STALE_ROW}, status=409)
        draft = Draft(version, editing=True)
        return _builder_page(request, version, forms=draft.kept(request, action), conflict=STALE, status=409)


def _builder_url(version: FormVersion, anchor: str = "") -> str:
    url = reverse("competencies:version_builder", args=[version.form_id, version.number])
    return f"{url}#{anchor}" if anchor else url


def _save(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
    draft = Draft(version, editing=True)
    builder = draft.builder_form(request.POST)
    if not builder.is_valid():
        return _builder_page(request, version, forms={"builder": builder}, status=400)
    try:
        changed = _apply(request, draft.version, builder)
    except ValidationError as exc:
        return _builder_page(request, version, forms={"builder": builder}, errors=_messages_of(exc), status=400)
    messages.success(request, "Your changes were saved." if changed else "Nothing had changed, so nothing was saved.")
    return redirect(_builder_url(version))


def _apply(request: HttpRequest, version: FormVersion, builder: BuilderForm) -> bool:
    """Each part that changed, through its service, in one transaction: all of it is saved or none.

    The first service call checks the posted version; each later one the version the previous left.
    """
    data, user = builder.cleaned_data, request.user
    expected, changed = data["version"], False
    weights = builder.competency_weights()
    with transaction.atomic():
        sections = (data["goals_weight"], data["competencies_weight"])
        if sections != (version.goals_weight, version.competencies_weight) or any(
            row.weight != weights[row.pk] for row in builder.rows
        ):
            services.draft_set_weights(
                user=user,
                version=version,
                expected_version=expected,
                goals_weight=sections[0],
                competencies_weight=sections[1],
                competency_weights=weights,
            )
            expected, changed = version.version, True
        goals_scale = data["goals_scale"]
        if (goals_scale.pk if goals_scale else None) != version.goals_scale_id:
            services.draft_update(
                user=user, version=version, expected_version=expected, data={"goals_scale": goals_scale}
            )
            expected, changed = version.version, True
        for row in builder.rows:
            scale = data[f"scale-{row.pk}"]
            if scale.pk != row.scale_id:
                # The weight goes along: the row object still holds the one read before the save above.
                services.draft_update_competency(
                    user=user, version=version, expected_version=expected, row=row, weight=weights[row.pk], scale=scale
                )
                expected, changed = version.version, True
        for question in builder.questions:
            text = data[f"question-{question.pk}-text"].strip()
            help_text = data[f"question-{question.pk}-help"].strip()
            if (text, help_text) != (question.text, question.help_text):
                services.draft_update_question(
                    user=user,
                    version=version,
                    expected_version=expected,
                    question=question,
                    text=text,
                    help_text=help_text,
                )
                expected, changed = version.version, True
    return changed


def _add_competency(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
    draft = Draft(version, editing=True)
    form = draft.add_competency_form(request.POST)
    if form.is_valid():
        try:
            row = services.draft_add_competency(
                user=request.user,
                version=draft.version,
                expected_version=form.cleaned_data["version"],
                competency=form.cleaned_data["competency"],
                weight=form.cleaned_data["weight"],
                scale=form.cleaned_data["scale"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Added “{row.competency.name}” at {row.weight}%.")
            return redirect(_builder_url(version, f"competency-{row.pk}"))
    return _builder_page(request, version, forms={"add_competency": form}, status=400)


def _add_question(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
    draft = Draft(version, editing=True)
    form = draft.add_question_form(request.POST)
    if form.is_valid():
        try:
            question = services.draft_add_question(
                user=request.user,
                version=draft.version,
                expected_version=form.cleaned_data["version"],
                text=form.cleaned_data["text"],
                help_text=form.cleaned_data["help_text"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "The question was added at the end.")
            return redirect(_builder_url(version, f"question-{question.pk}"))
    return _builder_page(request, version, forms={"add_question": form}, status=400)


def _row_of(version: FormVersion, model: type[FormCompetency] | type[DialogueQuestion], raw: str):  # type: ignore[no-untyped-def]
    row = model.objects.select_related("version").filter(pk=id_or_none(raw) or 0).first()
    if row is None or row.version_id != version.pk:
        # Removed by someone else (their save bumped the version, so this is stale too) or never here.
        raise ConflictError(STALE_ROW)
    return row


def _row_name(row: FormCompetency | DialogueQuestion) -> str:
    return f"“{row.competency.name}”" if isinstance(row, FormCompetency) else "The question"


def _moved(request: HttpRequest, version: FormVersion, message: str, anchor: str, order: list[int]) -> HttpResponse:
    version.refresh_from_db(fields=["version"])
    if _wants_json(request):
        return JsonResponse({"version": version.version, "message": message, "order": order})
    messages.success(request, message)
    return redirect(_builder_url(version, anchor))


def _order(version: FormVersion, kind: str) -> list[int]:
    rows = version.competencies if kind == "competency" else version.questions
    return list(rows.order_by("order", "pk").values_list("pk", flat=True))


def _move(kind: str) -> Callable[[HttpRequest, FormVersion, str], HttpResponse]:
    model = FormCompetency if kind == "competency" else DialogueQuestion
    service = services.draft_move_competency if kind == "competency" else services.draft_move_question

    def handler(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
        raw, _, direction = target.partition(":")
        if direction not in ("up", "down"):
            return _refuse(request, version, "Move a row up or down.", 400)
        row = _row_of(version, model, raw)
        offset = -1 if direction == "up" else 1
        argument = {"row": row} if kind == "competency" else {"question": row}
        try:
            service(
                user=request.user, version=version, expected_version=_posted_version(request), offset=offset, **argument
            )
        except ValidationError as exc:
            return _refuse(request, version, " ".join(exc.messages), 400)
        order = _order(version, kind)
        position = order.index(row.pk) + 1
        message = f"{_row_name(row)} is now {position} of {len(order)}."
        return _moved(request, version, message, f"{kind}-{row.pk}", order)

    return handler


def _remove(kind: str) -> Callable[[HttpRequest, FormVersion, str], HttpResponse]:
    model = FormCompetency if kind == "competency" else DialogueQuestion
    service = services.draft_remove_competency if kind == "competency" else services.draft_remove_question

    def handler(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
        row = _row_of(version, model, target)
        argument = {"row": row} if kind == "competency" else {"question": row}
        try:
            service(user=request.user, version=version, expected_version=_posted_version(request), **argument)
        except ValidationError as exc:
            return _refuse(request, version, " ".join(exc.messages), 400)
        noun = f"“{row.competency.name}” was" if kind == "competency" else "The question was"
        messages.success(request, f"{noun} removed from the form.")
        return redirect(_builder_url(version, "competencies" if kind == "competency" else "questions"))

    return handler


def _reorder(kind: str) -> Callable[[HttpRequest, FormVersion, str], HttpResponse]:
    service = services.draft_reorder_competencies if kind == "competency" else services.draft_reorder_questions

    def handler(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
        raw = request.POST.getlist("order")
        if len(raw) == 1 and "," in raw[0]:
            raw = raw[0].split(",")
        if not all(value.strip().isdigit() for value in raw):
            return _refuse(
                request, version, "The new order lists rows that are not on this form; reload the page.", 400
            )
        ids = [int(value) for value in raw]
        argument = {"row_ids": ids} if kind == "competency" else {"question_ids": ids}
        try:
            service(user=request.user, version=version, expected_version=_posted_version(request), **argument)
        except ValidationError as exc:
            return _refuse(request, version, " ".join(exc.messages), 400)
        noun = "competencies" if kind == "competency" else "questions"
        return _moved(request, version, f"The {noun} are in their new order.", noun, _order(version, kind))

    return handler


def _discard(request: HttpRequest, version: FormVersion, target: str) -> HttpResponse:
    try:
        services.draft_discard(user=request.user, version=version, expected_version=_posted_version(request))
    except ValidationError as exc:
        return _refuse(request, version, " ".join(exc.messages), 400)
    messages.success(request, f"The draft (version {version.number}) was discarded.")
    return redirect("competencies:form_detail", pk=version.form_id)


ACTIONS: dict[str, Callable[[HttpRequest, FormVersion, str], HttpResponse]] = {
    "save": _save,
    "add_competency": _add_competency,
    "add_question": _add_question,
    "move_competency": _move("competency"),
    "move_question": _move("question"),
    "remove_competency": _remove("competency"),
    "remove_question": _remove("question"),
    "reorder_competencies": _reorder("competency"),
    "reorder_questions": _reorder("question"),
    "discard": _discard,
}


@requires(access.can_build_forms, access.FORMS_ONLY_HR)
@require_POST
def version_publish(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    form = selectors.get_form(user=request.user, pk=pk)
    version = selectors.get_version(user=request.user, form=form, number=number)
    try:
        services.form_publish(user=request.user, version=version, expected_version=_posted_version(request))
    except ValidationError as exc:
        title = "The draft was not published" if version.is_draft else "Nothing was changed"
        return _builder_page(request, version, errors=_messages_of(exc), errors_title=title, status=400)
    except ConflictError:
        return _builder_page(request, version, conflict=STALE_ROW, status=409)
    messages.success(
        request,
        f"Version {version.number} of “{form.name}” is published. New cycles use it; appraisals already made "
        "keep the version they were made with.",
    )
    return redirect("competencies:form_detail", pk=form.pk)
