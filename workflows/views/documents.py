"""Documents on the project page and voucher scans on the fund trail (issue 8).

The rules of the file are documents.attachments'; who may attach or remove is decided
here and passed to it as `may`, so a refusal stores nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.roles import Role, has_role
from accounts.text import BoundedFormMixin
from documents.access import allowed_of
from documents.attachments import (
    MAX_NOTE_CHARS,
    attach,
    current_documents,
    current_documents_of,
    remove,
)
from documents.kinds import KINDS, PROJECT
from documents.models import Attachment
from funding.calls import document_checklist
from funding.models import Expenditure
from funding.services import EDITABLE_STATES
from funding.states import ProjectStatus
from oversight.access import can_see_fund_trail
from oversight.services import current_engagement

from . import projects  # a cycle: projects' page shows these sections
from .feedback import FAILED, attempt

FORM_KEY = "document_form"  # the refused upload form, handed back through `typed`
AUDIT_REPORT_KEY = "audit_report_form"  # likewise, the lead auditor's refused report


def project_kinds() -> list[tuple[str, str]]:
    return [(slug, kind.label) for slug, kind in KINDS.items() if PROJECT in kind.owners]


class ProjectDocumentForm(BoundedFormMixin, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=project_kinds)
    file = forms.FileField(label=gettext_lazy("File"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=MAX_NOTE_CHARS)


class VoucherScanForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Scan"))


class AuditReportForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(label=gettext_lazy("Audit report (PDF)"))


# Once the project runs the PI attaches only the papers of its acceptance.
REPORT_KINDS = ("tech_report", "acceptance_material")
REPORTING_STATES = (ProjectStatus.IN_PROGRESS, ProjectStatus.RECONSIDERATION)


def project_document_form(user, project, data=None, files=None) -> ProjectDocumentForm:
    """The upload form, offering only the kinds `user` may attach now."""
    form = ProjectDocumentForm(data, files)
    if not has_role(user, Role.STAFF) and project.status not in EDITABLE_STATES:
        field = form.fields["kind"]
        field.choices = [(slug, label) for slug, label in field.choices if slug in REPORT_KINDS]
    return form


# --- who may ------------------------------------------------------------------------------


def may_attach_to_project(user, project, kind: str = "") -> bool:
    """The PI while the application is editable, and the acceptance papers (the full tech
    report) while the project runs or is reconsidered; staff at any time."""
    if has_role(user, Role.STAFF):
        return True
    if user.pk != project.pi_id:
        return False
    if project.status in EDITABLE_STATES:
        return True
    return project.status in REPORTING_STATES and (not kind or kind in REPORT_KINDS)


def may_attach_audit_report(user, engagement, kind: str = "") -> bool:
    """The appointed lead auditor, while the project is under audit."""
    return (
        user.pk == engagement.lead_auditor_id
        and engagement.project.status == ProjectStatus.UNDER_AUDIT
    )


def audit_engagement_for(user, project):
    """The engagement whose report `user` may attach now, or None."""
    if project.status != ProjectStatus.UNDER_AUDIT:
        return None
    engagement = current_engagement(project)
    if engagement is None or not may_attach_audit_report(user, engagement):
        return None
    return engagement


def may_remove(user, attachment: Attachment) -> bool:
    return user.pk == attachment.uploaded_by_id or has_role(user, Role.STAFF)


def may_attach_scan(user, expenditure: Expenditure, kind: str = "") -> bool:
    return user.pk == expenditure.project.pi_id


# --- page sections ------------------------------------------------------------------------


def document_rows(owner, user) -> list[dict]:
    """Each current document with its earlier versions, and whether `user` may remove it."""
    versions: dict[str, list[Attachment]] = {}  # one query for every kind's versions
    for version in Attachment.objects.of(owner).order_by("-version"):
        versions.setdefault(version.kind, []).append(version)
    shown = allowed_of(user, owner, current_documents(owner).order_by("kind"))
    return [
        {
            "doc": doc,
            "earlier": [v for v in versions.get(doc.kind, []) if v.pk != doc.pk],
            "can_remove": may_remove(user, doc),
        }
        for doc in shown  # only what the user may open (an application reviewer: no audit)
    ]


def documents_section(request, project, typed: dict) -> dict:
    """The project page's documents: the list, the checklist, the upload form."""
    user = request.user
    can_upload = may_attach_to_project(user, project)
    form = typed.get(FORM_KEY) or (project_document_form(user, project) if can_upload else None)
    shows_checklist = user.pk == project.pi_id or has_role(user, Role.STAFF)
    engagement = audit_engagement_for(user, project)
    return {
        "documents": document_rows(project, user),
        "document_form": form if can_upload else None,
        "document_checklist": document_checklist(project) if shows_checklist else [],
        "removal_typed": typed.get("removal") or {},
        # The lead auditor's report on the engagement, attached before the opinion.
        "audit_reports": document_rows(engagement, user) if engagement else [],
        "audit_report_form": (typed.get(AUDIT_REPORT_KEY) or AuditReportForm())
        if engagement
        else None,
    }


def voucher_scans_section(request, project, entries=None) -> dict:
    """The fund trail's voucher scans: each expenditure's current scans (one query for all
    the rows shown), a form for the PI. `entries`: the rows shown (default: all)."""
    is_pi = request.user.pk == project.pi_id
    entries = list(project.expenditures.all() if entries is None else entries)
    scans = current_documents_of(entries, "voucher_scan")
    return {
        "scan_rows": [{"entry": entry, "scans": scans[entry.pk]} for entry in entries],
        "scan_form": VoucherScanForm() if is_pi else None,
    }


# --- actions ------------------------------------------------------------------------------


@login_required
@require_POST
def upload_project_document(request, pk: int):
    project = projects.visible_project(request, pk)
    if not may_attach_to_project(request.user, project):
        raise PermissionDenied
    form = project_document_form(request.user, project, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        done = attempt(
            request,
            lambda: attach(
                project,
                data["kind"],
                data["file"],
                request.user,
                note=data["note"],
                may=may_attach_to_project,
            ),
            _("The document has been attached."),
            form=form,
        )
        if done is not FAILED:
            return redirect("project", pk=pk)
    messages.error(request, _("The document was not attached; see the form below."))
    return projects.render_project(request, project, typed={FORM_KEY: form})


def file_problem(form, nothing_chosen: str) -> str:
    """What is wrong with the file (empty, too long a name), or that none was chosen."""
    if "file" in form.files:
        return " ".join(form.errors.get("file", [])) or nothing_chosen
    return nothing_chosen


@login_required
@require_POST
def upload_audit_report(request, pk: int):
    project = projects.visible_project(request, pk)
    engagement = audit_engagement_for(request.user, project)
    if engagement is None:
        raise PermissionDenied
    form = AuditReportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, file_problem(form, _("Choose the audit report to attach.")))
    else:
        done = attempt(
            request,
            lambda: attach(
                engagement,
                "audit_report",
                form.cleaned_data["file"],
                request.user,
                may=may_attach_audit_report,
            ),
            _("The audit report has been attached."),
        )
        if done is not FAILED:
            return redirect("project", pk=pk)
    # The page again (status 200) with the form and why; a file field is never refilled.
    return projects.render_project(request, project, typed={AUDIT_REPORT_KEY: form})


@login_required
@require_POST
def remove_project_document(request, pk: int, attachment_id: int):
    project = projects.visible_project(request, pk)
    attachment = get_object_or_404(Attachment.objects.of(project).present(), pk=attachment_id)
    reason = request.POST.get("reason", "")
    done = attempt(
        request,
        lambda: remove(
            attachment,
            request.user,
            reason,
            may=lambda user, owner, kind: may_remove(user, attachment),
        ),
        _("The document has been removed."),
    )
    if done is FAILED:
        typed = {"removal": {"id": attachment.pk, "reason": reason}}
        return projects.render_project(request, projects.visible_project(request, pk), typed=typed)
    return redirect("project", pk=pk)


@login_required
@require_POST
def upload_voucher_scan(request, pk: int, expenditure_id: int):
    project = projects.visible_project(request, pk)
    if not can_see_fund_trail(request.user, project):
        raise PermissionDenied
    entry = get_object_or_404(project.expenditures.all(), pk=expenditure_id)
    form = VoucherScanForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, file_problem(form, _("Choose the scan to attach.")))
    else:
        done = attempt(
            request,
            lambda: attach(
                entry, "voucher_scan", form.cleaned_data["file"], request.user, may=may_attach_scan
            ),
            _("The scan has been attached to voucher %(no)s.") % {"no": entry.voucher_no},
        )
        if done is not FAILED:
            return redirect("project-funds", pk=pk)
    # The fund trail again (status 200) with why; a file field is never refilled.
    return projects.funds_as_typed(request, project)
