"""Uploads are read within limits before anything is locked (issue 6): a hostile or
careless ledger export gets a clear message naming the limit, stores nothing, and never
answers 500; on PostgreSQL, the project's row stays free while such a file is refused."""

from __future__ import annotations

import datetime
import io
import threading
import zipfile

import pytest
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from openpyxl import Workbook

from funding.ledger_import import import_ledger
from funding.models import Expenditure, Project
from funding.states import ProjectStatus as S
from trail.models import Event
from workflows import demo

DAY = (datetime.date.today() - datetime.timedelta(days=20)).isoformat()
HEADER = "凭证号,日期,科目,收款方,支付方式,金额\n"
GOOD = f"JZ-01,{DAY},设备费,杭州某仪器有限公司,转账,1200\n"
MiB = 1024 * 1024


@pytest.fixture
def running(county, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # where a large import's file would wait
    project = demo.draft_project(county, "applicant", "导入项目", "600000")
    return demo.advance(county, project, S.IN_PROGRESS)


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_shared_strings(xlsx: bytes, text_bytes: int) -> bytes:
    """The workbook with one shared string of `text_bytes` repeated characters: a few
    hundred KB on disk, however large it unpacks (the 1.8 GB case of issue 6)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for member in source.infolist():
            if member.filename != "xl/sharedStrings.xml":
                bomb.writestr(member, source.read(member))
        with bomb.open("xl/sharedStrings.xml", "w", force_zip64=True) as strings:
            strings.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            strings.write(b"<si><t>")
            chunk = b"a" * MiB
            for _ in range(text_bytes // MiB):
                strings.write(chunk)
            strings.write(b"</t></si></sst>")
    return out.getvalue()


def upload(client, project, content: bytes, name: str) -> str:
    """Post the file as the PI; the page it ends on (never a server error)."""
    client.cookies["django_language"] = "en"
    client.force_login(project.pi)
    file = io.BytesIO(content)
    file.name = name
    page = client.post(reverse("ledger-import", args=[project.pk]), {"file": file}, follow=True)
    assert page.status_code == 200
    return page.content.decode()


def stored() -> tuple[int, int]:
    return Expenditure.objects.count(), Event.objects.count()


def refused(client, project, content: bytes, name: str, message: str) -> str:
    before = stored()
    page = upload(client, project, content, name)
    assert message in page, page
    assert stored() == before
    return page


BOMB_MESSAGE = "The workbook unpacks to more than 50.0\xa0MB, the limit; it cannot be read."


@pytest.mark.django_db
def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(client, running):
    header = [["凭证号", "日期", "科目", "收款方", "支付方式", "金额"]]
    bomb = with_shared_strings(workbook(header), 64 * MiB)
    assert len(bomb) < MiB
    refused(client, running, bomb, "ledger.xlsx", BOMB_MESSAGE)


@pytest.mark.django_db
def test_one_huge_shared_string_is_refused_by_its_compression_ratio(client, running):
    header = [["凭证号", "日期", "科目", "收款方", "支付方式", "金额"]]
    refused(
        client,
        running,
        with_shared_strings(workbook(header), 20 * MiB),  # under 50 MB, but 1000 to 1
        "ledger.xlsx",
        "A part of the workbook is compressed more than 100 to 1, the limit",
    )


@pytest.mark.django_db
def test_a_400000_row_csv_is_refused_by_the_row_limit(client, running):
    content = (HEADER + "1,1,1,1,1,1\n" * 400_000).encode()
    assert len(content) < 5 * MiB  # under the size limit: the rows are what is refused
    page = refused(
        client,
        running,
        content,
        "ledger.csv",
        "The file has more than 20000 rows, the limit for one import",
    )
    assert 'data-job-status="failed"' in page  # read by the background job, then refused


@pytest.mark.django_db
def test_an_xlsx_with_more_rows_than_the_limit_is_refused(client, settings, running):
    settings.LEDGER_IMPORT_MAX_ROWS = 50
    rows = [["voucher_no", "date", "category", "payee", "method", "amount"]]
    rows += [[f"X-{n}", DAY, "labour", "某公司", "transfer", 10] for n in range(60)]
    refused(client, running, workbook(rows), "ledger.xlsx", "The file has more than 50 rows")


@pytest.mark.django_db
@pytest.mark.parametrize("length", [1001, 140 * 1024])  # our limit; the csv module's 128 KiB
def test_a_cell_longer_than_the_limit_is_refused(client, running, length):
    content = HEADER + GOOD + f'JZ-02,{DAY},设备费,"{"某" * length}",转账,1\n'
    refused(
        client,
        running,
        content.encode(),
        "ledger.csv",
        "Row 3 has a cell longer than 1000 characters, the limit",
    )


@pytest.mark.django_db
def test_a_long_cell_in_a_workbook_is_refused(client, running):
    rows = [["voucher_no", "date", "category", "payee", "method", "amount"]]
    rows += [["X-1", DAY, "labour", "某" * 1001, "transfer", 10]]
    refused(client, running, workbook(rows), "ledger.xlsx", "Row 2 has a cell longer than 1000")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "row, problem",
    [
        (f"JZ-\x0002,{DAY},设备费,某公司,转账,1", "a control character (such as NUL"),
        (f"JZ-02,{DAY},设备费,某\x07公司,转账,1", "a control character (such as NUL"),
        (f'JZ-02,{DAY},设备费,"某\n公司",转账,1', "a line break) in the payee"),
        (f"{'J' * 51},{DAY},设备费,某公司,转账,1", "the voucher number is longer than 50"),
        (f"JZ-02,{DAY},设备费,{'某' * 201},转账,1", "the payee is longer than 200 characters"),
        (f"JZ-02,{DAY},设备费,某公司,转账,1e12", "amount “1e12”: write the number in full"),
        (f"JZ-02,{DAY},设备费,某公司,转账,1000000000000", "at most 100,000,000.00 yuan"),
        (f"JZ-02,{DAY},设备费,某公司,转账,NaN", "amount “NaN”: NaN and Infinity are not numbers"),
        (f"JZ-02,{DAY},设备费,某公司,转账,Infinity", "“Infinity”: NaN and Infinity are not"),
        (f"JZ-02,{DAY},设备费,某公司,转账,-1e30", "amount “-1e30”: write the number in full"),
    ],
)
def test_a_bad_row_is_reported_by_its_number_and_nothing_is_stored(client, running, row, problem):
    page = refused(client, running, (HEADER + GOOD + row + "\n").encode(), "ledger.csv", problem)
    assert "Row 3: " in page
    assert "Nothing was imported: correct the file and upload it again." in page


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(client, settings, running):
    settings.LEDGER_IMPORT_MAX_BYTES = 100
    content = (HEADER + GOOD * 3).encode()
    refused(client, running, content, "ledger.csv", "The file is larger than 100")


@pytest.mark.django_db
def test_reading_past_the_time_budget_is_refused(client, settings, running):
    settings.LEDGER_IMPORT_SECONDS = -1  # a deadline already passed: no clock in the test
    refused(
        client,
        running,
        (HEADER + GOOD).encode(),
        "ledger.csv",
        "Reading the file took more than -1 seconds, the limit",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "content", [b"PK\x03\x04 not really a zip", b"\x00" * 100, workbook([])[:200]]
)
def test_a_broken_workbook_is_refused(client, running, content):
    refused(client, running, content, "ledger.xlsx", "The file is not a readable XLSX workbook.")


@pytest.mark.django_db
def test_a_nul_in_the_file_name_is_not_stored(client, running):
    upload(client, running, (HEADER + GOOD).encode(), "led\x00ger.csv")
    assert Expenditure.objects.count() == 1
    assert Event.objects.filter(data__import="ledger.csv").exists()


# PostgreSQL: a refused upload never waits for, nor takes, the project's row lock.


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks (set DATABASE_URL=postgres://…)",
)
def test_a_bomb_is_refused_while_staff_hold_the_project_row(client, running):
    """Someone else holds the project's row (as a disbursement does) the whole time; with
    a lock timeout on this connection, anything that needed the row would fail instead of
    waiting. The bomb and a bad CSV are refused all the same: read before any lock."""
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Project.objects.select_for_update().get(pk=running.pk)
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        header = [["凭证号", "日期", "科目", "收款方", "支付方式", "金额"]]
        bomb = with_shared_strings(workbook(header), 64 * MiB)
        refused(client, running, bomb, "ledger.xlsx", BOMB_MESSAGE)
        bad = (HEADER + GOOD + f"JZ-\x0002,{DAY},设备费,某公司,转账,1\n").encode()
        refused(client, running, bad, "ledger.csv", "Row 3: a control character")
        # The check is real: a clean file must take the row, and cannot while it is held.
        with pytest.raises(OperationalError):
            import_ledger(running, running.pi, (HEADER + GOOD).encode(), "ledger.csv")
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert import_ledger(running, running.pi, (HEADER + GOOD).encode(), "ledger.csv").imported == 1
