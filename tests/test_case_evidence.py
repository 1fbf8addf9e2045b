"""Evidence on misconduct cases (issue 8): the integrity officer sees every file; the
respondent (the person, or a unit officer of the respondent organisation) sees the files
disclosed to the parties from the notice of the hearing on, never before and never the
others; everyone else is not told the files exist. Each change of disclosure is journaled.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from documents.models import Attachment
from integrity.evidence import set_disclosure
from integrity.models import EvidenceDisclosure, SubjectKind
from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of

from .cases_support import DAY, TODAY, new_case, officer, step

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def pdf(text: str) -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + text.encode() + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def attach_evidence(client, county, case, name: str, content: bytes, *, disclose: bool, note=""):
    client.force_login(officer(county))
    data = {"file": upload(name, content), "note": note}
    if disclose:
        data["disclose"] = "on"
    return client.post(reverse("case-evidence", args=[case.pk]), data)


def status_of(client, user, attachment: Attachment | None) -> int:
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    response = client.get(reverse("attachment", args=[attachment.pk]))
    if response.streaming:
        b"".join(response.streaming_content)
    return response.status_code


def notify(county, case):
    step(county, case, "accept")
    step(county, case, "notify_respondent", reply_by=TODAY + 10 * DAY)


@pytest.fixture
def evidence(client, county):
    """A case against 刘工程师 (applicant2) with two files: one disclosed to the parties,
    one not (the whistle-blower's letter)."""
    case = new_case(county, evidence="举报信及专利检索结果。")
    response = attach_evidence(client, county, case, "专利检索结果.pdf", pdf("a"), disclose=True)
    assert response.status_code == 302
    response = attach_evidence(
        client, county, case, "举报人来信.pdf", pdf("b"), disclose=False, note="举报人实名信"
    )
    assert response.status_code == 302
    shared = Attachment.objects.get(name="专利检索结果.pdf")
    secret = Attachment.objects.get(name="举报人来信.pdf")
    return case, shared, secret


def test_the_respondent_sees_nothing_before_the_notice(client, county, evidence):
    case, shared, secret = evidence
    respondent = county.users["applicant2"]
    assert EvidenceDisclosure.objects.filter(attachment=shared).exists()
    assert not EvidenceDisclosure.objects.filter(attachment=secret).exists()
    for doc in (shared, secret):
        assert status_of(client, respondent, doc) == 404
    assert client.get(reverse("respondent-case", args=[case.pk])).status_code == 404
    assert "inbox-respondent-cases" not in client.get(reverse("inbox")).content.decode()
    step(county, case, "accept")  # accepted but not yet notified: still nothing
    assert status_of(client, respondent, shared) == 404


def test_from_the_notice_on_the_respondent_sees_only_the_disclosed_file(client, county, evidence):
    case, shared, secret = evidence
    notify(county, case)
    respondent = county.users["applicant2"]
    assert status_of(client, respondent, shared) == 200
    assert status_of(client, respondent, secret) == 404  # not even told it exists

    page = client.get(reverse("respondent-case", args=[case.pk])).content.decode()
    assert "专利检索结果.pdf" in page and f'data-document="{shared.pk}"' in page
    assert "申报材料中的专利证书系伪造" in page  # the allegation, as notified
    assert (TODAY + 10 * DAY).isoformat() in page  # the deadline to reply
    # Never the other file, its note, the reporter or the officer's record.
    for hidden in ("举报人来信", "举报人实名信", "王某", "举报信及专利检索结果"):
        assert hidden not in page
    inbox = client.get(reverse("inbox")).content.decode()
    assert reverse("respondent-case", args=[case.pk]) in inbox

    # Another account of the same person (one person, many accounts) sees the same.
    second = User.objects.create_user(
        "liu-second", password="x", id_number=respondent.id_number.lower()
    )
    assert status_of(client, second, shared) == 200

    # Nobody else: other roles, the respondent's colleagues, the public.
    for name in ("applicant", "staff", "leader", "unit2", "expert1", "auditor"):
        assert status_of(client, county.users[name], shared) == 404, name
        assert client.get(reverse("respondent-case", args=[case.pk])).status_code == 404
    assert status_of(client, None, shared) == 404

    # The officer sees everything, and may preview the respondent's page.
    assert status_of(client, officer(county), secret) == 200
    preview = client.get(reverse("respondent-case", args=[case.pk])).content.decode()
    assert 'data-testid="respondent-preview"' in preview
    assert "举报人来信" not in preview


def test_an_organisation_respondent_is_seen_by_its_unit_officers(client, county):
    enterprise = county.orgs["enterprise"]
    case = new_case(
        county,
        respondent_kind=SubjectKind.ORGANISATION,
        respondent_id=enterprise.credit_code,
        respondent_name=enterprise.name,
        respondent_unit="",
        misconduct="misuse",
    )
    attach_evidence(client, county, case, "账目.pdf", pdf("c"), disclose=True)
    doc = Attachment.objects.get(kind="case_evidence")
    unit = county.users["unit2"]  # the enterprise's research office
    assert status_of(client, unit, doc) == 404  # before the notice
    notify(county, case)
    assert status_of(client, unit, doc) == 200
    assert client.get(reverse("respondent-case", args=[case.pk])).status_code == 200
    # Not the enterprise's other staff, nor another unit's officer.
    for name in ("applicant2", "unit1"):
        assert status_of(client, county.users[name], doc) == 404, name
    # A unit officer who is deactivated loses it.
    unit.is_active = False
    unit.save()
    client.force_login(unit)
    assert client.get(reverse("attachment", args=[doc.pk])).status_code in (302, 404)


def test_disclosure_is_changed_on_the_case_page_and_journaled(client, county, evidence):
    case, shared, secret = evidence
    notify(county, case)
    url = reverse("case-evidence-disclosure", args=[case.pk, secret.pk])
    client.force_login(officer(county))
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert page.count('data-disclosed="yes"') == 1 and page.count('data-disclosed="no"') == 1

    response = client.post(url, {"disclosed": "yes"}, follow=True)
    assert "is now disclosed to the parties" in response.content.decode()
    assert status_of(client, county.users["applicant2"], secret) == 200
    event = history_of(case).filter(kind=EventKind.CASE_TRANSITION).last()
    assert event.actor_id == officer(county).pk
    assert (event.before, event.after) == ({"disclosed": False}, {"disclosed": True})
    assert event.data["step"] == "disclose_evidence" and event.data["attachment"] == secret.pk
    assert event.data["sha256"] == secret.sha256

    client.force_login(officer(county))
    client.post(url, {"disclosed": "no"})
    assert status_of(client, county.users["applicant2"], secret) == 404
    event = history_of(case).last()
    assert event.data["step"] == "withhold_evidence" and event.after == {"disclosed": False}
    client.force_login(officer(county))
    page = client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Evidence withheld from the parties" in page  # named in the case history

    # The same choice again changes nothing and writes nothing.
    before = Event.objects.count()
    client.post(url, {"disclosed": "no"})
    assert Event.objects.count() == before


def test_only_the_officer_changes_disclosure_and_bad_requests_store_nothing(
    client, county, evidence
):
    case, shared, secret = evidence
    url = reverse("case-evidence-disclosure", args=[case.pk, secret.pk])
    other = new_case(county, respondent_name="另一被调查人")
    before = (EvidenceDisclosure.objects.count(), Event.objects.count())
    for name in ("applicant2", "staff", "leader"):
        client.force_login(county.users[name])
        assert client.post(url, {"disclosed": "yes"}).status_code == 403
    client.logout()
    assert client.post(url, {"disclosed": "yes"}).status_code == 302  # to sign in
    client.cookies["django_language"] = "en"  # logging out cleared it
    client.force_login(officer(county))
    for value in ("", "maybe", "\x00", "y" * 500):
        response = client.post(url, {"disclosed": value}, follow=True)
        assert response.status_code == 200
        assert "Choose whether to disclose" in response.content.decode()
    wrong = reverse("case-evidence-disclosure", args=[other.pk, secret.pk])
    assert client.post(wrong, {"disclosed": "yes"}).status_code == 404
    missing = reverse("case-evidence-disclosure", args=[case.pk, secret.pk + 1000])
    assert client.post(missing, {"disclosed": "yes"}).status_code == 404
    assert client.get(url).status_code == 405
    assert (EvidenceDisclosure.objects.count(), Event.objects.count()) == before
    with pytest.raises(Exception, match="not evidence of this case"):
        set_disclosure(other, secret, True, officer(county))


def test_a_refused_upload_keeps_the_choice_and_stores_nothing(client, county, media):
    case = new_case(county)
    before = (Attachment.objects.count(), EvidenceDisclosure.objects.count(), Event.objects.count())
    response = attach_evidence(
        client, county, case, "证据.pdf", EXE, disclose=True, note="现场照片"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="现场照片"' in page
    checkbox = re.search(r'<input[^>]*name="disclose"[^>]*>', page).group(0)
    assert "checked" in checkbox  # the choice comes back as made
    after = (Attachment.objects.count(), EvidenceDisclosure.objects.count(), Event.objects.count())
    assert after == before and stored_files(media) == []


def test_a_unit_officer_added_later_sees_the_organisation_s_case(client, county):
    """The organisation's rights go with the role: a new research-office account works."""
    enterprise = county.orgs["enterprise"]
    case = new_case(
        county,
        respondent_kind=SubjectKind.ORGANISATION,
        respondent_id=enterprise.credit_code,
        respondent_name=enterprise.name,
        respondent_unit="",
    )
    attach_evidence(client, county, case, "账目.pdf", pdf("d"), disclose=True)
    notify(county, case)
    newcomer = User.objects.create_user("unit-new", password="x", organisation=enterprise)
    doc = Attachment.objects.get(kind="case_evidence")
    assert status_of(client, newcomer, doc) == 404  # not a unit officer yet
    newcomer.groups.add(Group.objects.get(name=Role.UNIT.value))
    newcomer = User.objects.get(pk=newcomer.pk)  # roles are cached per user object
    assert status_of(client, newcomer, doc) == 200
