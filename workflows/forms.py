"""One form per lifecycle action that needs input; each turns into the transition's kwargs."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.forms import IsoDateInput
from accounts.identity import normalise_id_number
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.text import BoundedFormMixin
from funding.amounts import AmountField
from funding.expert_draw import latest_draw
from funding.models import BudgetLine, Disbursement, Expenditure, TeamMember
from funding.services import budget_lines_in_order
from funding.states import BudgetCategory
from integrity.models import Gate, Sanction, VetoCheck
from oversight.models import AcceptanceReview, AuditEngagement, TechReport

MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


def _max_length(model, name: str) -> int:
    # The form's limit is the column's: a longer value would fail in the database.
    return model._meta.get_field(name).max_length


class ActionForm(BoundedFormMixin, forms.Form):
    def __init__(self, *args, project=None, **kwargs):
        self.project = project
        super().__init__(*args, **kwargs)

    def transition_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ReasonForm(ActionForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(
        label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FilingForm(ActionForm):
    reason = forms.CharField(
        label=_("Filing note (what was checked)"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportForm(ActionForm):
    report = forms.CharField(
        label=_("Rectification report (整改报告)"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TechReportForm(ActionForm):
    title = forms.CharField(label=_("Report title"), max_length=200)
    abstract = forms.CharField(label=_("Abstract"), widget=forms.Textarea(attrs={"rows": 4}))
    keywords = forms.CharField(label=_("Keywords"), max_length=200, required=False)
    access = forms.ChoiceField(label=_("Access"), choices=TechReport.Access.choices)
    embargo_until = forms.DateField(
        label=_("Embargoed until"),
        required=False,
        widget=IsoDateInput(),
    )

    def transition_kwargs(self) -> dict:
        return {"report": dict(self.cleaned_data)}


class SubmitForm(ActionForm):
    commitment = forms.BooleanField(
        label=_(
            "I commit that the application is true and complete, and I accept the "
            "integrity rules and their sanctions (科研诚信承诺书)."
        ),
        required=False,
    )


def experts():
    return User.objects.filter(groups__name=Role.EXPERT.value, is_active=True).order_by("pk")


class AssignExpertsForm(ActionForm):
    """The latest draw's experts come ticked; any other is picked by hand, with a reason
    (funding.expert_draw)."""

    experts = forms.ModelMultipleChoiceField(
        label=_("Reviewing experts"),
        queryset=experts(),
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(
        label=_("Reason for experts picked by hand (not drawn)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, project=project, **kwargs)
        draw = latest_draw(project) if project is not None and project.pk else None
        if draw is not None:
            self.fields["experts"].initial = draw.picks

    def transition_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"experts": list(data["experts"]), "reason": data["reason"]}


class BudgetCutForm(ActionForm):
    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, project=project, **kwargs)
        for line in budget_lines_in_order(project) if project else []:
            self.fields[f"{line.category}_approved"] = AmountField(
                label=_("%(cat)s approved (requested %(amount)s)")
                % {"cat": line.get_category_display(), "amount": line.amount},
                initial=line.amount,
                **MONEY,
            )
            self.fields[f"{line.category}_reason"] = forms.CharField(
                label=_("Reason for a cut"),
                required=False,
                max_length=_max_length(BudgetLine, "cut_reason"),
            )

    def transition_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "cuts": {
                c.value: (data[f"{c.value}_approved"], data.get(f"{c.value}_reason", ""))
                for c in BudgetCategory
                if f"{c.value}_approved" in data
            }
        }


class DisburseForm(ActionForm):
    amount = AmountField(label=_("Amount (yuan)"), **MONEY)
    tranche = forms.CharField(
        label=_("Tranche"),
        initial=_("First tranche on contract"),
        max_length=_max_length(Disbursement, "tranche"),
    )
    # Needed only beyond the task contract's payment schedule (the service says so).
    reason = forms.CharField(
        label=_("Reason (if beyond the payment schedule)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AppointAuditForm(ActionForm):
    firm = forms.ModelChoiceField(
        label=_("Audit firm"),
        queryset=Organisation.objects.filter(kind=Organisation.Kind.AUDIT_FIRM),
    )
    auditor = forms.ModelChoiceField(
        label=_("Lead auditor"),
        queryset=User.objects.filter(groups__name=Role.AUDITOR.value, is_active=True),
    )


class ReappointAuditForm(AppointAuditForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class AuditOpinionForm(ActionForm):
    opinion = forms.ChoiceField(label=_("Audit opinion"), choices=AuditEngagement.Opinion.choices)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 4}))


class AcceptanceForm(ActionForm):
    """Staff record the conclusion the drawn panel's votes give (shown above the form);
    the task and financial results come from the votes, not from this form."""

    conclusion = forms.ChoiceField(
        label=_("Conclusion"), choices=AcceptanceReview.Conclusion.choices
    )
    remarks = forms.CharField(
        label=_("Remarks (shown to the PI; needed for a reconsideration)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def transition_kwargs(self) -> dict:
        return {"review": dict(self.cleaned_data)}


class RecommendForm(ActionForm):
    # The unit's recommendation (单位推荐意见), kept in the trail with the transition.
    opinion = forms.CharField(
        label=_("Recommendation opinion (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ACTION_FORMS: dict[str, type[ActionForm]] = {
    "submit": SubmitForm,
    "recommend_by_unit": RecommendForm,
    "return_by_unit": ReasonForm,
    "recommend_for_unit": ReasonForm,
    "pass_formal_check": AssignExpertsForm,
    "return_for_revision": ReasonForm,
    "reject": ReasonForm,
    "withdraw": OptionalReasonForm,
    "finish_budget_review": BudgetCutForm,
    "disburse": DisburseForm,
    "request_acceptance": TechReportForm,
    "appoint_audit": AppointAuditForm,
    "reappoint_audit": ReappointAuditForm,
    "issue_audit_opinion": AuditOpinionForm,
    "conclude_acceptance": AcceptanceForm,
    "resubmit_for_acceptance": ReportForm,
    "fail_after_rectification_deadline": ReasonForm,
    "accept_by_filing": FilingForm,
    "suspend": ReasonForm,
    "resume": ReasonForm,
    "terminate": ReasonForm,
}


def form_for(name: str, project, data=None) -> ActionForm:
    return ACTION_FORMS.get(name, ActionForm)(data, project=project, prefix=name)


class ProjectForm(BoundedFormMixin, forms.Form):
    title = forms.CharField(label=_("Project title"), max_length=200)
    field = forms.CharField(label=_("Field"), max_length=100)
    summary = forms.CharField(label=_("Summary"), widget=forms.Textarea(attrs={"rows": 4}))
    start_date = forms.DateField(label=_("Start date"), widget=IsoDateInput())
    end_date = forms.DateField(label=_("End date"), widget=IsoDateInput())
    requested_amount = AmountField(label=_("Requested amount (yuan)"), **MONEY)
    equipment = AmountField(label=_("Equipment purchase"), **MONEY)
    # 32号: trial-make, upgrade and rental stay in the indirect-cost base; optional, so an
    # application typed before the split (no such field) still files, the line at zero.
    equipment_other = AmountField(
        label=_("Equipment trial-make, upgrade or rental"), required=False, **MONEY
    )
    operations = AmountField(label=_("Operations"), **MONEY)
    labour = AmountField(label=_("Labour"), **MONEY)
    indirect = AmountField(label=_("Indirect costs"), **MONEY)
    team = forms.CharField(
        label=_("Team members: one per line, “name, ID number, duty”"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_team(self) -> list[dict]:
        members, errors = [], []
        for n, line in enumerate(self.cleaned_data["team"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if len(parts) < 2 or not parts[0]:
                errors.append(_("Line %(n)d: write “name, ID number, duty”.") % {"n": n})
                continue
            try:
                number = normalise_id_number(parts[1])
            except ValidationError as error:
                errors.append(_("Line %(n)d: %(e)s") % {"n": n, "e": " ".join(error.messages)})
                continue
            member = {"name": parts[0], "id_number": number, "duty": ",".join(parts[2:])}
            problem = _team_member_problem(member)
            if problem:
                errors.append(_("Line %(n)d: %(e)s") % {"n": n, "e": problem})
                continue
            members.append(member)
        if errors:
            raise ValidationError(errors)
        return members

    @classmethod
    def initial_from(cls, project) -> dict:
        initial = {
            name: getattr(project, name) for name in cls.base_fields if hasattr(project, name)
        }
        initial.update({line.category: line.amount for line in project.budget_lines.all()})
        initial["team"] = "\n".join(
            f"{m.name}, {m.id_number}, {m.duty}" for m in project.team.all()
        )
        return initial

    def clean_equipment_other(self) -> Decimal:
        return self.cleaned_data["equipment_other"] or Decimal("0")

    def project_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["budget"] = {c.value: data.pop(c.value) for c in BudgetCategory}
        return data


def _team_member_problem(member: dict) -> str | None:
    for name, label in (("name", _("the name")), ("duty", _("the duty"))):
        limit = _max_length(TeamMember, name)
        if len(member[name]) > limit:
            return _("%(what)s has at most %(n)d characters.") % {"what": label, "n": limit}
    return None


class ExpenditureForm(BoundedFormMixin, forms.ModelForm):
    class Meta:
        model = Expenditure
        fields = ["voucher_no", "spent_on", "category", "payee", "method", "amount"]
        widgets = {"spent_on": IsoDateInput()}
        field_classes = {"amount": AmountField}  # two decimals, bounded, written in full


class AdjustmentForm(BoundedFormMixin, forms.Form):
    from_category = forms.ChoiceField(label=_("Move from"), choices=BudgetCategory.choices)
    to_category = forms.ChoiceField(label=_("to"), choices=BudgetCategory.choices)
    amount = AmountField(label=_("Amount (yuan)"), **MONEY)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class OverrideForm(BoundedFormMixin, forms.Form):
    """Ask to let one gate through despite one sanction that refused this project there."""

    gate = forms.ChoiceField(label=_("Gate"), choices=Gate.choices)
    sanction = forms.ModelChoiceField(label=_("Sanction"), queryset=Sanction.objects.none())
    reason = forms.CharField(label=_("Written reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        if project is not None:
            self.fields["sanction"].queryset = sanctions_that_refused(project)


def sanctions_that_refused(project) -> QuerySet[Sanction]:
    """The sanctions recorded as blocking this project at some gate."""
    blocking = VetoCheck.objects.filter(
        object_type=project._meta.label_lower, object_id=str(project.pk), passed=False
    ).values_list("blocking", flat=True)
    ids = {pk for pks in blocking for pk in pks}
    return Sanction.objects.filter(pk__in=ids, status=Sanction.Status.EFFECTIVE)


class LedgerImportForm(BoundedFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Finance software export (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings
        from django.template.defaultfilters import filesizeformat

        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "At most %(size)s and %(rows)s rows; a file of more than %(sync)s rows is "
            "imported in the background and you follow its progress."
        ) % {
            "size": filesizeformat(settings.LEDGER_IMPORT_MAX_BYTES),
            "rows": settings.LEDGER_IMPORT_MAX_ROWS,
            "sync": settings.LEDGER_IMPORT_SYNC_ROWS,
        }

    def clean_file(self):
        from funding.upload_limits import UploadLimits, check_file_size

        upload = self.cleaned_data["file"]  # its kind and contents: the import service
        check_file_size(upload.size, UploadLimits.from_settings())
        return upload
