"""The integrity officer's pages: misconduct cases from report to review."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.identity import mask_id_number
from accounts.roles import Role, has_role
from integrity.cases import case_steps, open_case, step_labels, take_step
from integrity.models import Gate, MisconductCase, Severity, SubjectKind
from trail.services import history_of

from .feedback import attempt


class CaseForm(forms.ModelForm):
    class Meta:
        model = MisconductCase
        fields = [
            "reporter",
            "respondent_kind",
            "respondent_id",
            "respondent_name",
            "misconduct",
            "allegation",
            "evidence",
        ]
        widgets = {
            "allegation": forms.Textarea(attrs={"rows": 3}),
            "evidence": forms.Textarea(attrs={"rows": 2}),
        }


class ReasonStep(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class RecordStep(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Finding, or the respondent's statement"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecideStep(forms.Form):
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), choices=Severity.choices)
    gates = forms.MultipleChoiceField(
        label=gettext_lazy("Barred actions"),
        choices=Gate.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    starts_on = forms.DateField(
        label=gettext_lazy("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("Ends on (empty: permanent)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    decision_no = forms.CharField(label=gettext_lazy("Decision number"), max_length=100)
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


STEP_FORMS = {"add_to_record": RecordStep, "decide": DecideStep, "accept": None}


def step_form(name: str, data=None):
    form_class = STEP_FORMS.get(name, ReasonStep)
    return form_class(data, prefix=name) if form_class else None


def _officer_only(request) -> None:
    if not has_role(request.user, Role.INTEGRITY):
        raise PermissionDenied


@login_required
def case_list(request):
    _officer_only(request)
    form = CaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = open_case(request.user, form.save(commit=False))
        except ValidationError as error:
            for field, errors in getattr(
                error, "message_dict", {"__all__": error.messages}
            ).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The case has been registered."))
            return redirect("case", pk=case.pk)
    cases = MisconductCase.objects.select_related("sanction")
    return render(request, "workflows/cases.html", {"cases": cases, "form": form})


@login_required
def case_page(request, pk: int):
    _officer_only(request)
    case = get_object_or_404(MisconductCase.objects.select_related("sanction"), pk=pk)
    labels = step_labels()
    steps = [
        {"name": t.slug, "label": t.label, "doc": t.func.__doc__, "form": step_form(t.slug)}
        for t in case_steps(case, request.user)
    ]
    return render(
        request,
        "workflows/case.html",
        {
            "case": case,
            # A person's number is shown masked: enough to recognise, not to copy.
            "respondent_number": mask_id_number(case.respondent_id)
            if case.respondent_kind == SubjectKind.PERSON
            else case.respondent_id,
            "steps": steps,
            "history": [
                {"event": e, "label": labels.get(e.data.get("step"), _("Report registered"))}
                for e in history_of(case)
            ],
        },
    )


@login_required
@require_POST
def case_step(request, pk: int, name: str):
    _officer_only(request)
    form = step_form(name, request.POST)
    if form is not None and not form.is_valid():
        messages.error(request, _("Please fill in the step's fields."))
        return redirect("case", pk=pk)
    attempt(
        request, lambda: take_step(pk, name, request.user, **(form.cleaned_data if form else {}))
    )
    return redirect("case", pk=pk)
