"""The integrity officer's pages: misconduct cases from report (or proposal) to review."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.identity import mask_id_number
from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from documents.attachments import MAX_NOTE_CHARS
from lists.pages import ListSpec, list_response
from trail.services import history_of

from ..case_forms import CaseForm, step_form
from ..cases import (
    case_steps,
    cases_waiting_for_officer,
    default_legal_basis,
    open_case,
    step_labels,
    take_step,
)
from ..evidence import attach_evidence, disclosed_ids, evidence_of
from ..evidence import step_labels as evidence_step_labels
from ..filters import CaseFilter
from ..letters import generate_letter
from ..models import Appeal, CaseStatus, MisconductCase, SubjectKind
from ..respondents import is_respondent, was_notified
from ..tables import CaseTable
from .feedback import FAILED, attempt

PROJECT_SOURCE = "funding.project"


class EvidenceForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Evidence file"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=MAX_NOTE_CHARS)
    disclose = forms.BooleanField(
        label=gettext_lazy("Disclose to the parties"),
        required=False,
        help_text=gettext_lazy(
            "The respondent sees a disclosed file from the notice of the hearing on. "
            "Leave unticked for anything that could identify the whistle-blower."
        ),
    )


def _officer_only(request) -> None:
    if not has_role(request.user, Role.INTEGRITY):
        raise PermissionDenied


CASES = ListSpec(
    title=gettext_lazy("Misconduct cases"),
    filterset_class=CaseFilter,
    table_class=CaseTable,
    export_name="cases",
    template="integrity/cases.html",
)


BOX_CAP = 20


@login_required
def case_list(request):
    """Every case to find, sort and export; the system's proposals and what waits for the
    officer above them; a report to register below (a refused one comes back as typed)."""
    _officer_only(request)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = attempt(
            request,
            lambda: open_case(request.user, form.save(commit=False)),
            _("The case has been registered."),
            form=form,
        )
        if case is not FAILED:
            return redirect("case", pk=case.pk)
    cases = MisconductCase.objects.select_related("hearing").order_by("-opened_at", "-pk")
    proposed = MisconductCase.objects.filter(status=CaseStatus.PROPOSED).order_by("opened_at")
    waiting = cases_waiting_for_officer()
    # The boxes above the list show the first few; the list below finds the rest.
    context = {
        "proposed": proposed[:BOX_CAP],
        "proposed_count": proposed.count(),
        "waiting": waiting[:BOX_CAP],
        "waiting_count": waiting.count(),
        "box_cap": BOX_CAP,
        "form": form,
    }
    return list_response(request, CASES, cases, context=context)


def _load_case(pk: int) -> MisconductCase:
    queryset = MisconductCase.objects.select_related("sanction", "letter", "hearing")
    return get_object_or_404(
        queryset.prefetch_related(Prefetch("appeals", queryset=Appeal.objects.order_by("pk"))),
        pk=pk,
    )


def _step_initial(case: MisconductCase, name: str) -> dict:
    if name == "decide":
        return {"legal_basis": default_legal_basis(case.misconduct)}
    return {}


def _render_case(
    request,
    case: MisconductCase,
    failed: tuple[str, object] | None = None,
    evidence_form: EvidenceForm | None = None,
):
    """The case page; `failed` is (step name, bound form) to show again with its errors,
    `evidence_form` a refused upload with what the officer chose."""
    labels = {**step_labels(), **evidence_step_labels()}
    steps = []
    for t in case_steps(case, request.user):
        if failed and failed[0] == t.slug:
            form, failed = failed[1], None
        else:
            form = step_form(t.slug, initial=_step_initial(case, t.slug))
        steps.append({"name": t.slug, "label": t.label, "form": form})
    if failed:  # the step is not offered now (say, a decision before the hearing): say why
        for errors in failed[1].errors.values():
            messages.error(request, " ".join(errors))
    hearing = getattr(case, "hearing", None)
    person = case.respondent_kind == SubjectKind.PERSON
    return render(
        request,
        "integrity/case.html",
        {
            "case": case,
            # A person's number is shown masked: enough to recognise, not to copy.
            "respondent_number": mask_id_number(case.respondent_id)
            if person
            else case.respondent_id,
            "hearing": hearing,
            "awaiting_hearing": case.status == CaseStatus.INVESTIGATING
            and not (hearing and hearing.heard),
            "lapse_possible_from": hearing.reply_by if hearing and not hearing.heard else None,
            "appeals": list(case.appeals.all()),
            "letter": getattr(case, "letter", None),
            "is_final": case.is_final(),
            "today": timezone.localdate(),
            "project_source": case.source_type == PROJECT_SOURCE,
            "steps": steps,
            # Each piece of evidence is a file of its own: all of them, not the latest.
            "evidence": evidence_of(case).select_related("uploaded_by"),
            "disclosed": disclosed_ids(case),
            "evidence_form": evidence_form or EvidenceForm(),
            "history": [
                {"event": e, "label": labels.get(e.data.get("step"), e.get_kind_display())}
                for e in history_of(case)
            ],
        },
    )


@login_required
def case_page(request, pk: int):
    _officer_only(request)
    return _render_case(request, _load_case(pk))


@login_required
@require_POST
def case_step(request, pk: int, name: str):
    """Take one step; a form with errors comes back with what the officer typed."""
    _officer_only(request)
    case = _load_case(pk)
    form = step_form(name, request.POST, initial=_step_initial(case, name))
    if form is not None and not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return _render_case(request, case, failed=(name, form))
    kwargs = form.cleaned_data if form is not None else {}
    done = attempt(request, lambda: take_step(pk, name, request.user, **kwargs), form=form)
    if done is FAILED and form is not None:
        # Refused on a field or as a whole (the message says why): the form as typed.
        if form.errors:
            messages.error(request, _("Please correct the fields below."))
        return _render_case(request, _load_case(pk), failed=(name, form))
    return redirect("case", pk=pk)


@login_required
@require_POST
def case_evidence(request, pk: int):
    """Attach evidence (证据材料) to the case; a refusal comes back on the form."""
    _officer_only(request)
    case = _load_case(pk)
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        done = attempt(
            request,
            lambda: attach_evidence(
                case, data["file"], request.user, note=data["note"], disclose=data["disclose"]
            ),
            _("The evidence has been attached."),
            form=form,
        )
        if done is not FAILED:
            return redirect("case", pk=pk)
    messages.error(request, _("The evidence was not attached; see the form below."))
    return _render_case(request, case, evidence_form=form)


@login_required
def case_letter(request, pk: int):
    """The decision letter as a PDF, for the integrity officer and the respondent it is
    served on (送达); anyone else is refused."""
    case = get_object_or_404(MisconductCase.objects.select_related("letter"), pk=pk)
    served = is_respondent(request.user, case) and was_notified(case)
    if not served:
        _officer_only(request)
    letter = getattr(case, "letter", None)
    if letter is None:
        raise Http404(_("This case has no decision letter."))
    if not letter.pdf:  # printing after the decision failed: print it now
        from documents.pdf import RenderError

        try:
            letter = generate_letter(letter.pk)
        except (RenderError, OSError):
            messages.error(request, _("The letter could not be printed now; try again later."))
            return redirect("case", pk=pk)
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="decision-letter-{case.pk}.pdf"'
    response["X-Content-SHA256"] = letter.sha256
    return response


urlpatterns = [
    path("cases/", case_list, name="cases"),
    path("cases/<int:pk>/", case_page, name="case"),
    path("cases/<int:pk>/do/<slug:name>/", case_step, name="case-step"),
    path("cases/<int:pk>/evidence/", case_evidence, name="case-evidence"),
    path("cases/<int:pk>/letter.pdf", case_letter, name="case-letter"),
]
