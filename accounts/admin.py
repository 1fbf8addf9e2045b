"""Accounts in the admin: identities change only through accounts.services.

The forms read ID numbers and credit codes as people type them and refuse, on the
form, a change the services would refuse (role, reason). Accounts and organisations are
deactivated, never deleted: the trail and the register refer to them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from trail.admin import ActingUserMixin
from trail.kinds import EventKind
from trail.services import record

from . import (
    admin_lockouts,  # noqa: F401  (axes' attempts, deletions journaled)
    admin_two_factor,  # noqa: F401  (devices change only on journaled pages)
)
from .api_tokens import (
    TOKEN_PREFIX,
    ApiScope,
    ApiToken,
    check_issue,
    clean_revoke_reason,
    issue_api_token,
    may_manage_api_tokens,
    revoke_api_token,
)
from .forms import AdminAccountCreationForm, AdminOrganisationForm, AdminUserChangeForm
from .models import Organisation, User
from .services import register_organisation, set_credit_code, set_id_number
from .text import BoundedFormMixin

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

    def user_change_password(self, request, id, form_url=""):
        """Setting someone's password here is journaled like a change on the site."""
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            account = User.objects.get(pk=id)
            record(EventKind.PASSWORD_CHANGED, account, actor=request.user, data={"how": "admin"})
        return response

    def save_model(self, request, obj, form, change):
        number = obj.id_number
        obj.id_number = User.objects.get(pk=obj.pk).id_number if change else ""
        super().save_model(request, obj, form, change)
        if number and number != obj.id_number:
            reason = form.cleaned_data.get("reason") or (
                "" if change else _("Entered when the account was created.")
            )
            set_id_number(obj, number, request.user, reason)


class ApiTokenCreationForm(BoundedFormMixin, forms.ModelForm):
    """Issue a token; refuses on the form what issue_api_token would refuse."""

    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("scopes"),
        choices=ApiScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Every scope only reads."),
    )

    class Meta:
        model = ApiToken
        fields = ("name", "user", "scopes", "expires_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True)
        self.fields["user"].help_text = _("The token sees exactly what this account sees.")

    def clean(self):
        cleaned = super().clean()
        if not may_manage_api_tokens(self.acting_user):
            self.add_error(None, _("Only superusers and bureau staff may issue API tokens."))
        elif not self.errors:
            try:
                check_issue(
                    cleaned["user"],
                    cleaned["name"],
                    cleaned["scopes"],
                    cleaned.get("expires_at"),
                    self.acting_user,
                )
            except PermissionDenied as refusal:
                self.add_error(None, str(refusal))
            except ValidationError as refusal:
                self.add_error(None, refusal)
        return cleaned


class ApiTokenActionForm(ActionForm):
    reason = forms.CharField(label=gettext_lazy("Reason (for revoking)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Taken as typed: clean_revoke_reason judges it and says what is wrong (a form
        # error here would only read "No action selected").
        self.fields["reason"].validators = []


@admin.register(ApiToken)
class ApiTokenAdmin(ActingUserMixin, admin.ModelAdmin):
    """Tokens are issued and revoked through accounts.api_tokens, never edited or deleted:
    to change one, revoke it and issue another. The secret shows once, after issuing."""

    action_form = ApiTokenActionForm
    actions = ["revoke_tokens"]
    list_display = (
        "name",
        "user",
        "shown_prefix",
        "shown_scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    search_fields = ("name", "prefix", "user__username")
    shown_fields = (
        "name",
        "user",
        "shown_prefix",
        "secret_hash",
        "scopes",
        "issued_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )

    @admin.display(description=gettext_lazy("token begins"))
    def shown_prefix(self, obj):
        return f"{TOKEN_PREFIX}{obj.prefix}…"

    @admin.display(description=gettext_lazy("scopes"))
    def shown_scopes(self, obj):
        return ", ".join(obj.scopes)

    def get_fields(self, request, obj=None):
        return ApiTokenCreationForm.Meta.fields if obj is None else self.shown_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.shown_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
        return super().get_form(request, obj, **kwargs)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and may_manage_api_tokens(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("accounts.change_apitoken") and may_manage_api_tokens(
            request.user
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        token, full = issue_api_token(
            data["user"], data["name"], data["scopes"], data.get("expires_at"), by=request.user
        )
        # The admin goes on (log entry, redirect) with the row the service created.
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding, obj._state.db = False, token._state.db
        messages.warning(
            request,
            _("Copy this token now; it will not be shown again: %(token)s") % {"token": full},
        )

    @admin.action(description=gettext_lazy("Revoke the selected tokens"), permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        try:
            reason = clean_revoke_reason(request.POST.get("reason", ""))
        except ValidationError as refusal:
            hint = _("Write it in the field next to the action.")
            self.message_user(request, f"{' '.join(refusal.messages)} {hint}", messages.ERROR)
            return
        revoked = 0
        for token in queryset:
            try:
                revoke_api_token(token, request.user, reason)
                revoked += 1
            except (PermissionDenied, ValidationError) as refusal:
                problems = getattr(refusal, "messages", None) or [str(refusal)]
                self.message_user(request, f"{token}: {' '.join(problems)}", messages.ERROR)
        if revoked:
            done = ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", revoked)
            self.message_user(request, done % {"n": revoked}, messages.SUCCESS)
