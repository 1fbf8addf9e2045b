"""The register in the admin: edits go through integrity.services, nothing is deleted.

Only the integrity officer records or edits a sanction, the same as on the pages; the
form shows what the service would refuse. Revocation (with a reason) and the record of
a rectification have their own pages; veto checks and overrides are records, read-only.
"""

from django.contrib import admin
from django.utils.translation import gettext as _

from accounts.roles import Role, has_role
from trail.admin import ActingUserMixin, ReadOnlyAdmin

from .forms import SanctionForm
from .models import Sanction, VetoCheck, VetoOverride
from .services import record_sanction

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


class SanctionAdminForm(SanctionForm):
    """The register page's form, plus the appeal flag, refusing what the service would."""

    acting_user = None  # set by ActingUserMixin

    class Meta(SanctionForm.Meta):
        fields = [*SanctionForm.Meta.fields, "under_appeal"]

    def clean(self):
        cleaned = super().clean()
        if not has_role(self.acting_user, Role.INTEGRITY):
            self.add_error(None, _("Only the integrity officer keeps the register."))
        if self.instance.pk and self.instance.status == Sanction.Status.REVOKED:
            self.add_error(None, _("A revoked sanction cannot be changed."))
        return cleaned


@admin.register(Sanction)
class SanctionAdmin(ActingUserMixin, admin.ModelAdmin):
    form = SanctionAdminForm
    fields = (*SanctionAdminForm.Meta.fields, *READ_ONLY)
    readonly_fields = READ_ONLY
    list_display = ("subject_name", "subject_id", "severity", "starts_on", "ends_on", "status")
    list_filter = ("status", "severity")
    search_fields = ("subject_name", "subject_id", "decision_no")

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
