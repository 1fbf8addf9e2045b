"""Importing the expenditure ledger from finance software: CSV (UTF-8 or GBK) and XLSX,
a row-by-row error report, nothing imported from a bad file, re-import adds nothing."""

import datetime
import io
import re

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


def workbook(header: list, rows) -> bytes:
    """An .xlsx file of `header` and `rows`, as finance software exports it."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


THREE_DAYS_AGO = datetime.date.today() - datetime.timedelta(days=3)


def test_an_xlsx_workbook_is_imported(running):
    content = workbook(
        ["voucher_no", "date", "category", "payee", "method", "amount"],
        [["X-1", THREE_DAYS_AGO, "labour", "某劳务公司", "transfer", 6000]],
    )
    result = import_ledger(running, running.pi, content, "ledger.xlsx")
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


# Large imports: more rows than LEDGER_IMPORT_SYNC_ROWS run as a job with a progress page.


@pytest.fixture
def stored_uploads(settings, tmp_path):
    """Files waiting for their job go to the default storage, here a temporary folder."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path / "ledger-imports"


def ledger(rows: int) -> bytes:
    lines = [f"JZ-{n:03d},{DAY},业务费,某检测中心,公务卡,{100 + n}\n" for n in range(rows)]
    return (HEADER + "".join(lines)).encode()


def post(client, project, content: bytes, name="ledger.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("ledger-import", args=[project.pk]), {"file": upload}, follow=True)


def test_a_large_import_runs_as_a_job_whose_page_shows_it_done(
    client, settings, stored_uploads, running
):
    from trail.models import Event

    settings.LEDGER_IMPORT_SYNC_ROWS = 3
    client.cookies["django_language"] = "en"
    client.force_login(running.pi)
    events = Event.objects.count()

    page = post(client, running, ledger(5))

    job = running.ledger_imports.get()
    assert page.redirect_chain[-1][0] == reverse("ledger-import-job", args=[running.pk, job.pk])
    text = page.content.decode()
    assert 'data-job-status="done"' in text and 'http-equiv="refresh"' not in text
    assert "5 of 5 rows read: 5 entries imported, 0 already there." in text
    assert Expenditure.objects.filter(project=running).count() == 5
    assert Event.objects.count() == events + 1  # one import, one event
    assert not any(stored_uploads.iterdir())  # the waiting file is gone once done

    again = post(client, running, ledger(5)).content.decode()
    assert "0 entries imported, 5 already there." in again
    assert Expenditure.objects.filter(project=running).count() == 5
    funds = client.get(reverse("project-funds", args=[running.pk])).content.decode()
    assert reverse("ledger-import-job", args=[running.pk, job.pk]) in funds


def test_a_large_file_with_bad_rows_fails_with_the_row_by_row_report(
    client, settings, stored_uploads, running
):
    settings.LEDGER_IMPORT_SYNC_ROWS = 3
    client.cookies["django_language"] = "en"
    client.force_login(running.pi)
    content = ledger(5) + "JZ-X,昨天,业务费,某公司,转账,100\n".encode()

    text = post(client, running, content).content.decode()

    assert 'data-job-status="failed"' in text
    assert "Row 7: “昨天” is not a date (YYYY-MM-DD)." in text
    assert "Nothing was imported: correct the file and upload it again." in text
    assert not Expenditure.objects.exists()


def test_a_queued_job_page_reloads_itself_until_the_task_has_run(
    client, county, stored_uploads, running
):
    from django.core.files.base import ContentFile

    from funding.import_jobs import LedgerImportJob
    from funding.tasks import run_ledger_import_job

    job = LedgerImportJob(project=running, started_by=running.pi, filename="ledger.csv")
    job.upload.save("upload", ContentFile(ledger(4)))
    client.cookies["django_language"] = "en"
    client.force_login(county.users["staff"])  # bureau staff follow it too
    url = reverse("ledger-import-job", args=[running.pk, job.pk])

    waiting = client.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in waiting
    assert 'data-job-status="queued"' in waiting
    assert not re.search(r"<script(?![^>]*\bsrc=)", waiting)  # no inline script (CSP)

    assert run_ledger_import_job.delay(job.pk).get() == "done"
    assert run_ledger_import_job.delay(job.pk).get() == "skipped"  # delivered twice: no change
    finished = client.get(url).content.decode()
    assert 'data-job-status="done"' in finished and "http-equiv" not in finished
    assert Expenditure.objects.filter(project=running).count() == 4


def test_a_job_unfinished_far_too_long_says_so_and_stops_reloading(
    client, county, settings, stored_uploads, running
):
    import datetime

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from funding.import_jobs import LedgerImportJob

    job = LedgerImportJob(project=running, started_by=running.pi, filename="ledger.csv")
    job.upload.save("upload", ContentFile(ledger(4)))
    late = timezone.now() - datetime.timedelta(minutes=settings.LEDGER_IMPORT_STUCK_MINUTES + 1)
    LedgerImportJob.objects.filter(pk=job.pk).update(created_at=late)
    client.cookies["django_language"] = "en"
    client.force_login(running.pi)
    page = client.get(reverse("ledger-import-job", args=[running.pk, job.pk])).content.decode()
    assert "http-equiv" not in page
    assert "has not finished in far longer than a file within the limits takes" in page
    assert not Expenditure.objects.filter(project=running).exists()


def test_only_the_pi_and_bureau_staff_see_an_import_job(client, county, settings, running):
    from funding.import_jobs import LedgerImportJob

    job = LedgerImportJob.objects.create(
        project=running, started_by=running.pi, filename="ledger.csv"
    )
    url = reverse("ledger-import-job", args=[running.pk, job.pk])
    for username, status in [
        ("applicant", 200),
        ("staff", 200),
        ("leader", 403),  # sees the fund trail, not the PI's import
        ("applicant2", 404),  # does not see the project at all
    ]:
        client.force_login(county.users[username])
        assert client.get(url).status_code == status, username
    client.force_login(running.pi)
    other = demo.advance(
        county, demo.draft_project(county, "applicant", "另一项目", "300000"), S.IN_PROGRESS
    )
    assert client.get(reverse("ledger-import-job", args=[other.pk, job.pk])).status_code == 404


def test_a_workbook_of_more_rows_than_the_default_threshold_goes_through_a_job(
    client, stored_uploads, running
):
    content = workbook(
        ["voucher_no", "date", "category", "payee", "method", "amount"],
        # above LEDGER_IMPORT_SYNC_ROWS (500) and a progress step
        ([f"X-{n}", DAY, "labour", "某劳务公司", "transfer", 10 + n] for n in range(600)),
    )
    client.cookies["django_language"] = "en"
    client.force_login(running.pi)

    text = post(client, running, content, "ledger.xlsx").content.decode()

    assert "600 of 600 rows read: 600 entries imported, 0 already there." in text
    assert Expenditure.objects.filter(project=running, category="labour").count() == 600


# At scale (issue 10): streamed, written in batches, de-duplicated by the database.


def test_an_open_file_is_read_as_a_stream_and_left_open(running):
    upload = io.BytesIO((HEADER + ROWS).encode("gb18030"))
    result = import_ledger(running, running.pi, upload, "ledger.csv")
    assert (result.imported, result.errors) == (2, [])
    assert not upload.closed  # the caller's file: the caller closes it
    assert Expenditure.objects.get(voucher_no="JZ-02").payee == "某检测中心"


def test_the_entries_of_an_earlier_import_keep_their_keys(running):
    """Keys are made as they always were, so an export imported before is still there."""
    import hashlib

    key = hashlib.sha256(
        f"JZ-01|{DAY}|equipment|杭州某仪器有限公司|transfer|85000.00|1".encode()
    ).hexdigest()
    Expenditure.objects.create(
        project=running,
        voucher_no="JZ-01",
        spent_on=datetime.date.fromisoformat(DAY),
        category="equipment",
        payee="杭州某仪器有限公司",
        method="transfer",
        amount="85000.00",
        import_key=key,
    )
    result = import_ledger(running, running.pi, (HEADER + ROWS).encode(), "ledger.csv")
    assert (result.imported, result.already_there) == (1, 1)


def test_an_amount_as_stored_or_written_otherwise_is_one_entry_held_to_the_maximum(
    running, settings
):
    """An amount written as stored (4999.50) is kept as written, without a Decimal made of
    it: the same entry as 4,999.5, and held to AMOUNT_MAX all the same."""
    settings.AMOUNT_MAX = "5000"
    day = DAY.replace("-", "/")
    first = import_ledger(
        running,
        running.pi,
        (HEADER + f"JZ-01,{DAY},业务费,某中心,转账,4999.50\n").encode(),
        "a.csv",
    )
    assert (first.imported, first.errors) == (1, [])
    again = (
        HEADER
        + f'JZ-01,{day},业务费,某中心,转账,"4,999.5"\nJZ-02,{DAY},业务费,某中心,转账,999.99\n'
    )
    second = import_ledger(running, running.pi, again.encode(), "b.csv")
    assert (second.imported, second.already_there, second.errors) == (1, 1, [])
    assert str(running.expenditures.get(voucher_no="JZ-02").amount) == "999.99"
    over = (
        HEADER + f"JZ-03,{DAY},业务费,某中心,转账,5000.01\nJZ-04,{DAY},业务费,某中心,转账,5000.00\n"
    )
    refused = import_ledger(running, running.pi, over.encode(), "c.csv")
    assert len(refused.errors) == 1 and refused.errors[0].startswith(("Row 2", "第2行"))
    assert running.expenditures.count() == 2


def test_rows_written_in_batches_are_imported_once(running, monkeypatch):
    import funding.ledger_import

    monkeypatch.setattr(funding.ledger_import, "BATCH", 2)
    twice = ROWS + ROWS.splitlines()[1] + "\n"  # one payment made twice
    content = (ledger(5).decode() + twice).encode()
    first = import_ledger(running, running.pi, content, "ledger.csv")
    assert (first.imported, first.already_there) == (8, 0)
    again = import_ledger(running, running.pi, content, "ledger.csv")
    assert (again.imported, again.already_there) == (0, 8)
    assert running.expenditures.count() == 8


def test_a_large_upload_waiting_on_disk_goes_through_a_job(
    client, settings, stored_uploads, running
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # Django keeps the upload in a temporary file
    settings.LEDGER_IMPORT_SYNC_ROWS = 3
    client.cookies["django_language"] = "en"
    client.force_login(running.pi)

    text = post(client, running, ledger(40)).content.decode()

    assert "40 of 40 rows read: 40 entries imported, 0 already there." in text
    assert running.expenditures.count() == 40


def test_backslashes_and_quotes_are_kept_as_written(running, monkeypatch):
    """PostgreSQL's COPY reads a backslash as an escape: the rows are written escaped."""
    import funding.ledger_import

    monkeypatch.setattr(funding.ledger_import, "BATCH", 2)
    rows = (
        f"JZ\\01,{DAY},设备费,某\\N公司,转账,100\n"
        f'"JZ\\.",{DAY},业务费,"某""检测""中心\\",公务卡,200\n'
        f"JZ-03,{DAY},业务费,某中心,转账,300\n"
    )
    result = import_ledger(running, running.pi, (HEADER + rows).encode(), "ledger.csv")
    assert (result.imported, result.errors) == (3, [])
    kept = set(running.expenditures.values_list("voucher_no", "payee"))
    assert kept == {("JZ\\01", "某\\N公司"), ("JZ\\.", '某"检测"中心\\'), ("JZ-03", "某中心")}
    again = import_ledger(running, running.pi, (HEADER + rows).encode(), "ledger.csv")
    assert (again.imported, again.already_there) == (0, 3)


@pytest.mark.parametrize(
    "amount",
    [
        '"' + ",".join(["999"] * 30) + '"',  # grouped digits beyond Decimal's precision
        "9" * 400,
        "1e400",
        "NaN",
        "sNaN",
        "Infinity",
        "-inf",
        "12\x0034",
    ],
)
def test_a_nul_huge_or_non_finite_amount_is_a_row_error_never_a_500(running, amount):
    """Each one is reported on its row and the whole file is refused, good rows and all."""
    csv = HEADER + ROWS + f"JZ-09,{DAY},设备费,某公司,转账,{amount}\n"
    result = import_ledger(running, running.pi, csv.encode(), "ledger.csv")
    assert result.imported == 0 and len(result.errors) == 1
    assert result.errors[0].startswith(("Row 4", "第4行"))
    assert not Expenditure.objects.exists()


def test_a_nul_in_a_text_cell_refuses_the_file(running):
    csv = HEADER + ROWS + f"JZ-\x0009,{DAY},设备费,某\x00公司,转账,100\n"
    result = import_ledger(running, running.pi, csv.encode(), "ledger.csv")
    assert result.imported == 0 and len(result.errors) == 1
    assert not Expenditure.objects.exists()


def test_a_huge_or_non_finite_number_in_a_workbook_is_a_row_error(running):
    content = workbook(
        ["凭证号", "日期", "科目", "收款方", "支付方式", "金额"],
        [
            ["JZ-01", THREE_DAYS_AGO, "设备费", "某公司", "转账", 100],
            ["JZ-02", THREE_DAYS_AGO, "设备费", "某公司", "转账", 1e300],
        ],
    )
    result = import_ledger(running, running.pi, content, "ledger.xlsx")
    assert result.imported == 0 and len(result.errors) == 1
    assert not Expenditure.objects.exists()
