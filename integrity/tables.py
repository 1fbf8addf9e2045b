"""The register and the misconduct cases as tables: what the integrity officer scans,
and what their exports hold, ID numbers masked in both.

A column shown on the page only is `exclude_from_export`; a column for the export only
is `visible=False` (django-tables2 exports invisible columns too).
"""

from __future__ import annotations

import datetime

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.identity import mask_id_number
from lists.columns import DateColumn, LocalDateColumn
from lists.tables import ListTable

from .models import CaseStatus, Measure, MisconductCase, Sanction, SubjectKind


def shown_number(sanction: Sanction) -> str:
    """A person's ID number masked (enough to recognise, not to copy); a credit code in full."""
    if sanction.subject_kind == SubjectKind.PERSON:
        return mask_id_number(sanction.subject_id)
    return sanction.subject_id


def period_text(sanction: Sanction) -> str:
    end = sanction.ends_on.isoformat() if sanction.ends_on else _("permanent")
    return f"{sanction.starts_on.isoformat()} – {end}"


def rectification_marker(sanction: Sanction, today: datetime.date) -> str | None:
    """暂停项目限期整改 still open: its deadline, and whether it has passed."""
    if Measure.SUSPEND_RECTIFY not in (sanction.measures or []) or sanction.rectify_by is None:
        return None
    if sanction.rectified_on:
        return _("rectified on %(date)s") % {"date": sanction.rectified_on.isoformat()}
    if sanction.rectify_by < today and sanction.status == Sanction.Status.EFFECTIVE:
        return _("rectification overdue since %(date)s") % {"date": sanction.rectify_by.isoformat()}
    return _("rectify by %(date)s") % {"date": sanction.rectify_by.isoformat()}


def status_markers(sanction: Sanction, today: datetime.date) -> list[str]:
    markers = []
    if sanction.under_appeal:
        markers.append(_("under appeal"))
    rectification = rectification_marker(sanction, today)
    if rectification:
        markers.append(rectification)
    return markers


def _list_html(items: list[str]):
    return format_html_join(mark_safe("<br>"), "{}", ((item,) for item in items)) or "—"


class SanctionTable(ListTable):
    subject_name = tables.Column(
        verbose_name=gettext_lazy("Subject"),
        linkify=lambda record: reverse("sanction", args=[record.pk]),
    )
    subject_kind = tables.Column(verbose_name=gettext_lazy("Subject kind"), visible=False)
    # Not sortable: the order of the full numbers would tell the masked digits apart.
    subject_id = tables.Column(
        verbose_name=gettext_lazy("ID number or credit code"), orderable=False
    )
    subject_unit = tables.Column(verbose_name=gettext_lazy("Unit"))
    severity = tables.Column(verbose_name=gettext_lazy("Severity"))
    measures = tables.Column(verbose_name=gettext_lazy("Measures"), orderable=False)
    gates = tables.Column(
        verbose_name=gettext_lazy("Barred actions"), orderable=False, empty_values=()
    )
    period = tables.Column(
        verbose_name=gettext_lazy("Period"),
        accessor="starts_on",
        order_by=("starts_on", "ends_on"),
        exclude_from_export=True,
    )
    starts_on = DateColumn(verbose_name=gettext_lazy("Starts on"), visible=False)
    ends_on = DateColumn(verbose_name=gettext_lazy("Ends on"), visible=False, empty_values=())
    status = tables.Column(verbose_name=gettext_lazy("Status"))
    under_appeal = tables.Column(verbose_name=gettext_lazy("Under appeal"), visible=False)
    rectify_by = DateColumn(verbose_name=gettext_lazy("Rectify by"), visible=False)
    rectified_on = DateColumn(verbose_name=gettext_lazy("Rectified on"), visible=False)
    decision_no = tables.Column(verbose_name=gettext_lazy("Decision number"))
    recorded_at = tables.Column(verbose_name=gettext_lazy("Recorded on"), visible=False)

    class Meta:
        model = Sanction
        # The export's columns in the order of the workbook the register always had.
        fields = (
            "subject_name",
            "subject_kind",
            "subject_id",
            "subject_unit",
            "severity",
            "measures",
            "gates",
            "period",
            "starts_on",
            "ends_on",
            "status",
            "under_appeal",
            "rectify_by",
            "rectified_on",
            "decision_no",
            "recorded_at",
        )
        sequence = fields
        attrs = {"class": "list register", "data-testid": "register"}
        empty_text = gettext_lazy("No sanctions match.")

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.today = timezone.localdate()

    def render_subject_id(self, record: Sanction) -> str:
        return shown_number(record)

    def value_subject_id(self, record: Sanction) -> str:
        # The export leaves the system: a person's number masked there too.
        return shown_number(record)

    def value_subject_kind(self, record: Sanction) -> str:
        return record.get_subject_kind_display()

    def render_measures(self, record: Sanction):
        return _list_html(record.measure_labels())

    def value_measures(self, record: Sanction) -> str:
        return "；".join(record.measure_labels())

    def render_gates(self, record: Sanction):
        return _list_html(record.gate_labels())

    def value_gates(self, record: Sanction) -> str:
        return "；".join(record.gate_labels())

    def render_period(self, record: Sanction) -> str:
        return period_text(record)

    def value_ends_on(self, record: Sanction):
        return record.ends_on or _("permanent")

    def render_status(self, record: Sanction):
        markers = status_markers(record, self.today)
        return format_html(
            '<span class="state">{}</span>{}',
            record.get_status_display(),
            format_html_join("", '<br><span class="flag">{}</span>', ((m,) for m in markers)),
        )

    def value_status(self, record: Sanction) -> str:
        return record.get_status_display()

    def value_under_appeal(self, record: Sanction) -> str:
        return _("yes") if record.under_appeal else _("no")

    def value_recorded_at(self, record: Sanction):
        return timezone.localtime(record.recorded_at).date() if record.recorded_at else None


def case_number(case: MisconductCase) -> str:
    """A case's number: the one its page, the officer and the search use."""
    return f"#{case.pk}"


def case_respondent_number(case: MisconductCase) -> str:
    """As on the register: a person's ID number masked, a credit code in full."""
    if case.respondent_kind == SubjectKind.PERSON:
        return mask_id_number(case.respondent_id)
    return case.respondent_id


class CaseTable(ListTable):
    number = tables.Column(
        verbose_name=gettext_lazy("Case"),
        accessor="pk",
        order_by="id",  # not "pk": the list's tie-break (-pk) is no sort by this column
        linkify=lambda record: reverse("case", args=[record.pk]),
    )
    respondent_name = tables.Column(
        verbose_name=gettext_lazy("Respondent"),
        linkify=lambda record: reverse("case", args=[record.pk]),
    )
    respondent_kind = tables.Column(verbose_name=gettext_lazy("Subject kind"))
    # Not sortable: the order of the full numbers would tell the masked digits apart.
    respondent_id = tables.Column(
        verbose_name=gettext_lazy("ID number or credit code"), orderable=False
    )
    respondent_unit = tables.Column(verbose_name=gettext_lazy("Unit"))
    misconduct = tables.Column(verbose_name=gettext_lazy("Kind of misconduct"))
    status = tables.Column(verbose_name=gettext_lazy("Stage"))
    reply_by = DateColumn(
        verbose_name=gettext_lazy("Reply by"),
        accessor="hearing__reply_by",
        order_by="hearing__reply_by",
    )
    decision_no = tables.Column(verbose_name=gettext_lazy("Decision number"))
    opened_at = LocalDateColumn(verbose_name=gettext_lazy("Opened"))

    class Meta:
        model = MisconductCase
        fields = (
            "number",
            "respondent_name",
            "respondent_kind",
            "respondent_id",
            "respondent_unit",
            "misconduct",
            "status",
            "reply_by",
            "decision_no",
            "opened_at",
        )
        sequence = fields
        attrs = {"class": "list", "data-testid": "cases"}
        empty_text = gettext_lazy("No cases match.")

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.today = timezone.localdate()

    def render_number(self, record: MisconductCase) -> str:
        return case_number(record)

    value_number = render_number

    def render_respondent_id(self, record: MisconductCase) -> str:
        return case_respondent_number(record)

    value_respondent_id = render_respondent_id

    def _overdue(self, record: MisconductCase) -> bool:
        hearing = getattr(record, "hearing", None)
        return (
            record.status == CaseStatus.INVESTIGATING
            and hearing is not None
            and not hearing.heard
            and hearing.reply_by < self.today
        )

    def render_status(self, value, record: MisconductCase):
        if self._overdue(record):
            return format_html(
                '<span class="state">{}</span><br><span class="flag">{}</span>',
                value,
                _("overdue"),
            )
        return format_html('<span class="state">{}</span>', value)

    def value_status(self, value, record: MisconductCase) -> str:
        return f"{value} · {_('overdue')}" if self._overdue(record) else value
