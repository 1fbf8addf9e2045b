"""The application form (申报书) as a PDF, printed from what was filed (issue 8).

An official Chinese document, like the certificate and the decision letter: its labels
are literal Chinese and the states and budget categories are printed in Chinese, whatever
the reader's language. Team members' ID numbers are printed masked, as the pages show them.
Not signed: it is a copy of the filing, not a decision. The engine is documents.pdf.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.utils import timezone, translation

from accounts.identity import mask_id_number
from documents.pdf import render_pdf, static_file_url

from .models import BudgetLine, Project
from .services import budget_lines_in_order
from .states import BudgetCategory

TEMPLATE = "funding/application_form.html"
STYLESHEET = Path("funding") / "application.css"  # under BASE_DIR / "static"
DOCUMENT_LANGUAGE = "zh-hans"  # state names, whatever the reader's language
# The budget's subjects as the official forms print them (32号 splits equipment).
CATEGORY_NAMES = {
    BudgetCategory.EQUIPMENT: "设备费（购置）",
    BudgetCategory.EQUIPMENT_OTHER: "设备费（试制、改造、租赁）",
    BudgetCategory.OPERATIONS: "业务费",
    BudgetCategory.LABOUR: "劳务费",
    BudgetCategory.INDIRECT: "间接费用",
}


@dataclass(frozen=True)
class BudgetRow:
    category: str  # e.g. "设备费"
    requested: str  # "180,000.00"
    approved: str  # "" while not approved


@dataclass(frozen=True)
class TeamRow:
    name: str
    id_number: str  # masked: "330100********1234"
    duty: str


@dataclass(frozen=True)
class ApplicationFormData:
    call_title: str
    programme: str
    project_title: str  # user text: escaped by the template
    field: str
    start_date: str  # "2026-01-01"
    end_date: str
    requested_amount: str  # "600,000.00"
    budget: tuple[BudgetRow, ...]
    budget_total: str
    team: tuple[TeamRow, ...]
    applicant_org: str
    pi_name: str
    summary: str
    commitment_signed_at: str  # "2026年11月25日 14:30", "" when not signed
    state: str  # e.g. "专家评审"
    printed_on: str  # "2026年11月26日"


def money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,.2f}"


def chinese_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def category_name(line: BudgetLine) -> str:
    return CATEGORY_NAMES.get(line.category, line.category)


def application_form_data(project: Project) -> ApplicationFormData:
    """What the form prints, read from the filed project (its budget and team)."""
    lines = budget_lines_in_order(project)
    signed = project.commitment_signed_at
    signed_text = ""
    if signed is not None:
        local = timezone.localtime(signed)
        signed_text = f"{chinese_date(local.date())} {local:%H:%M}"
    with translation.override(DOCUMENT_LANGUAGE):
        state = str(project.get_status_display())
    budget = tuple(
        BudgetRow(category_name(line), money(line.amount), money(line.approved)) for line in lines
    )
    return ApplicationFormData(
        call_title=project.call.title,
        programme=project.call.program,
        project_title=project.title,
        field=project.field,
        start_date=project.start_date.isoformat(),
        end_date=project.end_date.isoformat(),
        requested_amount=money(project.requested_amount),
        budget=budget,
        budget_total=money(sum((line.amount for line in lines), Decimal("0.00"))),
        team=tuple(
            TeamRow(member.name, mask_id_number(member.id_number), member.duty)
            for member in project.team.order_by("pk")  # as filed
        ),
        applicant_org=project.applicant_org.name,
        pi_name=str(project.pi),
        summary=project.summary,
        commitment_signed_at=signed_text,
        state=state,
        printed_on=chinese_date(timezone.localdate()),
    )


def render_application_pdf(data: ApplicationFormData) -> bytes:
    """The form as PDF bytes (A4, as many pages as the summary and team need)."""
    context = {"data": data, "css_url": static_file_url(STYLESHEET)}
    return render_pdf(TEMPLATE, context)


def application_pdf(project: Project) -> bytes:
    return render_application_pdf(application_form_data(project))
