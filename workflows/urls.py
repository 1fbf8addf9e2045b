from django.urls import path, register_converter

from oversight.lists import calls as call_lists
from oversight.lists import inspections as inspection_lists
from oversight.lists import reports as report_lists

from . import api
from .converters import SerialConverter
from .views import (
    calls,
    dashboard,
    documents,
    experts,
    inbox,
    inspections,
    ledger_import,
    notices,
    overrides,
    panel,
    projects,
    recovery,
    reports,
    verify,
)
from .views import supervision as supervision_views
from .views.application_pdf import application_pdf
from .views.contract import contract_page, contract_pdf, report_achieved, save_terms

register_converter(SerialConverter, "serial")

urlpatterns = [
    path("", inbox.inbox_page, name="inbox"),
    path("calls/", call_lists.call_list, name="calls"),
    path("overview/", dashboard.dashboard_page, name="dashboard"),
    # A whole list of the overview, a page at a time (issue 10).
    path("overview/<slug:section>/", dashboard.section_page, name="dashboard-section"),
    path("calls/<int:pk>/apply/", calls.apply, name="apply"),
    path("projects/<int:pk>/", projects.project_page, name="project"),
    path("projects/<int:pk>/edit/", calls.edit_application, name="project-edit"),
    path("projects/<int:pk>/do/<slug:name>/", projects.do_action, name="project-action"),
    path("projects/<int:pk>/review/", experts.review, name="project-review"),
    path("projects/<int:pk>/funds/", projects.funds_page, name="project-funds"),
    path("projects/<int:pk>/override/", overrides.ask, name="override-ask"),
    path(
        "projects/<int:pk>/override/<int:override_id>/approve/",
        overrides.approve,
        name="override-approve",
    ),
    path("projects/<int:pk>/adjust/", projects.request_budget_adjustment, name="budget-adjust"),
    path("projects/<int:pk>/import/", ledger_import.import_expenditures, name="ledger-import"),
    path(
        "projects/<int:pk>/import/<int:job_id>/",
        ledger_import.import_job_page,
        name="ledger-import-job",
    ),
    path(
        "projects/<int:pk>/reports/<int:report_id>/submit/",
        projects.submit_progress_report,
        name="progress-report",
    ),
    path(
        "projects/<int:pk>/adjustments/<int:adjustment_id>/decide/",
        projects.decide_budget_adjustment,
        name="budget-adjust-decide",
    ),
    path("projects/<int:pk>/certificate.pdf", projects.certificate_pdf, name="certificate-pdf"),
    path(
        "projects/<int:pk>/certificate/revoke/",
        projects.revoke_certificate,
        name="certificate-revoke",
    ),
    # application form PDF (issue 8)
    path("projects/<int:pk>/application.pdf", application_pdf, name="application-pdf"),
    # the task contract (任务书, issue 8)
    path("projects/<int:pk>/contract/", contract_page, name="contract"),
    path("projects/<int:pk>/contract/terms/", save_terms, name="contract-terms"),
    path("projects/<int:pk>/contract/achieved/", report_achieved, name="contract-achieved"),
    path("projects/<int:pk>/contract/task-contract.pdf", contract_pdf, name="contract-pdf"),
    # recovery (追回) and the closing balance (结余, issue 9)
    path("projects/<int:pk>/recovery/refund/", recovery.refund, name="recovery-refund"),
    path("projects/<int:pk>/recovery/adjust/", recovery.adjust, name="recovery-adjust"),
    path("projects/<int:pk>/closing-balance/", recovery.balance, name="closing-balance"),
    path("verify/<serial:serial>/", verify.verify, name="verify"),
    path("notices/", notices.notice_list, name="notices"),
    # Public notice (issue 7): anyone objects; staff decide each objection.
    path("notices/<int:pk>/object/", notices.lodge, name="notice-object"),
    path(
        "projects/<int:pk>/objections/<int:objection_id>/decide/",
        notices.decide,
        name="objection-decide",
    ),
    # Acceptance panel (issue 7): staff draw, members vote, the PI answers the findings.
    path("projects/<int:pk>/panel/draw/", panel.draw_panel, name="panel-draw"),
    path("projects/<int:pk>/panel/vote/", panel.vote, name="panel-vote"),
    path("projects/<int:pk>/audit/answer/", panel.answer, name="findings-answer"),
    # Pool (issue 7): the expert's profile, the draw, declaring, declining, releasing.
    path("experts/profile/", experts.profile_page, name="expert-profile"),
    path("projects/<int:pk>/experts/draw/", experts.draw, name="experts-draw"),
    path("projects/<int:pk>/experts/pick/", experts.pick, name="experts-pick"),
    path("projects/<int:pk>/review/declare/", experts.declare, name="review-declare"),
    path("projects/<int:pk>/review/decline/", experts.decline, name="review-decline"),
    path("projects/<int:pk>/opinions/release/", experts.release, name="opinions-release"),
    path("inspections/", inspection_lists.inspection_list, name="inspections"),
    path("inspections/<int:pk>/", inspections.draw_page, name="inspection"),
    path(
        "inspections/<int:pk>/projects/<int:project_id>/",
        inspections.record,
        name="inspection-record",
    ),
    # documents (issue 8): the project's papers, their removal, voucher scans.
    path(
        "projects/<int:pk>/documents/",
        documents.upload_project_document,
        name="project-document-upload",
    ),
    path(
        "projects/<int:pk>/documents/<int:attachment_id>/remove/",
        documents.remove_project_document,
        name="project-document-remove",
    ),
    path(
        "projects/<int:pk>/audit-report/",
        documents.upload_audit_report,
        name="audit-report-upload",
    ),
    path(
        "projects/<int:pk>/funds/<int:expenditure_id>/scan/",
        documents.upload_voucher_scan,
        name="voucher-scan-upload",
    ),
    # third-party supervision over the whole course (issue 9)
    path("projects/<int:pk>/supervision/", supervision_views.supervision, name="supervision"),
    path(
        "projects/<int:pk>/supervision/appoint/",
        supervision_views.appoint,
        name="supervision-appoint",
    ),
    path(
        "projects/<int:pk>/supervision/<int:engagement_id>/end/",
        supervision_views.end,
        name="supervision-end",
    ),
    path("projects/<int:pk>/funds/months/", supervision_views.months, name="fund-months"),
    path(
        "projects/<int:pk>/supervision/checks/<int:check_id>/",
        supervision_views.fund_check,
        name="supervision-check",
    ),
    path(
        "projects/<int:pk>/supervision/findings/",
        supervision_views.raise_finding,
        name="finding-raise",
    ),
    path(
        "projects/<int:pk>/supervision/findings/<int:finding_id>/answer/",
        supervision_views.answer,
        name="finding-answer",
    ),
    path(
        "projects/<int:pk>/supervision/findings/<int:finding_id>/close/",
        supervision_views.close,
        name="finding-close",
    ),
    path(
        "projects/<int:pk>/supervision/findings/<int:finding_id>/reopen/",
        supervision_views.reopen,
        name="finding-reopen",
    ),
    path("projects/<int:pk>/funds/flags/", supervision_views.flags, name="supervision-flags"),
    path(
        "projects/<int:pk>/funds/flags.xlsx",
        supervision_views.flags_export,
        name="supervision-flags-export",
    ),
    path("reports/", report_lists.report_list, name="reports"),
    path("reports/<int:pk>/", reports.report_detail, name="report"),
    *api.urlpatterns,
]
