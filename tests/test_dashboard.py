"""Leadership's overview: pipeline, money, integrity, and overdue acceptance."""

import datetime

import pytest
from django.urls import reverse

from funding.states import ProjectStatus as S
from oversight.dashboard import overdue_acceptance
from workflows import demo
from workflows.views.dashboard import SECTIONS

pytestmark = pytest.mark.django_db


def ended_project(county, title, days_ago):
    today = datetime.date.today()
    project = demo.draft_project(
        county,
        "applicant",
        title,
        "300000",
        start_date=today - datetime.timedelta(days=days_ago + 700),
        end_date=today - datetime.timedelta(days=days_ago),
    )
    return demo.advance(county, project, S.IN_PROGRESS)


def test_projects_late_for_acceptance_are_listed_and_very_late_ones_flagged(county):
    on_time = ended_project(county, "刚结束", 30)
    late = ended_project(county, "逾期", 120)
    very_late = ended_project(county, "严重逾期", 200)
    rows = {row.project.pk: row for row in overdue_acceptance()}
    assert on_time.pk not in rows
    assert rows[late.pk].days_late == 120 - 91 and not rows[late.pk].propose_integrity_record
    assert rows[very_late.pk].propose_integrity_record


def test_the_leader_sees_the_overview_and_an_applicant_does_not(client, county):
    late = ended_project(county, "逾期项目", 150)
    client.force_login(county.users["leader"])
    page = client.get(reverse("dashboard")).content.decode()
    assert f'data-overdue="{late.pk}"' in page and f"{late.disbursed_total:,.2f}" in page
    client.force_login(county.users["applicant"])
    assert client.get(reverse("dashboard")).status_code == 403


def test_each_count_of_the_overview_links_to_the_list_behind_it(client, county):
    late = ended_project(county, "逾期项目", 150)
    client.cookies["django_language"] = "en"
    client.force_login(county.users["leader"])
    page = client.get(reverse("dashboard")).content.decode()
    link = f"{reverse('projects')}?status={S.IN_PROGRESS}"
    assert f'href="{link}"' in page
    listed = client.get(link).content.decode()
    assert "Showing 1–1 of 1" in listed and late.title in listed
    assert f'href="{reverse("projects")}?overdue=true"' in page
    assert late.title in client.get(f"{reverse('projects')}?overdue=true").content.decode()


@pytest.mark.parametrize("who", ["applicant", "unit1", "expert1", "integrity", "auditor"])
def test_nobody_but_leadership_and_staff_reaches_the_overview_or_its_lists(client, county, who):
    ended_project(county, "逾期项目", 150)
    client.force_login(county.users[who])
    assert client.get(reverse("dashboard")).status_code == 403
    for slug in SECTIONS:
        assert client.get(reverse("dashboard-section", args=[slug])).status_code == 403, slug
