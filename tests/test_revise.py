"""The PI revises a draft or a returned application; every version stays in the trail."""

import pytest
from django.urls import reverse

from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import perform
from workflows.forms import ProjectForm

pytestmark = pytest.mark.django_db


def form_data(project, **changes):
    initial = ProjectForm.initial_from(project)
    data = {k: ("" if v is None else str(v)) for k, v in initial.items()}
    data.update(changes)
    return data


def test_a_returned_application_is_revised_resubmitted_and_both_versions_kept(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "初稿题目", "300000"), S.SUBMITTED
    )
    perform(project.pk, "return_for_revision", county.users["staff"], reason="题目不够具体")
    client.force_login(project.pi)
    assert client.get(reverse("project-edit", args=[project.pk])).status_code == 200

    response = client.post(
        reverse("project-edit", args=[project.pk]), form_data(project, title="修改后的题目")
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.title == "修改后的题目"
    edit = history_of(project).get(kind=EventKind.PROJECT_EDITED)
    assert edit.before["title"] == "初稿题目" and edit.after["title"] == "修改后的题目"

    perform(project.pk, "submit", project.pi, commitment=True)
    project.refresh_from_db()
    assert project.status == S.UNIT_REVIEW  # back through the applicant's unit


def test_a_submitted_application_cannot_be_changed(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "已提交", "300000"), S.SUBMITTED
    )
    client.force_login(project.pi)
    response = client.post(
        reverse("project-edit", args=[project.pk]), form_data(project, title="偷改")
    )
    assert response.status_code == 200 and response.context["form"].errors
    project.refresh_from_db()
    assert project.title == "已提交"


def test_someone_else_cannot_open_the_edit_page(client, county):
    project = demo.draft_project(county, "applicant", "别人的草稿", "300000")
    client.force_login(county.users["applicant2"])
    assert client.get(reverse("project-edit", args=[project.pk])).status_code == 404


def test_a_team_member_listed_twice_is_refused_and_nothing_changes(client, county):
    project = demo.draft_project(county, "applicant", "草稿", "300000")
    client.force_login(project.pi)
    number = demo.person_id(777)
    team = f"甲, {number}, 试验\n乙, {number}, 分析"
    response = client.post(
        reverse("project-edit", args=[project.pk]), form_data(project, team=team, title="新")
    )
    assert response.status_code == 200 and "team" in response.context["form"].errors
    project.refresh_from_db()
    assert project.title == "草稿" and project.team.count() == 1
