"""The final tech report (科技报告): required for acceptance, public when open or after
its embargo, searchable by anyone."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from funding.states import ProjectStatus as S
from oversight.models import TechReport
from workflows import demo
from workflows.actions import perform

pytestmark = pytest.mark.django_db


def report(**overrides):
    return {**demo.demo_report(), **overrides}


def request_acceptance(county, project_title, **report_fields):
    project = demo.draft_project(county, "applicant", project_title, "300000")
    project = demo.advance(county, project, S.IN_PROGRESS)
    return perform(project.pk, "request_acceptance", project.pi, report=report(**report_fields))


@pytest.mark.parametrize(
    "fields",
    [
        {"title": ""},
        {"abstract": "  "},
        {"access": "secret"},
        {"access": "embargoed", "embargo_until": None},
        {"access": "embargoed", "embargo_until": datetime.date(2020, 1, 1)},
        {
            "access": "embargoed",
            "embargo_until": datetime.date.today() + datetime.timedelta(days=6 * 366),
        },
    ],
)
def test_a_bad_report_is_refused_and_the_project_keeps_running(county, fields):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "项目", "300000"), S.IN_PROGRESS
    )
    with pytest.raises(ValidationError):
        perform(project.pk, "request_acceptance", project.pi, report=report(**fields))
    project.refresh_from_db()
    assert project.status == S.IN_PROGRESS and not TechReport.objects.exists()


def test_open_reports_of_accepted_projects_are_public_and_searchable(client, county):
    project = request_acceptance(county, "已验收", title="稻田智能灌溉科技报告", keywords="灌溉")
    client.logout()
    assert (
        "稻田智能灌溉科技报告" not in client.get(reverse("reports")).content.decode()
    )  # not yet accepted

    demo.advance(county, project, S.ACCEPTED)
    listing = client.get(reverse("reports"), {"q": "灌溉"}).content.decode()
    assert "稻田智能灌溉科技报告" in listing
    assert (
        "稻田智能灌溉科技报告" not in client.get(reverse("reports"), {"q": "茶叶"}).content.decode()
    )
    assert client.get(reverse("report", args=[project.report.pk])).status_code == 200


def test_an_embargoed_report_stays_hidden_until_its_date(client, county):
    until = datetime.date.today() + datetime.timedelta(days=90)
    project = request_acceptance(
        county, "保密项目", title="保密工艺报告", access="embargoed", embargo_until=until
    )
    demo.advance(county, project, S.ACCEPTED)
    assert "保密工艺报告" not in client.get(reverse("reports")).content.decode()
    assert client.get(reverse("report", args=[project.report.pk])).status_code == 404

    TechReport.objects.filter(pk=project.report.pk).update(embargo_until=datetime.date.today())
    assert "保密工艺报告" in client.get(reverse("reports")).content.decode()


def test_projects_on_public_notice_are_listed_for_everyone(client, county):
    on_notice = demo.advance(
        county, demo.draft_project(county, "applicant", "公示中的项目", "300000"), S.PUBLIC_NOTICE
    )
    demo.advance(
        county, demo.draft_project(county, "applicant", "还在评审的项目", "300000"), S.BUDGET_REVIEW
    )
    page = client.get(reverse("notices")).content.decode()
    assert on_notice.title in page and f"{on_notice.approved_amount:,}" in page
    assert "还在评审的项目" not in page
