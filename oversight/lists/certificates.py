"""Acceptance certificates, to filter, sort, page and export (issue 11).

A certificate is shown on its project's page: the list holds the certificates of the
projects the user sees there in full (access.projects_visible_to, less the projects an
expert sees by title only, whose page shows no certificate). Each row links to the
project and to the public verification page printed on the certificate.
"""

from __future__ import annotations

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from lists.columns import LocalDateColumn
from lists.forms import FilterForm, search_filter
from lists.pages import ListSpec, list_response
from lists.tables import ListTable

from ..access import application_withheld_from, projects_visible_to
from ..models import Certificate
from .projects import ANY, _sees_all, _year_choices, organisations_seen_by

VALID, REVOKED, PENDING = "valid", "revoked", "pending"
STATE_CHOICES = [
    (VALID, _("Valid")),
    (REVOKED, _("Revoked")),
    (PENDING, _("Being generated")),
]
STATUS_OF_STATE = {
    VALID: Certificate.Status.ISSUED,
    REVOKED: Certificate.Status.REVOKED,
    PENDING: Certificate.Status.PENDING,
}


class CertificateFilter(django_filters.FilterSet):
    q = search_filter(_("Serial number or project title"))
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=STATE_CHOICES, method="filter_state", empty_label=ANY
    )
    year = django_filters.ChoiceFilter(
        label=_("Year of issue"),
        choices=_year_choices,
        field_name="issued_at__year",
        empty_label=ANY,
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="project__applicant_org",
        queryset=Organisation.objects.order_by("name"),
        empty_label=ANY,
    )

    class Meta:
        model = Certificate
        fields: list[str] = []
        form = FilterForm  # bounded like every form of ours

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["organisation"].queryset = organisations_seen_by(self.request.user)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(serial__icontains=term) | Q(project__title__icontains=term))

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(status=STATUS_OF_STATE[value])


class CertificateTable(ListTable):
    serial = tables.Column(verbose_name=_("Serial number"))
    project = tables.Column(
        verbose_name=_("Project"),
        accessor="project__title",
        order_by="project__title",
        linkify=lambda record: reverse("project", args=[record.project_id]),
    )
    organisation = tables.Column(
        verbose_name=_("Organisation"),
        accessor="project__applicant_org__name",
        order_by="project__applicant_org__name",
    )
    issued_at = LocalDateColumn(verbose_name=_("Issued on"))
    status = tables.Column(verbose_name=_("State"))
    revoked_at = LocalDateColumn(verbose_name=_("Revoked on"))
    verify = tables.Column(verbose_name=_("Verification page"), accessor="serial", orderable=False)

    class Meta:
        model = Certificate
        fields = ("serial", "project", "organisation", "issued_at", "status", "revoked_at")
        attrs = {"class": "list", "data-testid": "certificates"}
        row_attrs = {"data-certificate": lambda record: record.serial}
        empty_text = _("No certificates match.")
        # Unsorted, the newest first by number (certificates_rows): issued in that order,
        # read backwards along the key instead of sorting every certificate (issue 10).

    def __init__(self, data, *args, request=None, **kwargs):
        super().__init__(data, *args, request=request, **kwargs)
        self.request = request

    def render_verify(self, value):
        return format_html('<a href="{}">{}</a>', reverse("verify", args=[value]), _("Verify"))

    def value_verify(self, value):
        # The export holds the address a reader can open, as printed on the certificate.
        return self.request.build_absolute_uri(reverse("verify", args=[value]))


CERTIFICATES = ListSpec(
    title=_("Acceptance certificates"),
    filterset_class=CertificateFilter,
    table_class=CertificateTable,
    export_name="certificates",
)


def certificates_rows(user) -> QuerySet[Certificate]:
    certificates = Certificate.objects.all()
    withheld = application_withheld_from(user)
    if withheld or not _sees_all(user):  # who sees every project: no semi-join (22 ms)
        shown = projects_visible_to(user).exclude(pk__in=withheld)
        certificates = certificates.filter(project__in=shown)
    return (
        certificates.select_related("project__applicant_org")
        .defer("pdf", "project__summary")  # a list never reads the files
        .order_by("-pk")
    )


@login_required
def certificate_list(request):
    return list_response(request, CERTIFICATES, certificates_rows(request.user))
