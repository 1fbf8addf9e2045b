"""Importing the expenditure ledger from finance software: CSV (UTF-8 or GBK) and XLSX,
a row-by-row error report, nothing imported from a bad file, re-import adds nothing."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import Workbook

from funding.ledger_import import import_ledger
from funding.models import Expenditure
from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db
DAY = (datetime.date.today() - datetime.timedelta(days=20)).isoformat()
HEADER = "凭证号,日期,科目,收款方,支付方式,金额\n"
ROWS = (
    f'JZ-01,{DAY},设备费,杭州某仪器有限公司,转账,"85,000.00"\n'
    f"JZ-02,{DAY},业务费,某检测中心,公务卡,1200\n"
)


@pytest.fixture
def running(county):
    project = demo.draft_project(county, "applicant", "导入项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def test_a_utf8_csv_with_chinese_headers_is_imported_and_reimport_adds_nothing(running):
    content = (HEADER + ROWS).encode("utf-8-sig")
    first = import_ledger(running, running.pi, content, "ledger.csv")
    assert (first.imported, first.already_there, first.errors) == (2, 0, [])
    again = import_ledger(running, running.pi, content, "ledger.csv")
    assert (again.imported, again.already_there) == (0, 2)
    assert Expenditure.objects.filter(project=running).count() == 2
    assert str(Expenditure.objects.get(voucher_no="JZ-01").amount) == "85000.00"


def test_a_gbk_export_and_identical_rows_count_separately(running):
    twice = HEADER + ROWS + ROWS.splitlines()[1] + "\n"
    result = import_ledger(running, running.pi, twice.encode("gbk"), "ledger.csv")
    assert result.imported == 3  # the same voucher line twice is two payments (and a flag)


def test_an_xlsx_workbook_is_imported(running):
    book = Workbook()
    sheet = book.active
    sheet.append(["voucher_no", "date", "category", "payee", "method", "amount"])
    sheet.append(
        [
            "X-1",
            datetime.date.today() - datetime.timedelta(days=3),
            "labour",
            "某劳务公司",
            "transfer",
            6000,
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_ledger(running, running.pi, buffer.getvalue(), "ledger.xlsx")
    assert result.imported == 1 and Expenditure.objects.get().category == "labour"


def test_every_bad_row_is_reported_and_nothing_is_imported(running):
    future = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    bad = (
        HEADER
        + ROWS
        + f"JZ-03,{future},设备费,某公司,转账,100\n"
        + f",{DAY},差旅费,,支票,-5\n"
        + "JZ-05,昨天,业务费,某公司,转账,abc\n"
    )
    result = import_ledger(running, running.pi, bad.encode(), "ledger.csv")
    assert result.imported == 0 and len(result.errors) == 3
    assert result.errors[0].startswith(("Row 4", "第4行"))
    assert not Expenditure.objects.exists()


def test_a_file_without_the_needed_columns_is_refused(running):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        import_ledger(running, running.pi, "凭证号,金额\nJZ-1,100\n".encode(), "ledger.csv")


def test_only_the_pi_imports(county, running):
    with pytest.raises(PermissionDenied):
        import_ledger(running, county.users["staff"], (HEADER + ROWS).encode(), "ledger.csv")


def test_the_pi_uploads_on_the_funds_page(client, running):
    client.force_login(running.pi)
    upload = io.BytesIO((HEADER + ROWS).encode())
    upload.name = "ledger.csv"
    client.post(reverse("ledger-import", args=[running.pk]), {"file": upload})
    assert Expenditure.objects.filter(project=running).count() == 2
    upload = io.BytesIO(b"not a ledger")
    upload.name = "ledger.pdf"
    response = client.post(
        reverse("ledger-import", args=[running.pk]), {"file": upload}, follow=True
    )
    assert response.status_code == 200 and Expenditure.objects.count() == 2
