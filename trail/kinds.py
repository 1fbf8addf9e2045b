"""Every trail event type in one place (Hypha keeps its events the same way)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    # Lifecycle: one per transition kind; the transition name travels in `data`.
    PROJECT_CREATED = "project.created", _("Project created")
    PROJECT_EDITED = "project.edited", _("Project edited")
    PROJECT_TRANSITION = "project.transition", _("Project state changed")
    # Integrity
    VETO_CHECK = "integrity.veto_check", _("Veto check")
    VETO_OVERRIDE = "integrity.veto_override", _("Veto overridden")
    SANCTION_RECORDED = "integrity.sanction_recorded", _("Sanction recorded")
    SANCTION_REVOKED = "integrity.sanction_revoked", _("Sanction revoked")
    # Funding
    CALL_PUBLISHED = "funding.call_published", _("Call published")
    EXPERT_ASSIGNED = "funding.expert_assigned", _("Expert assigned")
    REVIEW_SUBMITTED = "funding.review_submitted", _("Expert review submitted")
    BUDGET_CUT = "funding.budget_cut", _("Budget line cut")
    DISBURSED = "funding.disbursed", _("Funds disbursed")
    EXPENDITURE_RECORDED = "funding.expenditure_recorded", _("Expenditure recorded")
    # Oversight
    AUDIT_APPOINTED = "oversight.audit_appointed", _("Audit firm appointed")
    AUDIT_OPINION = "oversight.audit_opinion", _("Audit opinion issued")
    CERTIFICATE_ISSUED = "oversight.certificate_issued", _("Certificate issued")
    CERTIFICATE_GENERATED = "oversight.certificate_generated", _("Certificate PDF generated")
    CERTIFICATE_REVOKED = "oversight.certificate_revoked", _("Certificate revoked")
