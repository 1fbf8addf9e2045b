"""Accounts in the admin: identities change only through accounts.services.

The forms read ID numbers and credit codes as people type them and refuse, on the
form, a change the services would refuse (role, reason). Accounts and organisations are
deactivated, never deleted: the trail and the register refer to them.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from trail.admin import ActingUserMixin

from .forms import AdminAccountCreationForm, AdminOrganisationForm, AdminUserChangeForm
from .models import Organisation, User
from .services import register_organisation, set_credit_code, set_id_number

# What only a superuser may grant: a role or admin rights could reach the register.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(Organisation)
class OrganisationAdmin(ActingUserMixin, admin.ModelAdmin):
    form = AdminOrganisationForm
    fields = ("name", "credit_code", "kind", "reason")
    list_display = ("name", "credit_code", "kind")
    search_fields = ("name", "credit_code")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("reason", "")
        if not change:
            register_organisation(obj, request.user, reason)
            return
        code = obj.credit_code
        obj.credit_code = Organisation.objects.get(pk=obj.pk).credit_code
        obj.save()
        set_credit_code(obj, code, request.user, reason)


@admin.register(User)
class UserAdmin(ActingUserMixin, BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminAccountCreationForm
    fieldsets = BaseUserAdmin.fieldsets + (
        (
            gettext_lazy("Identity"),
            {"fields": ("real_name", "id_number", "reason", "organisation")},
        ),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (
            gettext_lazy("Identity"),
            {"classes": ("wide",), "fields": ("real_name", "id_number", "organisation")},
        ),
    )
    list_display = ("username", "real_name", "organisation", "is_active")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not request.user.is_superuser:
            readonly += PRIVILEGE_FIELDS
        return readonly

    def has_change_permission(self, request, obj=None):
        # Only a superuser edits a superuser (or could take the account over).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        number = obj.id_number
        obj.id_number = User.objects.get(pk=obj.pk).id_number if change else ""
        super().save_model(request, obj, form, change)
        if number and number != obj.id_number:
            reason = form.cleaned_data.get("reason") or (
                "" if change else _("Entered when the account was created.")
            )
            set_id_number(obj, number, request.user, reason)
