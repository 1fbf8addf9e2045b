"""Amounts on every path (issue 9, DESIGN §5): two decimals, at most AMOUNT_MAX, written in
full (no exponent), no NaN or Infinity, no NUL. Each bad amount on each path (form pages,
the admin, the contract's terms, the ledger import in CSV and XLSX, the API) is a clear
error naming the rule, with nothing stored and never a server error."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook
from rest_framework import serializers

from accounts.text import OUR_APPS
from funding.amounts import AmountError, AmountSerializerField, parse_amount
from funding.contracts import contract_of
from funding.ledger_import import import_ledger
from funding.models import Expenditure, Project
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from trail.models import Event
from workflows import demo

from .forms_support import application_form, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

ROOT = Path(__file__).resolve().parent.parent
EXPONENT = "write the number in full, without exponent"
DECIMALS = "at most two decimals"
TOO_LARGE = "at most 100,000,000.00 yuan"
NOT_FINITE = "NaN and Infinity are not numbers"
CONTROL = "a control character (such as NUL) is not part of a number"
# Each bad amount and the words its error must carry.
BAD = {
    "1e10": EXPONENT,
    "1E5": EXPONENT,
    "1e20": EXPONENT,
    "2.5e+3": EXPONENT,
    "NaN": NOT_FINITE,
    "Infinity": NOT_FINITE,
    "-inf": NOT_FINITE,
    "12.345": DECIMALS,
    "100000000.01": TOO_LARGE,
    "999999999999": TOO_LARGE,
    "1,00": "commas may only group thousands",
    "9" * 40: TOO_LARGE,
}
# In a form, a NUL is also a bad amount (the import reports it as a control character).
FORM_BAD = {**BAD, "1\x00": CONTROL}
DAY = (datetime.date.today() - datetime.timedelta(days=5)).isoformat()


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


def snapshot() -> tuple:
    """Row counts of every model of ours, and the trail head: 'nothing stored' exactly."""
    counts = tuple(
        model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and not model._meta.proxy
    )
    return counts, Event.objects.aggregate(head=Max("seq"))["head"]


def project_in(county, state: str, title: str = "金额规则测试项目") -> Project:
    project = demo.draft_project(county, "applicant", title, "600000")
    return demo.advance(county, project, state)


def refused_everywhere(client, url: str, data: dict, field: str, bad: dict = FORM_BAD):
    """Each bad value in `field`: a page (never a 500) naming the rule, nothing stored."""
    before = snapshot()
    for value, words in bad.items():
        response = client.post(url, {**data, field: value})
        assert response.status_code < 500, value
        assert words in response.content.decode(), (field, value)
        assert snapshot() == before, (field, value)


# --- the parser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, amount",
    [
        ("1234.56", "1234.56"),
        (" 85,000.00 ", "85000.00"),
        ("1,234,567.8", "1234567.80"),
        ("100000000", "100000000.00"),
        ("1.500", "1.50"),  # trailing zeros are no decimals
        (".5", "0.50"),
        ("-5", "-5.00"),  # the sign is read; each path says whether it may be negative
    ],
)
def test_plain_amounts_are_read(text, amount):
    assert str(parse_amount(text)) == amount


@pytest.mark.parametrize("text", [*BAD, "1\x00", "abc", "１２３", "¥5", "1 000", "", "9" * 41])
def test_every_other_text_is_refused_with_its_reason(text):
    with pytest.raises(AmountError) as refused:
        parse_amount(text)
    if text in BAD:
        assert BAD[text] in refused.value.why


def test_the_bound_is_a_setting(settings):
    settings.AMOUNT_MAX = "1000"
    assert parse_amount("1000") == Decimal("1000.00")
    with pytest.raises(AmountError, match="at most 1,000.00 yuan"):
        parse_amount("1000.01")


@pytest.mark.parametrize("value", ["1e8", "0", "12.345", "abc"])
def test_a_mistyped_amount_max_stops_the_start_with_a_clear_message(value):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "AMOUNT_MAX": value},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "AMOUNT_MAX: an amount in yuan above 0" in result.stderr


# --- form pages -----------------------------------------------------------------------------


def test_the_expenditure_form_refuses_every_bad_amount(client, county):
    project = project_in(county, S.IN_PROGRESS)
    client.force_login(project.pi)
    voucher = {
        "voucher_no": "JZ-1",
        "spent_on": DAY,
        "category": "operations",
        "payee": "某检测中心",
        "method": "transfer",
        "amount": "1200.00",
    }
    url = reverse("project-funds", args=[project.pk])
    refused_everywhere(client, url, voucher, "amount")
    # Typed as it was: the form comes back with the bad value in it.
    page = client.post(url, {**voucher, "amount": "1e10"}).content.decode()
    assert 'value="1e10"' in page and 'value="某检测中心"' in page
    assert not Expenditure.objects.exists()  # "1e10" was stored as 10,000,000,000 before
    client.post(url, voucher)
    assert Expenditure.objects.get().amount == Decimal("1200.00")


def test_the_application_refuses_every_bad_amount(client, county, applicant):
    client.force_login(applicant)
    url = reverse("apply", args=[county.call.pk])
    data = application_form(county.call)
    refused_everywhere(client, url, data, "requested_amount")
    refused_everywhere(client, url, data, "equipment")
    assert client.post(url, data).status_code == 302


def test_the_budget_review_refuses_every_bad_approved_amount(client, county, staff):
    project = project_in(county, S.BUDGET_REVIEW)
    client.force_login(staff)
    name = "finish_budget_review"
    data = {
        f"{name}-{line.category}_approved": str(line.amount) for line in project.budget_lines.all()
    }
    url = reverse("project-action", args=[project.pk, name])
    refused_everywhere(client, url, data, f"{name}-operations_approved")
    client.post(url, data)
    assert Project.objects.get(pk=project.pk).status == S.PENDING_APPROVAL


def test_the_disbursement_refuses_every_bad_amount(client, county, staff):
    project = project_in(county, S.CONTRACTED)
    client.force_login(staff)
    data = {"disburse-amount": "100000.00", "disburse-tranche": "首笔拨付"}
    url = reverse("project-action", args=[project.pk, "disburse"])
    refused_everywhere(client, url, data, "disburse-amount")
    client.post(url, data)
    assert Project.objects.get(pk=project.pk).disbursed_total == Decimal("100000.00")


def test_the_budget_adjustment_refuses_every_bad_amount(client, county):
    project = project_in(county, S.IN_PROGRESS)
    client.force_login(project.pi)
    data = {
        "from_category": "operations",
        "to_category": "labour",
        "amount": "1000.00",
        "reason": "劳务人员增加。",
    }
    refused_everywhere(client, reverse("budget-adjust", args=[project.pk]), data, "amount")


def test_the_admin_refuses_a_bad_funding_cap(client, county):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass")
    client.force_login(root)
    url = reverse("admin:funding_call_change", args=[county.call.pk])
    shown = form_data(client.get(url).context["adminform"].form)
    refused_everywhere(client, url, shown, "funding_cap")
    county.call.refresh_from_db()
    assert county.call.funding_cap == Decimal("1000000.00")


def test_the_contract_terms_refuse_bad_amounts_and_exponent_targets(client, county):
    project = project_in(county, S.APPROVED)
    client.force_login(project.pi)
    url = reverse("contract", args=[project.pk]) + "terms/"
    future = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()
    half = (project.approved_amount / 2).quantize(Decimal("0.01"))
    good = {
        "targets": "识别准确率, %, 90\n推广面积, 亩, 5000",
        "milestones": f"中期检查, {future}",
        "schedule": f"首笔, {half}, 签订后\n第二笔, {project.approved_amount - half}, 中期检查",
    }
    before = snapshot()
    for value, words in BAD.items():
        if "," in value:  # a comma separates the fields of a line
            continue
        schedule = f"首笔, {value}, 签订后\n第二笔, {half}, 中期检查"
        page = client.post(url, {**good, "schedule": schedule}).content.decode()
        assert f"Line 1: “{value}”: {words}" in page, value
    for value in ["1e5", "1E2", "NaN", "Infinity", "90.12345"]:
        targets = f"识别准确率, %, 90\n推广面积, 亩, {value}"
        page = client.post(url, {**good, "targets": targets}).content.decode()
        assert f"Line 2: “{value}”:" in page, value
    assert snapshot() == before
    assert client.post(url, good).status_code == 302


def test_achieved_values_refuse_exponent_and_nan(client, county):
    project = project_in(county, S.IN_PROGRESS)
    client.force_login(project.pi)
    targets = list(contract_of(project).targets.all())
    data = {f"achieved_{t.pk}": "1" for t in targets}
    data.update({f"note_{t.pk}": "" for t in targets})
    before = snapshot()
    for value, words in [("1e5", EXPONENT), ("NaN", NOT_FINITE), ("Infinity", NOT_FINITE)]:
        response = client.post(
            reverse("contract-achieved", args=[project.pk]),
            {**data, f"achieved_{targets[0].pk}": value},
        )
        assert response.status_code == 400 and words in response.content.decode()
    assert snapshot() == before


def test_the_bound_follows_the_setting_on_the_pages(client, county, settings):
    settings.AMOUNT_MAX = "50000"
    project = project_in(county, S.CONTRACTED)
    client.force_login(county.users["staff"])
    url = reverse("project-action", args=[project.pk, "disburse"])
    page = client.post(url, {"disburse-amount": "50000.01", "disburse-tranche": "首笔"})
    assert "at most 50,000.00 yuan" in page.content.decode()


def test_the_services_apply_the_same_rules_to_numbers_handed_over(county):
    project = project_in(county, S.IN_PROGRESS)
    entry = {
        "voucher_no": "JZ-1",
        "spent_on": datetime.date.today(),
        "category": "operations",
        "payee": "某公司",
        "method": "transfer",
    }
    for amount, words in [(Decimal("1E+10"), TOO_LARGE), (Decimal("12.345"), DECIMALS)]:
        with pytest.raises(ValidationError, match=words):
            record_expenditure(project, project.pi, {**entry, "amount": amount})
    assert not Expenditure.objects.exists()


# --- the ledger import: CSV and XLSX --------------------------------------------------------

HEADER = "凭证号,日期,科目,收款方,支付方式,金额,备注\n"


def row(voucher="JZ-1", payee="某检测中心", amount="1200", note="") -> str:
    return f'{voucher},{DAY},业务费,{payee},转账,"{amount}",{note}\n'


def test_every_bad_amount_or_cell_in_a_csv_is_a_row_error_and_nothing_is_stored(county):
    project = project_in(county, S.IN_PROGRESS)
    rows = [row(amount=value) for value in BAD] + [
        row(voucher="V" * 51),  # the column holds 50
        row(voucher="V" * 300),
        row(payee="某" * 201),  # the column holds 200
        row(voucher="JZ\x00-9"),
        row(amount="12\x0000"),
        row(note="备\x00注"),  # a column not imported
    ]
    before = snapshot()
    result = import_ledger(project, project.pi, (HEADER + "".join(rows)).encode(), "l.csv")
    assert result.imported == 0 and snapshot() == before
    assert len(result.errors) == len(rows)
    for number, (value, words) in enumerate(BAD.items(), start=2):
        assert result.errors[number - 2].startswith(f"Row {number}: amount “{value}”: {words}")
    more = result.errors[len(BAD) :]
    assert "the voucher number is longer than 50 characters" in more[0]
    assert "the voucher number is longer than 50 characters" in more[1]
    assert "the payee is longer than 200 characters" in more[2]
    assert "a control character (such as NUL or a line break) in the voucher number" in more[3]
    assert "a control character (such as NUL or a line break) in the amount" in more[4]
    assert "a NUL character in a column not imported" in more[5]


def test_the_import_page_shows_the_report_and_never_fails(client, county):
    project = project_in(county, S.IN_PROGRESS)
    client.force_login(project.pi)
    content = (HEADER + row(amount="1e20") + row(voucher="V" * 80) + row(note="\x00")).encode()
    upload = io.BytesIO(content)
    upload.name = "ledger.csv"
    before = snapshot()
    response = client.post(
        reverse("ledger-import", args=[project.pk]), {"file": upload}, follow=True
    )
    page = response.content.decode()
    assert response.status_code == 200 and snapshot() == before
    assert f"Row 2: amount “1e20”: {EXPONENT}" in page
    assert "Row 3: the voucher number is longer than 50 characters" in page
    assert "Nothing was imported" in page


def xlsx(*rows) -> bytes:
    book = Workbook()
    book.active.append(["voucher_no", "date", "category", "payee", "method", "amount"])
    for values in rows:
        book.active.append(list(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_row(voucher="X-1", amount=1200, payee="某劳务公司"):
    return [voucher, datetime.date.today(), "labour", payee, "transfer", amount]


def test_every_bad_amount_or_cell_in_an_xlsx_is_a_row_error(county):
    project = project_in(county, S.IN_PROGRESS)
    content = xlsx(
        xlsx_row(amount=1e20),  # a number cell: judged as the number it is
        xlsx_row(amount="1e10"),  # a text cell, as typed
        xlsx_row(amount=1234.567),
        xlsx_row(amount=100000000.5),
        xlsx_row(amount="NaN"),
        xlsx_row(voucher="V" * 51),
        xlsx_row(payee="某" * 201),
    )
    before = snapshot()
    result = import_ledger(project, project.pi, content, "ledger.xlsx")
    assert result.imported == 0 and snapshot() == before
    assert [e.split(":")[0] for e in result.errors] == [f"Row {n}" for n in range(2, 9)]
    assert TOO_LARGE in result.errors[0]
    assert EXPONENT in result.errors[1]
    assert DECIMALS in result.errors[2]
    assert TOO_LARGE in result.errors[3]
    assert NOT_FINITE in result.errors[4]
    assert "voucher number is longer than 50" in result.errors[5]
    assert "payee is longer than 200" in result.errors[6]


def test_an_xlsx_sum_with_binary_residue_is_read_as_the_amount_it_shows(county):
    project = project_in(county, S.IN_PROGRESS)
    result = import_ledger(project, project.pi, xlsx(xlsx_row(amount=0.1 + 0.2)), "l.xlsx")
    assert result.errors == [] and Expenditure.objects.get().amount == Decimal("0.30")


def test_an_xlsx_with_a_nul_in_a_cell_is_refused_as_unreadable(county):
    """XML cannot carry a NUL: such a file is no workbook, refused whole with a message."""
    project = project_in(county, S.IN_PROGRESS)
    original = zipfile.ZipFile(io.BytesIO(xlsx(xlsx_row(voucher="NULMARK"))))
    crafted = io.BytesIO()
    with zipfile.ZipFile(crafted, "w") as archive:
        for item in original.infolist():
            data = original.read(item.filename).replace(b"NULMARK", b"A&#0;B")
            archive.writestr(item, data)
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        import_ledger(project, project.pi, crafted.getvalue(), "ledger.xlsx")
    assert not Expenditure.objects.exists()


# --- the API --------------------------------------------------------------------------------


def test_the_api_shows_amounts_and_takes_none(client, county, draft, staff):
    client.force_login(staff)
    shown = client.get(f"/api/projects/{draft.pk}/").json()
    assert shown["requested_amount"] == "600000.00" and shown["approved_amount"] is None
    before = snapshot()
    for value in [*BAD, "1\x00"]:
        for method in (client.patch, client.put, client.post):
            response = method(
                f"/api/projects/{draft.pk}/",
                {"requested_amount": value},
                content_type="application/json",
            )
            assert response.status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("value, words", [*BAD.items(), ("1\x00", CONTROL)])
def test_the_api_amount_field_refuses_what_the_forms_refuse(value, words):
    field = AmountSerializerField()
    with pytest.raises(serializers.ValidationError) as refused:
        field.run_validation(value)
    assert words in str(refused.value.detail[0])


def test_the_api_amount_field_takes_plain_amounts_and_json_numbers():
    field = AmountSerializerField()
    assert field.run_validation("85,000.5") == Decimal("85000.50")
    assert field.run_validation(1200) == Decimal("1200.00")
    assert field.run_validation(12.5) == Decimal("12.50")
    with pytest.raises(serializers.ValidationError):
        field.run_validation(1e20)
