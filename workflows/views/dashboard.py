"""The overview (leadership and staff): counts, totals and, for each list, the oldest few
with a link to the whole list, a page at a time (issue 10: the page stays the same size
whatever the number of projects)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import (
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, has_role
from funding.budget import CENT
from funding.flags import first_disbursement_timing
from funding.models import Project
from funding.recovery import outstanding_recoveries
from funding.states import RUNNING_STATES, ProjectStatus
from oversight import dashboard
from oversight.findings import overdue_rectifications
from oversight.supervision import overdue_reports
from trail.models import Event

from .paging import first_rows, window_page

SHOWN = 10  # the oldest few of each list on the overview
PER_PAGE = 50  # a page of a whole list
TOTALS_KEPT_SECONDS = 600


def _may_see(user) -> None:
    if not (has_role(user, Role.LEADER) or has_role(user, Role.STAFF)):
        raise PermissionDenied


# --- the first disbursement, in the database ----------------------------------------------
# funding.flags.late_first_disbursements reads every running project into Python; here the
# same rule is a query, so the overview takes the first few and counts the rest.


def late_first_disbursements(today: datetime.date) -> QuerySet[Project]:
    """Running projects whose first tranche is later than FIRST_DISBURSEMENT_DAYS after the
    contract was signed (paid late, or not paid and overdue), the latest first.

    The days of the signing and of the first tranche are kept on the project
    (`signed_on`, `first_disbursed_on`), so at 100,000 projects (issue 10) the late ones
    are found and shown from one index of the running projects that holds both and what
    a row shows (`project_running_signed_paid`): no project row is read. Before, every running
    project was joined to its contract and all its tranches, and its signing turned into
    a local day: 36 ms of the database's CPU for each view of the overview."""
    days = datetime.timedelta(days=settings.FIRST_DISBURSEMENT_DAYS)
    due = ExpressionWrapper(F("signed_on") + days, output_field=DateField())
    # Late by days: until the first payment, or until today while there is none.
    waited = ExpressionWrapper(
        Coalesce(F("first_disbursed_on"), Value(today, output_field=DateField())) - F("signed_on"),
        output_field=DurationField(),
    )
    return (
        Project.objects.filter(
            Q(first_disbursed_on__isnull=True) | Q(first_disbursed_on__gt=due),
            status__in=RUNNING_STATES,
            signed_on__lt=today - days,
        )
        .annotate(first_paid_on=F("first_disbursed_on"), waited=waited)
        .select_related("applicant_org")
        .only("title", "signed_on", "first_disbursed_on", "applicant_org__name")
        .order_by("-waited", "pk")
    )


def _disbursement_rows(projects, today: datetime.date) -> list[dict]:
    rows = []
    for p in projects:
        timing = first_disbursement_timing(p.signed_on, p.first_paid_on, today)
        rows.append({"project": p, "timing": timing})
    return rows


# --- the lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One list of the overview: its rows in order (a query), what its template needs of
    each row, and the template drawing them (shared by the overview and the whole list)."""

    slug: str
    title: str | Promise
    template: str
    query: Callable[[datetime.date], QuerySet]
    shape: Callable[[list, datetime.date], list] = field(default=lambda rows, today: rows)
    # Counted in a query of its own: cheaper than the window count when the first rows come
    # in index order and the count needs none of the joins (measured at 100,000 projects).
    count_apart: bool = False


SECTIONS = {
    s.slug: s
    for s in [
        Section(
            "acceptance-overdue",
            _("Acceptance overdue"),
            "workflows/_overview_overdue.html",
            dashboard.late_for_acceptance,
            dashboard.overdue_rows,
            count_apart=True,
        ),
        Section(
            "first-disbursement-late",
            _("First disbursement late"),
            "workflows/_overview_late_disbursements.html",
            late_first_disbursements,
            _disbursement_rows,
        ),
        Section(
            "reports-overdue",
            _("Progress reports overdue"),
            "workflows/_overview_late_reports.html",
            lambda today: overdue_reports(today).order_by("due_on", "pk"),
            count_apart=True,
        ),
        Section(
            "recoveries-outstanding",
            _("Recoveries outstanding (追回)"),
            "workflows/_overview_recoveries.html",
            lambda today: outstanding_recoveries(),
        ),
        Section(
            "rectifications-overdue",
            _("Rectifications overdue (整改)"),
            "workflows/_overview_late_rectifications.html",
            overdue_rectifications,
        ),
    ]
}


def _first(section: Section, today: datetime.date) -> dict:
    """The first SHOWN rows and how many there are in all: one query, or two."""
    query = section.query(today)
    if section.count_apart:
        rows, total = list(query[:SHOWN]), query.count()
        first = {"rows": rows, "total": total, "more": total - len(rows)}
    else:
        first = first_rows(query, SHOWN)
    return {**first, "rows": section.shape(first["rows"], today)}


def _sum_totals() -> dict:
    """The sums, as the cache keeps them: the states without their labels. A label is a lazy
    translation, and unpickling one builds a proxy class (some 0.2 ms each, 24 of them on
    every view); the labels are put back as the totals are read, in the reader's language."""
    return {
        "pipeline": [(state, n) for state, _label, n in dashboard.pipeline()],
        "money": dashboard.money(),
        "integrity": dashboard.integrity_watch(),
    }


def _labelled(sums: dict) -> dict:
    labels = dict(ProjectStatus.choices)
    return {**sums, "pipeline": [(s, labels[s], n) for s, n in sums["pipeline"]]}


def totals(today: datetime.date) -> dict:
    """The projects by state, the money and the integrity counts: sums over every project,
    voucher and veto check, so they are kept in the cache under the trail's last event and
    the day. Every change of a state, of money or of the register appends an event, so
    they are summed again after each change and read from the cache in between."""
    last = Event.objects.order_by("-seq").values_list("seq", "hash").first()
    if last is None:  # nothing journaled yet: nothing to key them on
        return _labelled(_sum_totals())
    key = f"overview-totals:{today.isoformat()}:{last[0]}:{last[1]}"
    return _labelled(cache.get_or_set(key, _sum_totals, TOTALS_KEPT_SECONDS))


def _recoveries_owed() -> Decimal:
    owed = outstanding_recoveries().aggregate(total=Sum(F("amount") - F("refunded")))["total"]
    # SQLite sums decimals without their scale; yuan with two places everywhere.
    return Decimal(owed or 0).quantize(CENT)


@login_required
def dashboard_page(request):
    _may_see(request.user)
    today = timezone.localdate()
    lists = {slug.replace("-", "_"): _first(s, today) for slug, s in SECTIONS.items()}
    return render(
        request,
        "workflows/dashboard.html",
        {
            **totals(today),
            "first_disbursement_days": settings.FIRST_DISBURSEMENT_DAYS,
            "recoveries_owed": _recoveries_owed(),  # 追回 not yet refunded (issue 9)
            **lists,
        },
    )


@login_required
def section_page(request, section: str):
    """A whole list of the overview, PER_PAGE rows a page, in the overview's order."""
    _may_see(request.user)
    if section not in SECTIONS:
        raise Http404
    chosen = SECTIONS[section]
    today = timezone.localdate()
    page = window_page(chosen.query(today), request.GET.get("page"), PER_PAGE)
    return render(
        request,
        "workflows/overview_section.html",
        {
            "section": chosen,
            "page": page,
            "rows": chosen.shape(list(page), today),
            "first_disbursement_days": settings.FIRST_DISBURSEMENT_DAYS,
        },
    )
