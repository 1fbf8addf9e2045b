"""The register as a table: what the integrity officer scans, ID numbers masked."""

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

from .models import Measure, Sanction, SubjectKind

PER_PAGE = 25


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


class SanctionTable(tables.Table):
    subject_name = tables.Column(
        verbose_name=gettext_lazy("Subject"),
        linkify=lambda record: reverse("sanction", args=[record.pk]),
    )
    subject_id = tables.Column(verbose_name=gettext_lazy("ID number or credit code"))
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
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"))
    decision_no = tables.Column(verbose_name=gettext_lazy("Decision number"))

    class Meta:
        model = Sanction
        fields = (
            "subject_name",
            "subject_id",
            "subject_unit",
            "severity",
            "measures",
            "gates",
            "period",
            "status",
            "decision_no",
        )
        template_name = "integrity/register_table.html"
        attrs = {"class": "register", "data-testid": "register"}
        empty_text = gettext_lazy("No sanctions match.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    def render_subject_id(self, record: Sanction) -> str:
        return shown_number(record)

    def render_measures(self, record: Sanction):
        return _list_html(record.measure_labels())

    def render_gates(self, record: Sanction):
        return _list_html(record.gate_labels())

    def render_period(self, record: Sanction) -> str:
        return period_text(record)

    def render_status(self, record: Sanction):
        markers = status_markers(record, self.today)
        return format_html(
            '<span class="state">{}</span>{}',
            record.get_status_display(),
            format_html_join("", '<br><span class="flag">{}</span>', ((m,) for m in markers)),
        )
