"""Third-party supervision over the whole course (issue 9): staff appoint and end the
engagement; the firm records fund checks on the month-by-month view, findings and
rectification requests, closes or reopens them, annotates red flags and exports the
vouchers; the unit answers a rectification with evidence.

The rules are oversight's (supervision_engagements, findings, flag_notes); these pages
only say who sees which page: the firm's assigned auditors only while their engagement
runs (oversight.access), the unit and the PI their own project's findings, staff all.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.forms import IsoDateInput
from accounts.models import Organisation, User
from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from documents.models import Attachment
from funding.fund_months import fund_months
from oversight import findings as rules
from oversight import flag_notes
from oversight import supervision_engagements as engagements
from oversight.access import can_see_fund_trail
from oversight.models import AuditEngagement, FlagNote, FundCheck, SupervisionFinding

from .feedback import FAILED, attempt
from .projects import visible_project


def _auditors():
    return User.objects.filter(groups__name=Role.AUDITOR.value, is_active=True).order_by("pk")


class AppointForm(BoundedFormMixin, forms.Form):
    firm = forms.ModelChoiceField(
        label=gettext_lazy("Audit firm"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.AUDIT_FIRM),
    )
    lead_auditor = forms.ModelChoiceField(label=gettext_lazy("Lead auditor"), queryset=_auditors())
    staff = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Other auditors of the firm assigned"),
        queryset=_auditors(),
        required=False,
    )


class ReasonForm(BoundedFormMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=engagements.MAX_REASON_CHARS)


class CheckForm(BoundedFormMixin, forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("What the check found"), widget=forms.Textarea(attrs={"rows": 3})
    )


class FindingForm(BoundedFormMixin, forms.Form):
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity"), choices=SupervisionFinding.Severity.choices
    )
    text = forms.CharField(label=gettext_lazy("Finding"), widget=forms.Textarea(attrs={"rows": 3}))
    rectify_by = forms.DateField(
        label=gettext_lazy("Rectify by (a rectification request to the unit; empty: none)"),
        required=False,
        widget=IsoDateInput(),
    )
    fund_check = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AnswerForm(BoundedFormMixin, forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What was rectified"), widget=forms.Textarea(attrs={"rows": 3})
    )


class CloseForm(BoundedFormMixin, forms.Form):
    note = forms.CharField(label=gettext_lazy("Note (optional)"), required=False, max_length=500)


class ReopenForm(BoundedFormMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why it is reopened"), max_length=500)
    rectify_by = forms.DateField(
        label=gettext_lazy("New deadline (optional)"),
        required=False,
        widget=IsoDateInput(),
    )


class AnnotateForm(BoundedFormMixin, forms.Form):
    code = forms.CharField(max_length=40, widget=forms.HiddenInput)
    voucher_no = forms.CharField(max_length=50, widget=forms.HiddenInput)
    verdict = forms.ChoiceField(label=gettext_lazy("Verdict"), choices=FlagNote.Verdict.choices)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=flag_notes.MAX_NOTE_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Severity (when a finding is raised)"),
        choices=[("", "—"), *SupervisionFinding.Severity.choices],
        required=False,
    )


# --- who sees what ------------------------------------------------------------------------


def _project_for_findings(request, pk: int):
    project = visible_project(request, pk)
    if not rules.can_see_findings(request.user, project):
        raise PermissionDenied
    return project


def _finding(project, finding_id: int) -> SupervisionFinding:
    return get_object_or_404(SupervisionFinding, pk=finding_id, engagement__project=project)


def _evidence(answers) -> dict[int, list[Attachment]]:
    """Each answer's evidence files, in one query."""
    files: dict[int, list[Attachment]] = {}
    ids = [str(a.pk) for a in answers]
    for doc in Attachment.objects.filter(
        owner_type__app_label="oversight",
        owner_type__model="rectificationanswer",
        owner_id__in=ids,
        removed_at__isnull=True,
    ).order_by("version"):
        files.setdefault(int(doc.owner_id), []).append(doc)
    return files


def supervision_page(request, pk: int, typed: dict | None = None):
    """The engagement, its fund checks and findings; `typed`: a refused form as typed."""
    project = _project_for_findings(request, pk)
    typed = typed or {}
    user = request.user
    is_staff = has_role(user, Role.STAFF)
    running = engagements.running_engagement(project)
    mine = engagements.running_engagement_of(user, project)
    findings = list(rules.findings_shown_to(user, project).prefetch_related("answers"))
    answers = [a for f in findings for a in f.answers.all()]
    evidence = _evidence(answers)
    unit = rules.answers_for_unit(user, project)
    today = timezone.localdate()
    rows = []
    for f in findings:
        rows.append(
            {
                "finding": f,
                "answers": [(a, evidence.get(a.pk, [])) for a in f.answers.all()],
                "overdue": f.status == SupervisionFinding.Status.OPEN
                and f.rectify_by is not None
                and f.rectify_by < today,
                "answer_form": (typed.get(("answer", f.pk)) or AnswerForm(prefix=f"answer-{f.pk}"))
                if unit
                and f.is_rectification
                and f.status == SupervisionFinding.Status.OPEN
                and f.engagement.ended_at is None
                else None,
                "close_form": (typed.get(("close", f.pk)) or CloseForm(prefix=f"close-{f.pk}"))
                if mine is not None
                and f.engagement_id == mine.pk
                and f.status != SupervisionFinding.Status.CLOSED
                else None,
                "reopen_form": (typed.get(("reopen", f.pk)) or ReopenForm(prefix=f"reopen-{f.pk}"))
                if mine is not None
                and f.engagement_id == mine.pk
                and f.status != SupervisionFinding.Status.OPEN
                else None,
            }
        )
    can_appoint = (
        is_staff
        and running is None
        and project.status in engagements.APPOINTABLE_STATES
        and engagements.supervision_required(project)
    )
    shown = project.audits.select_related("firm", "lead_auditor").prefetch_related("staff")
    if not any(has_role(user, r) for r in (Role.STAFF, Role.LEADER, Role.INTEGRITY)):
        shown = shown.filter(pk=mine.pk) if mine is not None else shown.filter(whole_course=True)
    return render(
        request,
        "workflows/supervision.html",
        {
            "project": project,
            "engagements": [(e, engagements.assigned(e)) for e in shown.order_by("pk")],
            "running": running,
            "mine": mine,
            "checks": FundCheck.objects.filter(engagement=mine).order_by("due_on")
            if mine is not None
            else FundCheck.objects.filter(engagement__project=project).order_by("due_on")
            if is_staff
            else [],
            "rows": rows,
            "can_see_funds": can_see_fund_trail(user, project),
            "flags_link": can_see_fund_trail(user, project)
            and (mine is not None or has_role(user, Role.STAFF) or has_role(user, Role.LEADER)),
            "threshold": engagements.threshold(),
            "required": engagements.supervision_required(project),
            "appoint_form": (typed.get("appoint") or AppointForm()) if can_appoint else None,
            "end_form": (typed.get("end") or ReasonForm(prefix="end"))
            if is_staff and running is not None
            else None,
            "finding_form": (typed.get("finding") or FindingForm(prefix="finding"))
            if mine is not None
            else None,
        },
    )


@login_required
def supervision(request, pk: int):
    return supervision_page(request, pk)


# --- staff: appoint and end ---------------------------------------------------------------


@login_required
@require_POST
def appoint(request, pk: int):
    project = _project_for_findings(request, pk)
    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied
    form = AppointForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return supervision_page(request, pk, typed={"appoint": form})
    data = form.cleaned_data
    done = attempt(
        request,
        lambda: engagements.appoint_supervision(
            project, data["firm"], data["lead_auditor"], list(data["staff"]), request.user
        ),
        _("The supervision firm has been appointed."),
    )
    if done is FAILED:
        return supervision_page(request, pk, typed={"appoint": form})
    return redirect("supervision", pk=pk)


@login_required
@require_POST
def end(request, pk: int, engagement_id: int):
    project = _project_for_findings(request, pk)
    if not has_role(request.user, Role.STAFF):
        raise PermissionDenied
    engagement = get_object_or_404(AuditEngagement, pk=engagement_id, project=project)
    form = ReasonForm(request.POST, prefix="end")
    if not form.is_valid():
        messages.error(request, _("Please give a reason."))
        return supervision_page(request, pk, typed={"end": form})
    done = attempt(
        request,
        lambda: engagements.end_engagement(engagement, request.user, form.cleaned_data["reason"]),
        _("The engagement has ended; its auditors no longer see the project's funds."),
    )
    if done is FAILED:
        return supervision_page(request, pk, typed={"end": form})
    return redirect("supervision", pk=pk)


# --- the month-by-month view and the fund checks ------------------------------------------


def _funds_project(request, pk: int):
    project = visible_project(request, pk)
    if not can_see_fund_trail(request.user, project):
        raise PermissionDenied
    return project


@login_required
def months(request, pk: int):
    project = _funds_project(request, pk)
    return render(
        request,
        "workflows/supervision_months.html",
        {"project": project, "months": fund_months(project)},
    )


@login_required
def fund_check(request, pk: int, check_id: int):
    project = _funds_project(request, pk)
    check = get_object_or_404(FundCheck, pk=check_id, engagement__project=project)
    mine = engagements.running_engagement_of(request.user, project)
    may_record = mine is not None and mine.pk == check.engagement_id and not check.recorded_at
    form = CheckForm(request.POST or None) if may_record else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            done = attempt(
                request,
                lambda: engagements.record_fund_check(
                    check, request.user, form.cleaned_data["summary"]
                ),
                _("The fund check has been recorded."),
                form=form,
            )
            if done is not FAILED:
                return redirect("supervision-check", pk=pk, check_id=check.pk)
        else:
            messages.error(request, _("Please correct the fields below."))
    return render(
        request,
        "workflows/supervision_check.html",
        {
            "project": project,
            "check": check,
            "months": fund_months(project),
            "form": form,
            "finding_form": FindingForm(prefix="finding", initial={"fund_check": check.pk})
            if mine is not None and mine.pk == check.engagement_id
            else None,
            "findings": check.findings.all(),
        },
    )


# --- findings and rectification -----------------------------------------------------------


@login_required
@require_POST
def raise_finding(request, pk: int):
    project = _project_for_findings(request, pk)
    form = FindingForm(request.POST, prefix="finding")
    if not form.is_valid():
        messages.error(request, _("Please correct the fields below."))
        return supervision_page(request, pk, typed={"finding": form})
    data = form.cleaned_data
    check = None
    if data.get("fund_check"):
        check = FundCheck.objects.filter(pk=data["fund_check"], engagement__project=project).first()
    done = attempt(
        request,
        lambda: rules.raise_finding(
            project, request.user, data["severity"], data["text"], data["rectify_by"], check
        ),
        _("The finding has been recorded."),
        form=form,
    )
    if done is FAILED:
        return supervision_page(request, pk, typed={"finding": form})
    return redirect("supervision", pk=pk)


@login_required
@require_POST
def answer(request, pk: int, finding_id: int):
    project = _project_for_findings(request, pk)
    finding = _finding(project, finding_id)
    form = AnswerForm(request.POST, prefix=f"answer-{finding.pk}")
    if not form.is_valid():
        messages.error(request, _("Write what was rectified."))
        return supervision_page(request, pk, typed={("answer", finding.pk): form})
    files = request.FILES.getlist(f"answer-{finding.pk}-evidence")
    done = attempt(
        request,
        lambda: rules.answer_rectification(finding, request.user, form.cleaned_data["text"], files),
        _("Your answer has been sent to the supervision firm."),
    )
    if done is FAILED:
        return supervision_page(request, pk, typed={("answer", finding.pk): form})
    return redirect("supervision", pk=pk)


def _firm_step(request, pk: int, finding_id: int, step: str, form_class, act, success: str):
    """Close or reopen: the firm's step on one finding, its form kept as typed when refused.
    A refusal goes into a message: the form may no longer be shown (the finding's status
    changed meanwhile)."""
    project = _project_for_findings(request, pk)
    finding = _finding(project, finding_id)
    form = form_class(request.POST, prefix=f"{step}-{finding.pk}")
    if form.is_valid():
        if attempt(request, lambda: act(finding, form.cleaned_data), success) is not FAILED:
            return redirect("supervision", pk=pk)
    else:
        messages.error(request, _("Please correct the fields below."))
    return supervision_page(request, pk, typed={(step, finding.pk): form})


@login_required
@require_POST
def close(request, pk: int, finding_id: int):
    return _firm_step(
        request,
        pk,
        finding_id,
        "close",
        CloseForm,
        lambda f, data: rules.close_finding(f, request.user, data["note"]),
        _("The finding has been closed."),
    )


@login_required
@require_POST
def reopen(request, pk: int, finding_id: int):
    return _firm_step(
        request,
        pk,
        finding_id,
        "reopen",
        ReopenForm,
        lambda f, data: rules.reopen_finding(f, request.user, data["reason"], data["rectify_by"]),
        _("The finding has been reopened."),
    )


# --- red flags: annotate and export -------------------------------------------------------


def _flags_project(request, pk: int):
    """Staff and the leader, and the auditors of a running engagement, while it runs."""
    project = _funds_project(request, pk)
    deciders = any(has_role(request.user, r) for r in (Role.STAFF, Role.LEADER))
    if not deciders and engagements.running_engagement_of(request.user, project) is None:
        raise PermissionDenied
    return project


@login_required
def flags(request, pk: int):
    project = _flags_project(request, pk)
    may_annotate = engagements.running_engagement_of(request.user, project) is not None
    failed = None
    if request.method == "POST":
        if not may_annotate:
            raise PermissionDenied
        form = AnnotateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            done = attempt(
                request,
                lambda: flag_notes.annotate_flag(
                    project,
                    request.user,
                    data["code"],
                    data["voucher_no"],
                    data["verdict"],
                    data["note"],
                    data["severity"],
                ),
                _("The flag has been annotated."),
            )
            if done is not FAILED:
                return redirect("supervision-flags", pk=pk)
        else:
            messages.error(request, _("Please correct the fields below."))
        failed = form
    rows, n = [], 0
    for row in flag_notes.flagged_vouchers(project):
        items = []
        for flag, note in row.items():
            form, n = None, n + 1
            if may_annotate:
                same = (
                    failed is not None
                    and failed.data.get("code") == flag.kind
                    and failed.data.get("voucher_no") == row.voucher.voucher_no
                )
                initial = {"code": flag.kind, "voucher_no": row.voucher.voucher_no}
                if note is not None:
                    initial.update(verdict=note.verdict, note=note.note)
                form = failed if same else AnnotateForm(initial=initial)
                form.auto_id = f"id_flag{n}_%s"  # one form per flag: ids apart, names alike
            items.append({"flag": flag, "note": note, "form": form})
        rows.append({"voucher": row.voucher, "items": items})
    return render(request, "workflows/supervision_flags.html", {"project": project, "rows": rows})


@login_required
def flags_export(request, pk: int):
    project = _flags_project(request, pk)
    name = f"fund-trail-flags-{project.pk}.xlsx"
    return FileResponse(
        flag_notes.export_workbook(project),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
