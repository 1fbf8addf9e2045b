"""Every trail event type in one place (Hypha keeps its events the same way)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    # Lifecycle: every transition is one event; its name and effects travel in `data`
    # (disbursements, cuts, experts, audit firm, certificate serial).
    PROJECT_CREATED = "project.created", _("Project created")
    PROJECT_EDITED = "project.edited", _("Application revised")
    PROJECT_TRANSITION = "project.transition", _("Project state changed")
    # Integrity
    VETO_CHECK = "integrity.veto_check", _("Veto check")
    CASE_TRANSITION = "integrity.case", _("Misconduct case step")
    VETO_OVERRIDE = "integrity.veto_override", _("Veto override")
    SANCTION_RECORDED = "integrity.sanction_recorded", _("Sanction recorded")
    SANCTION_REVOKED = "integrity.sanction_revoked", _("Sanction revoked")
    SANCTION_ENFORCED = "integrity.sanction_enforced", _("Sanction took effect")
    # Rules and identities changed on any path (pages, admin, commands, API)
    IDENTITY_CHANGED = "accounts.identity_changed", _("Identity number changed")
    CALL_CHANGED = "funding.call_changed", _("Call rules changed")
    # Sign-in and access (issue 6): who may act, changed on any path
    PASSWORD_CHANGED = "accounts.password_changed", _("Password changed")
    TWO_FACTOR_CHANGED = "accounts.two_factor_changed", _("Two-factor sign-in changed")
    SIGN_IN_UNLOCKED = "accounts.sign_in_unlocked", _("Sign-in unlocked")
    API_TOKEN_ISSUED = "accounts.api_token_issued", _("API token issued")
    API_TOKEN_REVOKED = "accounts.api_token_revoked", _("API token revoked")
    # Funding
    REVIEW_SUBMITTED = "funding.review_submitted", _("Expert review submitted")
    BUDGET_ADJUSTMENT = "funding.budget_adjustment", _("Budget adjustment")
    EXPENDITURE_RECORDED = "funding.expenditure_recorded", _("Expenditure recorded")
    # Money by the rules (issue 9)
    RECOVERY_ASSESSED = "funding.recovery_assessed", _("Amount to recover assessed")
    REFUND_RECORDED = "funding.refund_recorded", _("Refund recorded")
    BALANCE_RECORDED = "funding.balance_recorded", _("Closing balance recorded")
    FLAG_ANNOTATED = "funding.flag_annotated", _("Fund-trail flag annotated")
    # Experts, reviews and the public notice (issue 7)
    EXPERT_PROFILE_CHANGED = "funding.expert_profile", _("Expert profile changed")
    EXPERTS_DRAWN = "funding.experts_drawn", _("Experts drawn")
    REVIEW_DECLINED = "funding.review_declined", _("Review declined")
    # The declaration opens the application to the expert: an access change.
    CONFLICT_DECLARED = "funding.conflict_declared", _("No conflict of interest declared")
    OPINIONS_RELEASED = "funding.opinions_released", _("Review opinions released")
    OBJECTION_LODGED = "funding.objection_lodged", _("Objection lodged")
    OBJECTION_DECIDED = "funding.objection_decided", _("Objection decided")
    # Documents (issue 8)
    DOCUMENT_ATTACHED = "documents.attached", _("Document attached")
    DOCUMENT_REMOVED = "documents.removed", _("Document removed")
    # Oversight
    PANEL_VERDICT = "oversight.panel_verdict", _("Panel member's verdict")
    FINDINGS_ANSWERED = "oversight.findings_answered", _("Audit findings answered")
    SUPERVISION_APPOINTED = "oversight.supervision_appointed", _("Supervision firm appointed")
    SUPERVISION_ENDED = "oversight.supervision_ended", _("Supervision engagement ended")
    FUND_CHECK = "oversight.fund_check", _("Periodic fund check")
    SUPERVISION_FINDING = "oversight.supervision_finding", _("Supervision finding")
    RECTIFICATION = "oversight.rectification", _("Rectification step")
    INSPECTION_DRAWN = "oversight.inspection_drawn", _("Random inspection drawn")
    INSPECTION_RESULT = "oversight.inspection_result", _("Inspection result recorded")
    PROGRESS_REPORT = "oversight.progress_report", _("Progress report submitted")
    CERTIFICATE_GENERATED = "oversight.certificate_generated", _("Certificate PDF generated")
    CERTIFICATE_REVOKED = "oversight.certificate_revoked", _("Certificate revoked")
    # Work plan (issue 11)
    TARGET_SET = "workplan.target_set", _("Yearly target set")
    ACTUAL_RECORDED = "workplan.actual_recorded", _("Monthly actual recorded")
    UPWARD_RECOMMENDATION = "workplan.upward_recommendation", _("Upward recommendation")
