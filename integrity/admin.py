"""The register in the admin: edits go through integrity.services, nothing is deleted.

Only the integrity officer records or edits a sanction, the same as on the pages; the
form shows what the service would refuse. Revocation (with a reason) and the record of
a rectification have their own pages; veto checks and overrides are records, read-only.
"""

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role, has_role
from trail.admin import ReadOnlyAdmin

from .models import Gate, Measure, Sanction, VetoCheck, VetoOverride
from .services import normalise_subject, record_sanction, sanction_problems

EDITABLE = (
    "subject_kind",
    "subject_id",
    "subject_name",
    "subject_unit",
    "severity",
    "measures",
    "gates",
    "decision_no",
    "reason",
    "starts_on",
    "ends_on",
    "under_appeal",
    "rectify_by",
)
# Changed only by their own services (revocation, enforcement, rectification) or once.
READ_ONLY = (
    "status",
    "rectified_on",
    "enforced_on",
    "revoked_reason",
    "revoked_at",
    "revoked_by",
    "recorded_by",
    "recorded_at",
)
# What sanction_problems reads; if one of these is already wrong it cannot judge.
RULE_INPUTS = ("severity", "measures", "gates", "starts_on", "ends_on", "rectify_by")


class SanctionForm(forms.ModelForm):
    acting_user = None  # set by SanctionAdmin.get_form

    # Room for a number typed with spaces or full-width digits; stored canonical.
    subject_id = forms.CharField(label=gettext_lazy("ID number or credit code"), max_length=40)
    measures = forms.MultipleChoiceField(
        label=gettext_lazy("measures"),
        choices=Measure.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    gates = forms.MultipleChoiceField(
        label=gettext_lazy("barred actions"),
        choices=Gate.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Sanction
        fields = EDITABLE

    def clean(self):
        cleaned = super().clean()
        if not has_role(self.acting_user, Role.INTEGRITY):
            self.add_error(None, _("Only the integrity officer keeps the register."))
        if self.instance.pk and self.instance.status == Sanction.Status.REVOKED:
            self.add_error(None, _("A revoked sanction cannot be changed."))
        kind, identity = cleaned.get("subject_kind"), cleaned.get("subject_id")
        if kind and identity:
            try:
                cleaned["subject_id"] = normalise_subject(kind, identity)
            except ValidationError as error:
                self.add_error("subject_id", error.messages)
        if any(field in self.errors for field in RULE_INPUTS):
            return cleaned
        candidate = copy.copy(self.instance)
        for field in RULE_INPUTS:
            setattr(candidate, field, cleaned.get(field))
        for field, messages in sanction_problems(candidate).items():
            self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    form = SanctionForm
    fields = (*EDITABLE, *READ_ONLY)
    readonly_fields = READ_ONLY
    list_display = ("subject_name", "subject_id", "severity", "starts_on", "ends_on", "status")
    list_filter = ("status", "severity")
    search_fields = ("subject_name", "subject_id", "decision_no")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    # The service refuses anyone else; the admin does not offer what would be refused.
    def has_add_permission(self, request):
        return has_role(request.user, Role.INTEGRITY) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == Sanction.Status.REVOKED:
            return False
        return has_role(request.user, Role.INTEGRITY) and super().has_change_permission(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoked with a reason on the register page, never deleted

    def save_model(self, request, obj, form, change):
        record_sanction(obj, request.user)


@admin.register(VetoCheck)
class VetoCheckAdmin(ReadOnlyAdmin):
    list_display = ("gate", "object_type", "object_id", "passed", "checked_by", "checked_at")
    list_filter = ("gate", "passed")


@admin.register(VetoOverride)
class VetoOverrideAdmin(ReadOnlyAdmin):
    list_display = ("gate", "object_type", "object_id", "sanction", "status", "requested_by")
    list_filter = ("gate", "status")
