"""Every list, as every role of the demo county: the page and both exports answer, or
refuse plainly, and never fail (issue 11)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from accounts.models import User
from tests.lists_support import LISTS

pytestmark = pytest.mark.django_db


TYPES = {"xlsx": "application/vnd.openxmlformats", "csv": "text/csv"}


@pytest.fixture
def demo_county():
    call_command("load_demo", verbosity=0)


@pytest.mark.parametrize(
    "username", ["staff", "leader", "integrity", "applicant", "unit1", "expert1", "auditor"]
)
def test_every_list_answers_every_role(client, demo_county, username):
    client.force_login(User.objects.get(username=username))
    answered = []
    for url in LISTS:
        page = client.get(url)
        assert page.status_code in (200, 403), (url, page.status_code)
        if page.status_code == 403:
            continue
        answered.append(url)
        assert 'data-testid="counts"' in page.content.decode(), url
        for kind in ("xlsx", "csv"):
            export = client.get(f"{url}?export={kind}")
            assert export.status_code == 200, (url, kind, export.status_code)
            assert export["Content-Type"].startswith(TYPES[kind]), (url, kind)
    # Refusing every list would pass the loop above: each role reads the public ones at least.
    assert {"/calls/", "/inspections/", "/reports/"} <= set(answered), answered


def test_staff_lists_of_the_demo_are_not_empty(client_en, demo_county):
    client_en.force_login(User.objects.get(username="staff"))
    for url in ["/projects/", "/calls/", "/vouchers/", "/certificates/"]:
        page = client_en.get(url).content.decode()
        assert 'data-testid="counts"' in page
        # The counts are there for an empty list too: say it has rows.
        assert "Showing 1–" in page, url
        assert "export=xlsx" in page, url
