"""Every list, as every role of the demo county: the page and both exports answer, or
refuse plainly, and never fail (issue 11)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db

LISTS = [
    "/projects/",
    "/calls/",
    "/vouchers/",
    "/adjustments/",
    "/certificates/",
    "/inspections/",
    "/reports/",
    "/integrity/register/",
    "/integrity/cases/",
]


@pytest.fixture
def demo_county():
    call_command("load_demo", verbosity=0)


@pytest.mark.parametrize(
    "username", ["staff", "leader", "integrity", "applicant", "unit1", "expert1", "auditor"]
)
def test_every_list_answers_every_role(client, demo_county, username):
    client.force_login(User.objects.get(username=username))
    for url in LISTS:
        page = client.get(url)
        assert page.status_code in (200, 403), (url, page.status_code)
        if page.status_code == 403:
            continue
        for kind in ("xlsx", "csv"):
            export = client.get(f"{url}?export={kind}")
            assert export.status_code == 200, (url, kind, export.status_code)


def test_staff_lists_of_the_demo_are_not_empty(client, demo_county):
    client.force_login(User.objects.get(username="staff"))
    for url in ["/projects/", "/calls/", "/vouchers/", "/certificates/"]:
        assert 'data-testid="counts"' in client.get(url).content.decode()
        assert "export=xlsx" in client.get(url).content.decode(), url
