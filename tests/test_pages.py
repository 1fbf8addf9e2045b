"""Every page answers, for the role it is for, with a plain title and no template errors."""

import re

import pytest
from django.urls import reverse

from funding.states import ProjectStatus as S
from workflows import demo

pytestmark = pytest.mark.django_db
TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def plain_title(html: str) -> str:
    title = TITLE.search(html).group(1).strip()
    assert "<" not in title and len(title) < 250, title
    return title


@pytest.fixture
def running(county):
    return demo.advance(
        county, demo.draft_project(county, "applicant", "页面项目", "300000"), S.IN_PROGRESS
    )


@pytest.mark.parametrize(
    "who, name, needs_project",
    [
        ("applicant", "inbox", False),
        ("applicant", "calls", False),
        ("applicant", "project", True),
        ("applicant", "project-funds", True),
        ("applicant", "project-edit", None),
        ("staff", "project", True),
        ("staff", "project-funds", True),
        ("leader", "dashboard", False),
        ("integrity", "cases", False),
        ("integrity", "register", False),
        ("integrity", "sanction-new", False),
        ("applicant", "account-identity", False),
        (None, "notices", False),
        (None, "reports", False),
        (None, "decisions", False),
        (None, "inspections", False),
        (None, "trail-checkpoints", False),
        (None, "login", False),
    ],
)
def test_pages_answer_with_a_plain_title(client, county, running, who, name, needs_project):
    if who:
        client.force_login(county.users[who])
    if needs_project is None:  # the edit page needs a draft
        args = [demo.draft_project(county, "applicant", "草稿页面", "200000").pk]
    else:
        args = [running.pk] if needs_project else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    assert plain_title(response.content.decode())
