"""The work plan's pages: the year's targets against actuals (staff and leadership),
setting targets (leadership), monthly actuals typed or imported (staff), and the
upward-recommendation flow of a project (staff)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.roles import Role, has_role
from funding.models import Project
from funding.upload_limits import UploadLimits, check_file_size
from integrity.views.feedback import FAILED, attempt

from . import charts, excel, services
from .figures import IndicatorYear, year_figures
from .forms import ActualForm, ImportForm, RecommendForm, ResultForm, TargetsForm, YearForm, shown
from .indicators import ENTERED_INDICATORS, INDICATORS, LATEST, WAN_YUAN
from .models import MonthlyActual, UpwardRecommendation, YearlyTarget

# A file of bad rows is listed this far; the count says how many more there are.
PROBLEMS_SHOWN = 200


def _staff_or_leader(request) -> None:
    if not (has_role(request.user, Role.STAFF) or has_role(request.user, Role.LEADER)):
        raise PermissionDenied


def _only(request, role: Role) -> None:
    if not has_role(request.user, role):
        raise PermissionDenied


def _year(request, data=None) -> tuple[YearForm, int]:
    form = YearForm(data if data is not None else request.GET)
    year = form.chosen()
    if form.is_bound and form.errors:
        messages.error(request, " ".join(form.errors["year"]) + " " + _("This year is shown."))
    return form, year


def _back(year: int) -> str:
    return f"{reverse('workplan')}?year={year}"


@dataclass
class IndicatorView:
    """What the page shows of one indicator: figures formatted, and its two charts."""

    row: IndicatorYear
    target: str
    actual: str
    progress: charts.Progress
    trend: charts.Chart

    @classmethod
    def of(cls, row: IndicatorYear) -> IndicatorView:
        places = row.indicator.places
        line = row.indicator.aggregate == LATEST
        return cls(
            row=row,
            target=charts.number(row.target, places),
            actual=charts.number(row.actual, places),
            progress=charts.progress(row.percent),
            trend=charts.monthly(row.monthly(), places, line=line),
        )


@login_required
@require_safe
def overview(request):
    _staff_or_leader(request)
    year_form, year = _year(request)
    figures = year_figures(year, timezone.localdate())
    money = figures.money
    return render(
        request,
        "workplan/overview.html",
        {
            "year_form": year_form,
            "year": year,
            "indicators": [IndicatorView.of(row) for row in figures.indicators],
            "pipeline": charts.hbars(
                [(state, label, n, str(n)) for state, label, n in figures.pipeline if n]
            ),
            "money": charts.hbars(
                [
                    ("approved", _("Approved"), money.approved, charts.number(money.approved)),
                    ("disbursed", _("Disbursed"), money.disbursed, charts.number(money.disbursed)),
                    ("spent", _("Spent"), money.spent, charts.number(money.spent)),
                ]
            ),
            "integrity": charts.hbars(
                [
                    (
                        "sanctions",
                        _("Sanctions in force"),
                        figures.integrity.sanctions_in_force,
                        str(figures.integrity.sanctions_in_force),
                    ),
                    (
                        "cases",
                        _("Open cases"),
                        figures.integrity.open_cases,
                        str(figures.integrity.open_cases),
                    ),
                ]
            ),
            "is_leader": has_role(request.user, Role.LEADER),
            "is_staff_user": has_role(request.user, Role.STAFF),
        },
    )


# --- targets (leadership) -------------------------------------------------------------


@login_required
def targets_page(request):
    _only(request, Role.LEADER)
    year_form, year = _year(request, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        form = TargetsForm(request.POST)
        # A bad or missing year is never taken for this year's targets.
        year_given = not year_form.errors and year_form.cleaned_data["year"] is not None
        if not (year_given or year_form.errors):
            messages.error(request, _("Say which year the targets are for."))
        if form.is_valid() and year_given:
            done = attempt(
                request,
                lambda: services.set_targets(year, form.cleaned_data, request.user),
                _("The targets for %(year)d are saved.") % {"year": year},
                form=form,
            )
            if done is not FAILED:
                return redirect(_back(year))
        elif not form.is_valid():
            messages.error(request, _("Please correct the fields below."))
    else:
        existing = dict(YearlyTarget.objects.filter(year=year).values_list("indicator", "value"))
        form = TargetsForm(
            initial={row.code: shown(row, existing.get(row.code)) for row in INDICATORS}
        )
    return render(
        request, "workplan/targets.html", {"form": form, "year": year, "year_form": year_form}
    )


# --- monthly actuals (staff) ----------------------------------------------------------


def _actuals_page(request, year: int, form: ActualForm, problems=None, more_problems=0, status=200):
    grid: dict[str, dict[int, object]] = {}
    rows = MonthlyActual.objects.filter(year=year).values_list("indicator", "month", "value")
    for code, month, value in rows:
        grid.setdefault(code, {})[month] = value
    table = [
        (
            indicator,
            [
                charts.number(grid.get(indicator.code, {}).get(m), indicator.places)
                for m in range(1, 13)
            ],
        )
        for indicator in ENTERED_INDICATORS
    ]
    return render(
        request,
        "workplan/actuals.html",
        {
            "year": year,
            "year_form": YearForm(initial={"year": year}),
            "form": form,
            "import_form": ImportForm(),
            "table": table,
            "months": range(1, 13),
            "problems": problems,
            "more_problems": more_problems,
        },
        status=status,
    )


def _last_month() -> tuple[int, int]:
    today = timezone.localdate()
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


@login_required
def actuals_page(request):
    _only(request, Role.STAFF)
    if request.method == "POST":
        form = ActualForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            done = attempt(
                request,
                lambda: services.record_actual(
                    year=data["year"],
                    month=data["month"],
                    indicator=data["indicator"],
                    value=data["value"],
                    by=request.user,
                ),
                _("The monthly actual is recorded."),
                form=form,
            )
            if done is not FAILED:
                return redirect(f"{reverse('workplan-actuals')}?year={data['year']}")
        else:
            messages.error(request, _("Please correct the fields below."))
        year = form.cleaned_data.get("year") or timezone.localdate().year
        return _actuals_page(request, year, form)
    _year_form, year = _year(request)
    last_year, last_month = _last_month()
    form = ActualForm(initial={"year": year, "month": last_month if year == last_year else 1})
    return _actuals_page(request, year, form)


@login_required
@require_POST
def import_actuals(request):
    _only(request, Role.STAFF)
    year = timezone.localdate().year
    upload = ImportForm(request.POST, request.FILES)
    if not upload.is_valid():
        messages.error(request, _("Choose the filled template (.xlsx) to import."))
        return _actuals_page(request, year, ActualForm(initial={"year": year}), status=400)
    file = upload.cleaned_data["file"]
    try:
        check_file_size(file.size, UploadLimits.from_settings())  # before reading it
        outcome = services.import_actuals(file.read(), file.name, request.user)
    except excel.ImportRefused as refused:
        messages.error(request, refused.messages[0])
        shown_problems = refused.problems[:PROBLEMS_SHOWN]
        return _actuals_page(
            request,
            year,
            ActualForm(initial={"year": year}),
            problems=shown_problems,
            more_problems=len(refused.problems) - len(shown_problems),
            status=400,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _actuals_page(request, year, ActualForm(initial={"year": year}), status=400)
    messages.success(
        request,
        _(
            "Imported: %(stored)d values recorded, %(unchanged)d already so, "
            "%(skipped)d rows without a value left out."
        )
        % {"stored": outcome.stored, "unchanged": outcome.unchanged, "skipped": outcome.skipped},
    )
    return redirect("workplan-actuals")


@login_required
@require_safe
def actuals_template(request):
    _only(request, Role.STAFF)
    year, month = _last_month()
    response = HttpResponse(excel.template_workbook(year, month), content_type=excel.XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="workplan-actuals-{year}.xlsx"'
    return response


# --- upward recommendations (staff) ---------------------------------------------------


def _recommend_page(request, project, form=None, result_form=None, result_for=None, status=200):
    return render(
        request,
        "workplan/recommend.html",
        {
            "project": project,
            "recommendations": project.upward_recommendations.select_related(
                "recommended_by", "recorded_by"
            ),
            "form": form or RecommendForm(initial={"recommended_on": timezone.localdate()}),
            "result_form": result_form,
            "result_for": result_for,
            "blank_result_form": ResultForm(
                initial={"decided_on": timezone.localdate().isoformat()}
            ),
            "may_recommend": project.status in services.RECOMMENDABLE_STATES,
            "is_staff_user": has_role(request.user, Role.STAFF),
            "wan_yuan": WAN_YUAN,
        },
        status=status,
    )


@login_required
def recommend_page(request, pk: int):
    _staff_or_leader(request)
    project = get_object_or_404(Project, pk=pk)
    if request.method != "POST":
        return _recommend_page(request, project)
    _only(request, Role.STAFF)
    form = RecommendForm(request.POST)
    if form.is_valid():
        done = attempt(
            request,
            lambda: services.recommend_upward(project.pk, request.user, **form.cleaned_data),
            _("The recommendation is recorded."),
            form=form,
        )
        if done is not FAILED:
            return redirect("workplan-recommend", pk=project.pk)
    else:
        messages.error(request, _("Please correct the fields below."))
    return _recommend_page(request, project, form=form, status=400)


@login_required
@require_POST
def record_result(request, pk: int):
    _only(request, Role.STAFF)
    recommendation = get_object_or_404(
        UpwardRecommendation.objects.select_related("project"), pk=pk
    )
    form = ResultForm(request.POST)
    if form.is_valid():
        done = attempt(
            request,
            lambda: services.record_recommendation_result(
                recommendation.pk, request.user, **form.cleaned_data
            ),
            _("The result is recorded."),
            form=form,
        )
        if done is not FAILED:
            return redirect("workplan-recommend", pk=recommendation.project_id)
    else:
        messages.error(request, _("Please correct the fields below."))
    return _recommend_page(
        request,
        recommendation.project,
        result_form=form,
        result_for=recommendation.pk,
        status=400,
    )
