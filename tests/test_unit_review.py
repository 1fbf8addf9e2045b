"""The applicant's unit (承担单位) reviews, recommends or returns an application (issue 7).

Through the pages, signed in as the PI, the unit officers of the two demo organisations
(unit1: the institute's research office; unit2: the enterprise's) and bureau staff.
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from accounts.roles import Role
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck
from integrity.services import record_sanction
from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of
from workflows import demo

from .forms_support import application_form

pytestmark = pytest.mark.usefixtures("english")


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def as_user(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"  # the pages in English, to read them
    return client


def page(client, project):
    return client.get(reverse("project", args=[project.pk]))


def actions_on(response) -> set[str]:
    return {a["name"] for a in response.context["actions"]}


def inbox_rows(client) -> list[tuple[str, str]]:
    rows = client.get(reverse("inbox")).context["tasks"]
    return [(row["title"], row["project"].title) for row in rows]


def ban_org(county, org, decision="示科信〔2026〕11号") -> Sanction:
    today = timezone.localdate()
    return record_sanction(
        Sanction(
            subject_kind=SubjectKind.ORGANISATION,
            subject_id=org.credit_code,
            subject_name=org.name,
            severity=Severity.SERIOUS,
            measures=["ban"],
            gates=[Gate.APPLY.value],
            decision_no=decision,
            reason="在项目申报中提供虚假材料",
            starts_on=today - datetime.timedelta(days=30),
            ends_on=today + datetime.timedelta(days=365),
        ),
        county.users["integrity"],
    )


def status_of(project) -> str:
    project.refresh_from_db()
    return project.status


def transitions(project) -> list[str]:
    events = history_of(project).filter(kind=EventKind.PROJECT_TRANSITION)
    return [e.data["transition"] for e in events]


@pytest.fixture
def unit1(county):
    return county.users["unit1"]


@pytest.fixture
def unit2(county):
    return county.users["unit2"]


@pytest.fixture
def in_unit_review(client, draft, applicant):
    """The PI has signed and submitted through the page."""
    as_user(client, applicant)
    act(client, draft, "submit", commitment="on")
    assert status_of(draft) == S.UNIT_REVIEW
    return draft


RECOMMEND = "Recommend the application (单位推荐)"


# --- the path: submitted, reviewed by the unit, recommended to the bureau ----------------


def test_a_submitted_application_waits_in_its_own_units_inbox(
    client, county, in_unit_review, unit1, unit2, staff
):
    project = in_unit_review
    assert inbox_rows(as_user(client, unit1)) == [(RECOMMEND, project.title)]
    assert inbox_rows(as_user(client, unit2)) == []
    assert inbox_rows(as_user(client, staff)) == []  # not the bureau's turn yet

    response = page(as_user(client, unit1), project)
    assert actions_on(response) == {"recommend_by_unit", "return_by_unit"}
    assert "Waiting for the recommendation of the research office of" in response.content.decode()
    # Staff see the project, but the unit acts first (the veto: only with someone barred).
    assert actions_on(page(as_user(client, staff), project)) == set()


def test_the_unit_recommends_and_the_application_reaches_staff(
    client, county, in_unit_review, unit1, staff
):
    project = in_unit_review
    response = act(
        as_user(client, unit1), project, "recommend_by_unit", opinion="材料齐全，同意推荐。"
    )
    assert "Done." in response.content.decode()
    assert status_of(project) == S.SUBMITTED
    event = history_of(project).filter(kind=EventKind.PROJECT_TRANSITION).last()
    assert event.actor == unit1
    assert event.data["transition"] == "recommend_by_unit"
    assert event.data["opinion"] == "材料齐全，同意推荐。"
    assert inbox_rows(client) == []
    # The veto checked the unit and everyone on the project, and passed.
    check = VetoCheck.objects.filter(object_id=str(project.pk), checked_by=unit1).get()
    assert check.passed and check.gate == Gate.APPLY
    assert ("Recommending unit", county.orgs["institute"].credit_code) in {
        (s["as"], s["id"]) for s in check.subjects
    }

    as_user(client, staff)
    assert inbox_rows(client) == [("Accept the application (受理)", project.title)]
    response = page(client, project)
    assert "accept_application" in actions_on(response)
    assert "材料齐全，同意推荐。" in response.content.decode()  # the unit's opinion
    act(client, project, "accept_application")
    assert status_of(project) == S.FORMAL_CHECK


def test_the_recommendation_opinion_is_optional(client, in_unit_review, unit1):
    act(as_user(client, unit1), in_unit_review, "recommend_by_unit")
    assert status_of(in_unit_review) == S.SUBMITTED
    assert "opinion" not in history_of(in_unit_review).last().data


def test_a_bad_opinion_is_refused_as_typed_and_stores_nothing(client, in_unit_review, unit1):
    as_user(client, unit1)
    events = Event.objects.count()
    for bad in ["前\x00后", "长" * 20_001]:
        response = act(client, in_unit_review, "recommend_by_unit", opinion=bad)
        assert response.status_code == 200
        assert "Please correct the fields below." in response.content.decode()
        assert status_of(in_unit_review) == S.UNIT_REVIEW
        assert Event.objects.count() == events


# --- who may act: the unit of the project's own organisation only -------------------------


def test_another_organisations_unit_can_neither_see_nor_act(client, county, in_unit_review, unit2):
    project = in_unit_review
    as_user(client, unit2)
    assert page(client, project).status_code == 404
    response = client.post(
        reverse("project-action", args=[project.pk, "recommend_by_unit"]),
        {"recommend_by_unit-opinion": "同意"},
    )
    assert response.status_code == 404
    assert client.get(reverse("project-funds", args=[project.pk])).status_code == 404
    listed = client.get(reverse("inbox")).context["projects"]
    assert project not in listed
    api = client.get("/api/projects/").json()
    assert project.pk not in [p["id"] for p in api["results"]]
    assert status_of(project) == S.UNIT_REVIEW
    assert transitions(project) == ["submit"]


def test_the_unit_sees_all_and_only_its_organisations_projects(client, county, draft, unit1):
    theirs = demo.draft_project(county, "applicant2", "企业的项目", "200000")
    as_user(client, unit1)
    listed = list(client.get(reverse("inbox")).context["projects"])
    assert draft in listed and theirs not in listed
    assert page(client, draft).status_code == 200
    assert page(client, theirs).status_code == 404
    # Its finance office reads the fund trail of its own projects, without writing to it.
    funds = client.get(reverse("project-funds", args=[draft.pk]))
    assert funds.status_code == 200 and funds.context["form"] is None


def test_the_pi_staff_and_applicants_cannot_act_for_the_unit(
    client, county, in_unit_review, applicant, staff
):
    project = in_unit_review
    for user in (applicant, staff):
        as_user(client, user)
        assert not actions_on(page(client, project)) & {"recommend_by_unit", "return_by_unit"}
        response = act(client, project, "recommend_by_unit")
        assert "You may not do this on this project." in response.content.decode()
    assert status_of(project) == S.UNIT_REVIEW
    assert transitions(project) == ["submit"]


def test_a_unit_officer_does_not_recommend_a_project_they_lead(client, county, unit1):
    # The institute's research office also applies: someone else must recommend it (回避).
    unit1.groups.add(Group.objects.get(name=Role.APPLICANT.value))
    own = demo.draft_project(county, "unit1", "科研处自己的项目", "200000")
    as_user(client, unit1)
    act(client, own, "submit", commitment="on")
    assert status_of(own) == S.UNIT_REVIEW
    assert inbox_rows(client) == []
    assert "recommend_by_unit" not in actions_on(page(client, own))
    response = act(client, own, "recommend_by_unit")
    assert "You may not do this on this project." in response.content.decode()
    assert status_of(own) == S.UNIT_REVIEW


# --- returned by the unit, revised, submitted again ---------------------------------------


def test_the_unit_returns_with_a_reason_and_the_pi_revises_and_resubmits(
    client, county, in_unit_review, unit1, applicant
):
    project = in_unit_review
    as_user(client, unit1)
    response = act(client, project, "return_by_unit", reason="  ")
    assert "This field is required." in response.content.decode()
    assert status_of(project) == S.UNIT_REVIEW

    act(client, project, "return_by_unit", reason="合作协议未盖章，请补齐。")
    assert status_of(project) == S.RETURNED
    assert inbox_rows(client) == []

    as_user(client, applicant)
    assert inbox_rows(client) == [("Revise and resubmit", project.title)]
    response = page(client, project)
    assert "合作协议未盖章，请补齐。" in response.content.decode()
    assert response.context["can_edit"]
    edited = client.post(
        reverse("project-edit", args=[project.pk]),
        application_form(county.call, title=project.title, summary="已补齐盖章的合作协议。"),
    )
    assert edited.status_code == 302
    act(client, project, "submit", commitment="on")
    assert status_of(project) == S.UNIT_REVIEW
    assert project.summary == "已补齐盖章的合作协议。"
    assert transitions(project) == ["submit", "return_by_unit", "submit"]
    assert inbox_rows(as_user(client, unit1)) == [(RECOMMEND, project.title)]


def test_the_pi_withdraws_during_the_unit_review(client, in_unit_review, applicant, unit1):
    project = in_unit_review
    assert "withdraw" in actions_on(page(client, project))
    act(client, project, "withdraw", reason="调整申报计划。")
    assert status_of(project) == S.WITHDRAWN
    assert inbox_rows(as_user(client, unit1)) == []


# --- the veto at the recommendation ------------------------------------------------------


def test_the_veto_refuses_the_recommendation_of_a_sanctioned_unit(
    client, county, in_unit_review, unit1, staff
):
    project = in_unit_review
    ban = ban_org(county, county.orgs["institute"])
    as_user(client, unit1)
    response = act(client, project, "recommend_by_unit", opinion="同意推荐。")
    text = response.content.decode()
    assert "One-vote veto: Recommending unit 示范县农业科学研究所 is barred" in text
    assert "示科信〔2026〕11号" in text
    assert "Refused by the one-vote veto" in text  # kept on the page
    assert status_of(project) == S.UNIT_REVIEW
    check = VetoCheck.objects.get(object_id=str(project.pk), passed=False)
    assert check.blocking == [ban.pk] and check.checked_by == unit1
    assert transitions(project) == ["submit"]

    # Staff may end it with the one-vote veto: it is filed and not yet contracted.
    as_user(client, staff)
    act(client, project, "veto")
    assert status_of(project) == S.VETOED
    assert inbox_rows(as_user(client, unit1)) == []


# --- a unit with no officer --------------------------------------------------------------

STAND_IN = "Recommend on the unit's behalf (it has no unit officer)"


@pytest.fixture
def officerless(county):
    """An organisation whose unit has no officer yet, with an application in unit review."""
    org = Organisation.objects.create(
        name="示范县林业技术推广站",
        credit_code=demo.credit_code(77),
        kind=Organisation.Kind.INSTITUTE,
    )
    pi = county.users["applicant"]
    pi.organisation = org
    pi.save()
    project = demo.draft_project(county, "applicant", "林下经济技术推广", "200000")
    return demo.advance(county, project, S.UNIT_REVIEW)


def test_staff_recommend_for_a_unit_with_no_officer_with_a_reason(
    client, county, officerless, staff
):
    project = officerless
    as_user(client, staff)
    assert inbox_rows(client) == [(STAND_IN, project.title)]
    response = page(client, project)
    assert "recommend_for_unit" in actions_on(response)
    assert "This organisation has no unit officer" in response.content.decode()

    response = act(client, project, "recommend_for_unit", reason="")
    assert "This field is required." in response.content.decode()
    assert status_of(project) == S.UNIT_REVIEW

    act(client, project, "recommend_for_unit", reason="该站未设科研管理人员，经电话核实同意申报。")
    assert status_of(project) == S.SUBMITTED
    event = history_of(project).filter(kind=EventKind.PROJECT_TRANSITION).last()
    assert event.actor == staff and event.data["transition"] == "recommend_for_unit"
    assert event.data["reason"] == "该站未设科研管理人员，经电话核实同意申报。"
    assert inbox_rows(client) == [("Accept the application (受理)", project.title)]


def test_staff_stand_in_only_while_the_unit_has_no_officer(client, county, officerless, staff):
    project = officerless
    officer = get_user_model().objects.create_user(
        "unit3", password="x", real_name="欧阳站长", organisation=project.applicant_org
    )
    officer.groups.add(Group.objects.get(name=Role.UNIT.value))
    as_user(client, staff)
    assert inbox_rows(client) == []
    assert "recommend_for_unit" not in actions_on(page(client, project))
    response = act(client, project, "recommend_for_unit", reason="代为推荐")
    assert "You may not do this on this project." in response.content.decode()
    assert status_of(project) == S.UNIT_REVIEW
    assert inbox_rows(as_user(client, officer)) == [(RECOMMEND, project.title)]

    # An officer no longer active leaves the unit without one again.
    officer.is_active = False
    officer.save()
    assert inbox_rows(as_user(client, staff)) == [(STAND_IN, project.title)]


def test_staff_standing_in_meet_the_veto_too(client, county, officerless, staff):
    project = officerless
    ban_org(county, project.applicant_org)
    response = act(as_user(client, staff), project, "recommend_for_unit", reason="代为推荐")
    assert "One-vote veto: Recommending unit 示范县林业技术推广站 is barred" in (
        response.content.decode()
    )
    assert status_of(project) == S.UNIT_REVIEW
