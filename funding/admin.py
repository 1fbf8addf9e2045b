"""Staff publish calls here, through funding.calls. Projects are read-only: only the
lifecycle changes them."""

import copy

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Role
from accounts.text import BoundedFormMixin
from trail.admin import ActingUserMixin, ReadOnlyAdmin

from .amounts import AmountField
from .calls import RULE_FIELDS, call_problems, may_publish_calls, save_call
from .expert_profiles import clean_relation, may_edit_profile, save_expert_profile
from .experts import ExpertField, ExpertProfile, ExpertRelation, ReviewDraw
from .import_jobs import LedgerImportJob
from .models import Call, Project
from .objections import Objection
from .recovery import ClosingBalance, Recovery


class CallForm(BoundedFormMixin, forms.ModelForm):
    """Shows what `save_call` would refuse as errors on the form, never as a 500."""

    acting_user = None  # set by CallAdmin.get_form
    # Two decimals, at most AMOUNT_MAX, written in full (DESIGN §5); zero or less is
    # refused by call_problems, in its own words.
    funding_cap = AmountField(label=gettext_lazy("funding cap per project"), min_value=None)

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
            "criteria",
            "required_documents",
        )
        help_texts = {
            "required_documents": gettext_lazy(
                "The documents an application must carry before it is submitted: a list of "
                'kinds, e.g. ["application_form", "commitment", "budget_justification", '
                '"cooperation_agreement"]; [] for none.'
            ),
            "criteria": gettext_lazy(
                'A list of {"name", "weight", "guidance"}, weights adding up to 100, e.g. '
                '[{"name": "创新性", "weight": 30, "guidance": "..."}, ...]; [] for a single '
                "overall score. Fixed once a review is scored."
            ),
        }

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


# --- the expert pool (issue 7): staff change profiles through the experts' own service ---


class ExpertProfileAdminForm(BoundedFormMixin, forms.ModelForm):
    acting_user = None  # set by ExpertProfileAdmin.get_form
    expert_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields"),
        choices=ExpertField.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ExpertProfile
        fields = ("user", "organisation", "title", "phone", "email", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = User.objects.filter(
                groups__name=Role.EXPERT.value
            ).order_by("pk")
        self.fields["expert_fields"].initial = self.instance.fields

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        if user is not None and not may_edit_profile(self.acting_user, user):
            self.add_error(None, _("Only the expert or bureau staff change an expert profile."))
        if "expert_fields" in cleaned:
            self.instance.fields = list(cleaned["expert_fields"])
        return cleaned


class ExpertRelationForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = ExpertRelation
        fields = ("kind", "organisation", "id_number", "name", "note")

    def clean(self):
        cleaned = super().clean()
        if self.errors or cleaned.get("DELETE"):
            return cleaned
        try:
            relation = clean_relation(cleaned)
        except ValidationError as error:
            self.add_error(None, error.messages)
        else:
            cleaned["id_number"] = relation.id_number
        return cleaned


class ExpertRelationInline(admin.TabularInline):
    model = ExpertRelation
    form = ExpertRelationForm
    extra = 1


@admin.register(ExpertProfile)
class ExpertProfileAdmin(ActingUserMixin, admin.ModelAdmin):
    """Saved by funding.expert_profiles.save_expert_profile, like the expert's own page."""

    form = ExpertProfileAdminForm
    inlines = [ExpertRelationInline]
    list_display = ("user", "organisation", "title", "active")
    list_filter = ("active",)
    search_fields = ("user__real_name", "user__username")

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False  # set inactive instead: assignments and the trail refer to experts

    def save_model(self, request, obj, form, change):
        pass  # saved with its relations in save_related, in one service call

    def save_related(self, request, form, formsets, change):
        relations = [
            inline.cleaned_data
            for formset in formsets
            for inline in formset.forms
            if inline.cleaned_data and not inline.cleaned_data.get("DELETE")
        ]
        save_expert_profile(form.instance, relations, request.user)
        for formset in formsets:  # the admin's change message reads what a save would set
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []


@admin.register(ReviewDraw)
class ReviewDrawAdmin(ReadOnlyAdmin):
    """Written by funding.expert_draw only; here to read a draw's seed and pool."""

    list_display = ("project", "drawn_at", "seed", "size", "drawn_by")


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    """Lodged on the public page and decided on the project page (funding.objection_services,
    journaled); here to read them across projects."""

    list_display = ("lodged_at", "project", "name", "status", "decided_at")
    list_filter = ("status",)


# --- recovery and the closing balance (issue 9): written by funding.recovery only ---------


@admin.register(Recovery)
class RecoveryAdmin(ReadOnlyAdmin):
    """Assessed by the lifecycle, refunded and adjusted on the project page (journaled)."""

    list_display = ("project", "reason", "amount", "refunded", "assessed_at")
    list_filter = ("reason",)


@admin.register(ClosingBalance)
class ClosingBalanceAdmin(ReadOnlyAdmin):
    list_display = ("project", "amount", "disposition", "by_default", "recorded_at")
    list_filter = ("disposition",)
