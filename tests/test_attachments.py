"""Uploaded documents (issue 8): attach, replace, remove, download with and without
permission, every refusal with nothing stored, and a 50 MB upload that streams."""

from __future__ import annotations

import datetime
import hashlib
import io
import re
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.urls import reverse
from django.utils import translation

from documents.attachments import attach, current_documents, remove, versions_of
from documents.kinds import KINDS, DocumentKind, register_kind
from documents.models import Attachment
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from oversight.models import TechReport
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def pdf(text: str = "申报书") -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + text.encode() + b"\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ooxml(main: str, extra: dict[str, bytes] | None = None) -> bytes:
    types = (
        '<?xml version="1.0"?><Types><Override PartName="/main" '
        f'ContentType="application/vnd.openxmlformats-officedocument.{main}"/></Types>'
    )
    return zip_of(
        {"[Content_Types].xml": types.encode(), "word/document.xml": b"<w/>", **(extra or {})}
    )


DOCX = ooxml("wordprocessingml.document.main+xml")
XLSX = ooxml("spreadsheetml.sheet.main+xml")
DOCM = zip_of(
    {
        "[Content_Types].xml": b'<Types><Override ContentType="application/'
        b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
        "word/document.xml": b"<w/>",
        "word/vbaProject.bin": b"\x00" * 10,
    }
)
ODT = zip_of({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<o/>"})
PLAIN_ZIP = zip_of({"readme.txt": b"hello", "data.csv": b"a,b\n1,2\n"})


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Files go to a fresh directory: what a test stores, and only that, is there."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def snapshot(root: Path) -> tuple[int, int, list[Path]]:
    return Attachment.objects.count(), Event.objects.count(), files_in(root)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def fetch(client, attachment: Attachment):
    # Reading the stream to its end closes the response, as a WSGI server would; closing
    # it again here would end the test's database connection on PostgreSQL.
    response = client.get(reverse("attachment", args=[attachment.pk]))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


# --- attach, replace, remove -----------------------------------------------------------


def test_the_pi_attaches_a_document_and_downloads_it_with_safe_headers(client, draft, media):
    content = pdf()
    doc = attach(draft, "application_form", upload("申报书（盖章版）.pdf", content), draft.pi)

    assert (doc.version, doc.name, doc.size) == (1, "申报书（盖章版）.pdf", len(content))
    assert doc.sha256 == hashlib.sha256(content).hexdigest()
    assert doc.content_type == "application/pdf"
    # Stored under a random path, never the user's name.
    assert re.fullmatch(r"documents/\d{4}/[0-9a-f]{32}", doc.file.name)
    assert files_in(media) == [media / doc.file.name]

    event = Event.objects.get(kind=EventKind.DOCUMENT_ATTACHED)
    assert (event.object_type, event.object_id, event.actor_id) == (
        "funding.project",
        str(draft.pk),
        draft.pi.pk,
    )
    assert event.data == {
        "attachment": doc.pk,
        "kind": "application_form",
        "version": 1,
        "name": "申报书（盖章版）.pdf",
        "content_type": "application/pdf",
        "size": len(content),
        "sha256": doc.sha256,
    }

    client.force_login(draft.pi)
    response, body = fetch(client, doc)
    assert response.status_code == 200 and body == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"document.pdf\"; filename*=UTF-8''{quote('申报书（盖章版）.pdf')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_a_second_upload_keeps_the_first_as_version_one(client, draft, media):
    first = attach(draft, "commitment", upload("承诺书.pdf", pdf("v1")), draft.pi)
    second = attach(draft, "commitment", upload("承诺书.png", PNG), draft.pi, note="重新盖章")

    assert (first.version, second.version) == (1, 2)
    assert list(current_documents(draft)) == [second]
    assert list(versions_of(draft, "commitment")) == [second, first]
    assert len(files_in(media)) == 2
    events = Event.objects.filter(kind=EventKind.DOCUMENT_ATTACHED).order_by("seq")
    assert [e.data["version"] for e in events] == [1, 2]
    assert events.last().data["note"] == "重新盖章"

    # The earlier version is still there for whoever sees the project.
    client.force_login(draft.pi)
    assert fetch(client, first)[1] == pdf("v1")
    assert fetch(client, second)[1] == PNG


def test_removal_is_journaled_keeps_the_file_and_brings_back_the_earlier_version(
    client, draft, media, english
):
    first = attach(draft, "budget_justification", upload("预算说明.pdf", pdf("1")), draft.pi)
    second = attach(draft, "budget_justification", upload("预算说明.docx", DOCX), draft.pi)
    before = snapshot(media)

    with pytest.raises(ValidationError, match="Give a reason"):
        remove(second, draft.pi, "   ")
    assert snapshot(media) == before

    removed = remove(second, draft.pi, "上传错了文件")
    assert removed.removed_at is not None and removed.removed_by == draft.pi
    event = Event.objects.filter(kind=EventKind.DOCUMENT_REMOVED).get()
    assert event.data["reason"] == "上传错了文件" and event.data["version"] == 2
    assert event.data["sha256"] == second.sha256
    assert list(current_documents(draft)) == [first]
    assert files_in(media) == before[2]  # the file stays for the record

    client.force_login(draft.pi)
    assert fetch(client, removed)[0].status_code == 404
    with translation.override("en"), pytest.raises(ValidationError, match="already removed"):
        remove(second, draft.pi, "again")  # (a page request above left its language active)


def test_purge_on_remove_deletes_the_file_but_keeps_the_record(
    draft, media, settings, django_capture_on_commit_callbacks
):
    settings.DOCUMENT_PURGE_ON_REMOVE = True
    doc = attach(draft, "commitment", upload("承诺书.pdf", pdf()), draft.pi)
    with django_capture_on_commit_callbacks(execute=True):
        remove(doc, draft.pi, "作废")
    assert files_in(media) == []
    doc.refresh_from_db()
    assert doc.sha256 and doc.removal_reason == "作废"


def test_the_caller_may_refuse_and_nothing_is_stored(draft, media, county):
    before = snapshot(media)
    only_the_pi = lambda user, owner, kind: user == owner.pi  # noqa: E731
    with pytest.raises(PermissionDenied):
        attach(draft, "commitment", upload("a.pdf", pdf()), county.users["staff"], may=only_the_pi)
    assert snapshot(media) == before
    doc = attach(draft, "commitment", upload("a.pdf", pdf()), draft.pi, may=only_the_pi)
    with pytest.raises(PermissionDenied):
        remove(doc, county.users["applicant2"], "不要了", may=only_the_pi)
    assert Attachment.objects.get().removed_at is None


@pytest.mark.parametrize(
    "kind,name,content,stored_name,content_type",
    [
        ("budget_justification", "预算说明", DOCX, "预算说明.docx", "wordprocessingml.document"),
        ("budget_justification", "预算.xlsx", XLSX, "预算.xlsx", "spreadsheetml.sheet"),
        ("acceptance_material", "总结.odt", ODT, "总结.odt", "opendocument.text"),
        (
            "voucher_scan",
            "IMG_0001.JPEG",
            b"\xff\xd8\xff\xe0" + b"\0" * 64,
            "IMG_0001.jpeg",
            "jpeg",
        ),
        ("commitment", "承诺书.final", pdf(), "承诺书.final.pdf", "pdf"),
    ],
)
def test_accepted_types_are_named_from_their_content(
    draft, media, county, kind, name, content, stored_name, content_type
):
    owner = draft
    if kind == "voucher_scan":
        owner = running_expenditure(county)
    doc = attach(owner, kind, upload(name, content), owner_pi(owner))
    assert doc.name == stored_name and content_type in doc.content_type


# --- refusals: a clear message, nothing stored ------------------------------------------


@pytest.mark.parametrize(
    "kind,name,content,message",
    [
        ("application_form", "申报书.pdf", pdf("x" * 2000), "may be at most 1.0"),
        ("application_form", "申报书.pdf", PLAIN_ZIP, "ZIP archives are not accepted"),
        ("application_form", "申报书.pdf", EXE, "looks like .exe"),
        ("commitment", "承诺书.png", HTML, "looks like .htm"),
        ("acceptance_material", "材料.zip", PLAIN_ZIP, "ZIP archives are not accepted"),
        ("acceptance_material", "材料.docm", DOCM, "macros"),
        ("budget_justification", "预算.doc", OLE2, "Old Office files"),
        ("budget_justification", "预算.docx", pdf(), "ends in .docx but the content is PDF"),
        ("tech_report", "报告.png", PNG, "must be one of: PDF; this file is PNG"),
        ("application_form", "空.pdf", b"", "empty"),
        ("application_form", "坏.pdf", b"PK\x03\x04broken", "cannot be read"),
        # A NUL cannot hide the real extension: it is dropped, and .exe stays.
        ("application_form", "申报书.pdf\x00.exe", pdf(), "ends in .exe"),
        ("voucher_scan", "凭证.pdf", pdf(), "cannot be attached here"),
        ("no_such_kind", "a.pdf", pdf(), "Unknown kind"),
    ],
)
def test_every_refusal_says_why_and_stores_nothing(
    draft, media, settings, english, kind, name, content, message
):
    settings.DOCUMENT_KIND_MAX_BYTES = {"application_form": 1024}
    before = snapshot(media)
    with pytest.raises(ValidationError) as refused:
        attach(draft, kind, upload(name, content), draft.pi)
    assert message in " ".join(refused.value.messages)
    assert snapshot(media) == before


def test_an_upload_larger_than_declared_is_refused_while_reading(draft, media, settings, english):
    settings.DOCUMENT_MAX_BYTES = 1024
    lying = upload("a.pdf", pdf("x" * 4000))
    lying.size = 10  # a size the client claimed
    before = snapshot(media)
    with pytest.raises(ValidationError, match="at most 1.0"):
        attach(draft, "commitment", lying, draft.pi)
    assert snapshot(media) == before


@pytest.mark.parametrize(
    "raw,safe",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("..\\..\\windows\\win.ini.pdf", "win.ini.pdf"),
        ("a\x00b\r\n.pdf", "ab.pdf"),
        (".htaccess.pdf", "htaccess.pdf"),
        ("...", "document.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ("报告\u202efdp.exe.pdf", "报告fdp.exe.pdf"),  # no right-to-left override
        ('a<b>:"|?*.pdf', "a_b______.pdf"),
        ("项" * 300 + ".pdf", "项" * 116 + ".pdf"),
    ],
)
def test_path_tricks_in_names_never_reach_the_storage(client, draft, media, raw, safe):
    doc = attach(draft, "commitment", upload(raw, pdf()), draft.pi)
    assert doc.name == safe and len(doc.name) <= 120
    # Only the random path exists; nothing was written where the name pointed.
    assert files_in(media) == [media / doc.file.name]
    assert re.fullmatch(r"documents/\d{4}/[0-9a-f]{32}", doc.file.name)
    client.force_login(draft.pi)
    disposition = fetch(client, doc)[0]["Content-Disposition"]
    assert "/" not in disposition.split("filename*")[0] and "\\" not in disposition
    assert "\x00" not in disposition and "\n" not in disposition


# --- downloads: the owner's page rule -----------------------------------------------------


def test_only_those_who_see_the_project_download_its_documents(client, county, draft, media):
    doc = attach(draft, "cooperation_agreement", upload("合作协议.pdf", pdf()), draft.pi)
    assert fetch(client, doc)[0].status_code == 404  # not signed in
    client.force_login(county.users["applicant2"])  # another organisation's applicant
    assert fetch(client, doc)[0].status_code == 404
    client.force_login(county.users["auditor"])
    assert fetch(client, doc)[0].status_code == 404
    for who in ("staff", "leader"):
        client.force_login(county.users[who])
        assert fetch(client, doc)[0].status_code == 200
    client.force_login(draft.pi)
    assert client.get(reverse("attachment", args=[doc.pk + 1000])).status_code == 404


def test_the_full_tech_report_follows_the_embargo(client, county, media):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "保密工艺", "300000"), S.IN_PROGRESS
    )
    until = datetime.date.today() + datetime.timedelta(days=90)
    report = {**demo.demo_report(), "access": "embargoed", "embargo_until": until}
    project = perform(project.pk, "request_acceptance", project.pi, report=report)
    first = attach(project, "tech_report", upload("科技报告.pdf", pdf("v1")), project.pi)
    doc = attach(project, "tech_report", upload("科技报告.pdf", pdf("v2")), project.pi)
    contract = attach(project, "task_contract_signed", upload("任务书.pdf", pdf()), project.pi)
    demo.advance(county, project, S.ACCEPTED)

    assert fetch(client, doc)[0].status_code == 404  # the public, under embargo
    client.force_login(county.users["applicant2"])
    assert fetch(client, doc)[0].status_code == 404
    client.force_login(project.pi)
    assert fetch(client, doc)[1] == pdf("v2")

    TechReport.objects.filter(project=project).update(embargo_until=datetime.date.today())
    client.logout()
    response, body = fetch(client, doc)
    assert response.status_code == 200 and body == pdf("v2")
    # Only the report's current file is public; not earlier versions, not other papers.
    assert fetch(client, first)[0].status_code == 404
    assert fetch(client, contract)[0].status_code == 404


def running_expenditure(county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "在研项目", "300000"), S.IN_PROGRESS
    )
    return record_expenditure(
        project,
        project.pi,
        {
            "voucher_no": "JZ-1",
            "spent_on": datetime.date.today(),
            "category": "equipment",
            "payee": "某仪器公司",
            "method": "transfer",
            "amount": Decimal("12000"),
        },
    )


def owner_pi(owner):
    return getattr(owner, "pi", None) or owner.project.pi


def test_voucher_scans_follow_the_fund_trail(client, county, media):
    entry = running_expenditure(county)
    doc = attach(
        entry,
        "voucher_scan",
        upload("发票.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64),
        entry.project.pi,
    )
    client.force_login(entry.project.pi)
    assert fetch(client, doc)[0].status_code == 200
    # A reviewing expert sees the project, not its books: refused, not hidden.
    client.force_login(entry.project.assignments.first().expert)
    assert fetch(client, doc)[0].status_code == 403
    client.force_login(county.users["applicant2"])
    assert fetch(client, doc)[0].status_code == 404
    client.logout()
    assert fetch(client, doc)[0].status_code == 404


def test_the_audit_report_is_seen_by_the_firm_and_the_project_not_another_firm(
    client, county, media
):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "专项审计", "600000"), S.UNDER_AUDIT
    )
    engagement = project.audits.get()
    auditor = engagement.lead_auditor
    doc = attach(engagement, "audit_report", upload("专项审计报告.pdf", pdf()), auditor)
    for user in (auditor, project.pi, county.users["staff"]):
        client.force_login(user)
        assert fetch(client, doc)[0].status_code == 200
    client.force_login(county.users["auditor2"])  # another firm
    assert fetch(client, doc)[0].status_code == 404
    client.logout()
    assert fetch(client, doc)[0].status_code == 404


@pytest.fixture
def organisation_kind():
    kind = register_kind(
        DocumentKind(
            "org_licence", "licence", ("accounts.organisation",), KINDS["commitment"].types
        )
    )
    yield kind
    del KINDS[kind.slug]


def test_an_owner_type_no_part_registered_is_not_found_for_anyone(
    client, county, media, organisation_kind
):
    org = county.orgs["institute"]
    doc = attach(org, "org_licence", upload("营业执照.pdf", pdf()), county.users["staff"])
    for who in ("staff", "applicant"):
        client.force_login(county.users[who])
        assert fetch(client, doc)[0].status_code == 404


# --- streaming: a 50 MB upload is never held in memory whole ---------------------------


def test_a_50_mb_upload_streams_to_storage_and_back(client, draft, media, settings):
    size = 50 * MiB
    settings.DOCUMENT_KIND_MAX_BYTES = {"acceptance_material": 64 * MiB}
    # Django's own handler for uploads above FILE_UPLOAD_MAX_MEMORY_SIZE builds the
    # temporary file on disk, as for a posted form.
    handler = TemporaryFileUploadHandler()
    handler.new_file("file", "验收材料.pdf", "application/pdf", size)
    block = b"%PDF-1.7\n" + b"0" * (MiB - 9)
    digest = hashlib.sha256()
    for n in range(50):
        chunk = block if n == 0 else b"1" * MiB
        digest.update(chunk)
        handler.receive_data_chunk(chunk, n * MiB)
    big = handler.file_complete(size)
    # Warm up first, so that modules loaded on first use are not counted.
    attach(draft, "acceptance_material", upload("小.pdf", pdf()), draft.pi)

    tracemalloc.start()
    doc = attach(draft, "acceptance_material", big, draft.pi)
    upload_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    big.close()  # as Django does at the end of the request
    assert doc.size == size and doc.sha256 == digest.hexdigest()
    assert upload_peak < 8 * MiB, upload_peak

    client.force_login(draft.pi)
    response = client.get(reverse("attachment", args=[doc.pk]))
    assert response.streaming and response["Content-Length"] == str(size)
    received = hashlib.sha256()
    tracemalloc.start()
    for chunk in response.streaming_content:
        received.update(chunk)
    download_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert received.hexdigest() == digest.hexdigest()
    assert download_peak < 8 * MiB, download_peak
