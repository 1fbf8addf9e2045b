"""An issued certificate is immutable, and revocable with a reason the public can read."""

import pytest
from django.urls import reverse

from funding.states import ProjectStatus as S
from oversight.models import Certificate
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(county, django_capture_on_commit_callbacks):
    project = demo.draft_project(county, "applicant", "已验收项目", "300000")
    with django_capture_on_commit_callbacks(execute=True):
        demo.advance(county, project, S.CLOSED)
    return Certificate.objects.get(project=project)


def test_an_issued_certificate_cannot_be_changed(certificate):
    certificate.pdf = b"%PDF-1.7 forged"
    with pytest.raises(RuntimeError):
        certificate.save()
    certificate.refresh_from_db()
    assert bytes(certificate.pdf) != b"%PDF-1.7 forged"


def test_staff_revoke_with_a_reason_and_the_public_page_says_revoked(client, county, certificate):
    client.force_login(county.users["staff"])
    url = reverse("certificate-revoke", args=[certificate.project_id])
    client.post(url, {"reason": ""})
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED  # no reason, no revocation

    client.post(url, {"reason": "发现验收材料造假"})
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert history_of(certificate).filter(kind=EventKind.CERTIFICATE_REVOKED).exists()

    client.logout()
    page = client.get(reverse("verify", args=[certificate.serial])).content.decode()
    assert 'class="verdict bad"' in page and "发现验收材料造假" in page


def test_only_staff_can_revoke(client, county, certificate):
    client.force_login(county.users["applicant"])
    response = client.post(
        reverse("certificate-revoke", args=[certificate.project_id]), {"reason": "想撤销"}
    )
    assert response.status_code == 403
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.ISSUED


def test_an_unknown_serial_is_not_found(client):
    assert client.get(reverse("verify", args=["YS2026-999999-XXXX"])).status_code == 404
