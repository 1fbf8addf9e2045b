"""Staff publish calls here, through funding.calls. Projects are read-only: only the
lifecycle changes them."""

import copy
import re

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.text import BoundedFormMixin
from trail.admin import ActingUserMixin, ReadOnlyAdmin

from .calls import RULE_FIELDS, call_problems, may_publish_calls, save_call
from .import_jobs import LedgerImportJob
from .models import Call, Project

PLAIN_AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class PlainAmountField(forms.DecimalField):
    """Yuan as written on paper: digits and a point, no exponent notation (DESIGN §5)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not PLAIN_AMOUNT.fullmatch(value.strip()):
            raise ValidationError(
                _("Write the amount in plain digits, e.g. 1000000.00."), code="invalid"
            )
        return super().to_python(value)


class CallForm(BoundedFormMixin, forms.ModelForm):
    """Shows what `save_call` would refuse as errors on the form, never as a 500."""

    acting_user = None  # set by CallAdmin.get_form
    funding_cap = PlainAmountField(
        label=gettext_lazy("funding cap per project"), max_digits=14, decimal_places=2
    )

    class Meta:
        model = Call
        fields = (
            "title",
            "program",
            "description",
            "opens_on",
            "closes_on",
            "funding_cap",
            "indirect_tiers",
        )

    def clean(self):
        cleaned = super().clean()
        if not may_publish_calls(self.acting_user):
            self.add_error(None, _("Only bureau staff publish and change calls."))
        candidate = copy.copy(self.instance)
        for field in RULE_FIELDS:
            if field in cleaned:
                setattr(candidate, field, cleaned[field])
        for field, messages in call_problems(candidate).items():
            # A field that failed its own validation already says why.
            if field in self.fields and field not in self.errors:
                self.add_error(field, messages)
        return cleaned


@admin.register(Call)
class CallAdmin(ActingUserMixin, admin.ModelAdmin):
    form = CallForm
    list_display = ("title", "program", "opens_on", "closes_on", "funding_cap")
    search_fields = ("title", "program")

    def has_delete_permission(self, request, obj=None):
        return False  # projects refer to their call; a call is closed, not deleted

    def save_model(self, request, obj, form, change):
        save_call(obj, request.user)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("title", "applicant_org", "pi", "status", "requested_amount")
    list_filter = ("status", "call")
    search_fields = ("title",)


@admin.register(LedgerImportJob)
class LedgerImportJobAdmin(ReadOnlyAdmin):
    """Written by the import service and its task only; here to see a stuck or failed one."""

    list_display = ("created_at", "project", "filename", "status", "rows_done", "rows_total")
    list_filter = ("status",)
    exclude = ("upload",)
