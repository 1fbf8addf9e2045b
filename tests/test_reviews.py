"""Reviews through the pages, as each role: the title only until the expert declares no
conflict (page and API), scores per criterion of the call, confidentiality both ways,
opinions released anonymised, and the summary where staff and the leader decide."""

from __future__ import annotations

import pytest
from django.urls import reverse

from funding.calls import save_call
from funding.models import Call, ExpertAssignment
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import submit_expert_review
from workflows.reviewing import declare_no_conflict, decline_review

from .forms_support import form_data
from .pool_support import (
    CRITERIA,
    act,
    declare_on_page,
    page,
    said,
    with_criteria,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SUMMARY = "A confidential summary of the application."
TEAM_MEMBER = "黄助理"


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def reviewing(county, title="水稻病虫害智能监测预警技术研究"):
    """A project under expert review; expert1-3 drawn, none declared yet."""
    project = demo.draft_project(county, "applicant", title, "600000", summary=SUMMARY)
    return demo.advance(county, project, S.EXPERT_REVIEW)


def review_on_page(client, project, scores, opinion):
    data = {f"criterion_{n}": str(s) for n, s in enumerate(scores, start=1)}
    data["opinion"] = opinion
    return client.post(reverse("project-review", args=[project.pk]), data, follow=True)


# --- the title only until the declaration ------------------------------------------------


def test_an_expert_sees_the_title_only_until_declaring_no_conflict(client, county):
    project = reviewing(county)
    expert = county.users["expert1"]
    client.force_login(expert)
    text = page(client.get(reverse("project", args=[project.pk])))
    assert project.title in text and str(project.call) in text
    assert 'data-testid="title-only"' in text
    for secret in (SUMMARY, TEAM_MEMBER, "Budget", str(project.applicant_org), "600000"):
        assert secret not in text
    api = client.get(f"/api/projects/{project.pk}/").json()
    assert api == {"id": project.pk, "title": project.title, "status": "expert_review"}
    listed = client.get("/api/projects/").json()["results"]
    assert listed == [api]
    inbox = page(client.get(reverse("inbox")))
    assert project.title in inbox and str(project.applicant_org) not in inbox

    response = declare_on_page(client, project)
    assert "Declared. The application is open to you now." in said(response)
    text = page(response)
    assert SUMMARY in text and TEAM_MEMBER in text and "Your review" in text
    assert 'name="score"' in text and 'name="no_conflict"' not in text  # declared already
    api = client.get(f"/api/projects/{project.pk}/").json()
    assert api["applicant_org"] == str(project.applicant_org)
    assignment = ExpertAssignment.objects.get(project=project, expert=expert)
    assert assignment.no_conflict_declared and assignment.declared_at
    # Opening the application is journaled, and the applicant's history names nobody.
    [declared] = [e for e in history_of(project) if e.kind == EventKind.CONFLICT_DECLARED]
    assert declared.actor_id == expert.pk
    client.force_login(project.pi)
    history = page(client.get(reverse("project", args=[project.pk])))
    assert "No conflict of interest declared" in history and expert.real_name not in history


def test_the_declaration_must_be_ticked(client, county):
    project = reviewing(county)
    client.force_login(county.users["expert2"])
    response = client.post(reverse("review-declare", args=[project.pk]), {}, follow=True)
    assert "Tick the declaration, or decline the review." in page(response)
    assert SUMMARY not in page(response)
    assert not ExpertAssignment.objects.filter(no_conflict_declared=True).exists()


def test_an_expert_who_declined_sees_the_title_only_again(client, county):
    project = reviewing(county)
    expert = county.users["expert1"]
    declare_no_conflict(project.pk, expert)
    decline_review(project.pk, expert, "出差无法按期评审")
    client.force_login(expert)
    text = page(client.get(reverse("project", args=[project.pk])))
    assert SUMMARY not in text and "You declined this review" in text
    assert client.get(f"/api/projects/{project.pk}/").json()["title"] == project.title
    assert "field" not in client.get(f"/api/projects/{project.pk}/").json()


# --- scores per criterion -----------------------------------------------------------------


def test_the_review_form_asks_a_score_per_criterion_and_the_total_is_weighted(client, county):
    with_criteria(county)
    project = reviewing(county)
    expert = county.users["expert1"]
    client.force_login(expert)
    declare_on_page(client, project)
    text = page(client.get(reverse("project", args=[project.pk])))
    for criterion in CRITERIA:
        assert criterion["name"] in text and criterion["guidance"] in text
    assert 'name="score"' not in text
    # A missing criterion is a form error; what was typed comes back.
    response = review_on_page(client, project, [90, 80, ""], "创新性突出，团队扎实。")
    assert response.status_code == 200 and "创新性突出，团队扎实。" in page(response)
    assert 'name="criterion_4"' in page(response)
    assert not ExpertAssignment.objects.filter(submitted_at__isnull=False).exists()
    response = review_on_page(client, project, [90, 80, 70, 61], "创新性突出，团队扎实。")
    assert "Your review has been submitted." in said(response)
    review = ExpertAssignment.objects.get(project=project, expert=expert)
    # (90*30 + 80*30 + 70*25 + 61*15) / 100 = 77.65 -> 78
    assert review.score == 78
    assert review.scores == {"创新性": 90, "可行性": 80, "预期效益": 70, "团队能力": 61}
    event = history_of(project).filter(kind=EventKind.REVIEW_SUBMITTED).get()
    assert event.data == {"score": 78, "scores": review.scores}


def test_demo_advance_scores_every_criterion(county):
    with_criteria(county)
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "甲", "300000"), S.BUDGET_REVIEW
    )
    reviews = ExpertAssignment.objects.filter(project=project)
    assert {r.score for r in reviews} == {85}
    assert all(r.scores == {c["name"]: 85 for c in CRITERIA} for r in reviews)


# --- confidentiality ------------------------------------------------------------------------


def test_an_expert_never_sees_the_other_experts_reviews(client, county):
    project = reviewing(county)
    u = county.users
    submit_expert_review(project.pk, u["expert1"], 61, "甲专家的保密意见", no_conflict=True)
    client.force_login(u["expert2"])
    declare_on_page(client, project)
    text = page(client.get(reverse("project", args=[project.pk])))
    assert SUMMARY in text  # the application itself is open to them now
    for secret in ("甲专家的保密意见", "周教授", ">61<", "· 61", 'data-testid="review-summary"'):
        assert secret not in text
    assert "An expert · Expert review submitted" in text
    assert "61" not in str(client.get(f"/api/projects/{project.pk}/").json())


def concluded(county):
    project = reviewing(county)
    u = county.users
    for name, score, opinion in (
        ("expert1", 90, "周教授认为：技术路线清晰。"),
        ("expert2", 84, "创新性较强，建议立项。"),
        ("expert3", 55, "预算偏高，建议压缩设备费。"),
    ):
        submit_expert_review(project.pk, u[name], score, opinion, no_conflict=True)
    return demo.advance(county, project, S.BUDGET_REVIEW)


def test_the_applicant_sees_no_names_or_scores_only_released_opinions(client, county):
    project = concluded(county)
    client.force_login(project.pi)
    text = page(client.get(reverse("project", args=[project.pk])))
    for secret in ("周教授", "吴研究员", "郑高工", "技术路线清晰", ">90<", "· 90", "· 55"):
        assert secret not in text
    assert 'data-testid="released-opinions"' not in text
    # Staff release an anonymised text for expert 1 and expert 3, not expert 2.
    client.force_login(county.users["staff"])
    reviews = list(ExpertAssignment.objects.filter(project=project).order_by("pk"))
    data = {
        f"release-release_{reviews[0].pk}": "on",
        f"release-text_{reviews[0].pk}": "专家认为：技术路线清晰。",
        f"release-text_{reviews[1].pk}": reviews[1].opinion,
        f"release-release_{reviews[2].pk}": "on",
        f"release-text_{reviews[2].pk}": "预算偏高，建议压缩设备费。",
    }
    response = client.post(reverse("opinions-release", args=[project.pk]), data, follow=True)
    assert "without names or scores" in said(response)
    event = history_of(project).filter(kind=EventKind.OPINIONS_RELEASED).get()
    assert event.data["released"] == {
        "1": "专家认为：技术路线清晰。",
        "3": "预算偏高，建议压缩设备费。",
    }
    client.force_login(project.pi)
    text = page(client.get(reverse("project", args=[project.pk])))
    assert "Expert 1" in text and "专家认为：技术路线清晰。" in text
    assert "Expert 3" in text and "预算偏高，建议压缩设备费。" in text
    assert "Expert 2" not in text and "创新性较强" not in text
    assert "周教授认为" not in text and "周教授" not in text
    # Experts do not read the released opinions either.
    client.force_login(county.users["expert2"])
    assert "专家认为" not in page(client.get(reverse("project", args=[project.pk])))


def test_releasing_needs_staff_and_a_concluded_review(client, county):
    project = reviewing(county)
    submit_expert_review(project.pk, county.users["expert1"], 80, "可行", no_conflict=True)
    review = ExpertAssignment.objects.get(project=project, expert=county.users["expert1"])
    data = {f"release-release_{review.pk}": "on", f"release-text_{review.pk}": "可行"}
    client.force_login(county.users["staff"])
    response = client.post(reverse("opinions-release", args=[project.pk]), data, follow=True)
    assert "Opinions are released once the expert review is concluded." in said(response)
    client.force_login(project.pi)
    response = client.post(reverse("opinions-release", args=[project.pk]), data)
    assert response.status_code == 403
    review.refresh_from_db()
    assert not review.released_at


def test_the_applicant_history_tells_no_reviewer_or_reason_for_declining(client, county):
    project = reviewing(county)
    decline_review(project.pk, county.users["expert1"], "我是项目负责人的博士导师", conflict=True)
    client.force_login(project.pi)
    text = page(client.get(reverse("project", args=[project.pk])))
    assert "Review declined" in text
    assert "博士导师" not in text and "周教授" not in text
    client.force_login(county.users["staff"])
    assert "博士导师" in page(client.get(reverse("project", args=[project.pk])))


# --- the summary where they decide --------------------------------------------------------


@pytest.mark.parametrize(
    "who, state, shown",
    [
        ("staff", S.EXPERT_REVIEW, True),
        ("staff", S.BUDGET_REVIEW, True),
        ("leader", S.PENDING_APPROVAL, True),
        ("applicant", S.PENDING_APPROVAL, False),
        ("expert1", S.BUDGET_REVIEW, False),
        ("integrity", S.BUDGET_REVIEW, False),
    ],
)
def test_the_summary_is_for_staff_and_the_leader(client, county, who, state, shown):
    with_criteria(county)
    project = reviewing(county)
    u = county.users
    for name, scores in (
        ("expert1", [80, 80, 80, 80]),
        ("expert2", [85, 80, 80, 85]),
        ("expert3", [50, 60, 40, 50]),
    ):
        names = [c["name"] for c in CRITERIA]
        submit_expert_review(
            project.pk,
            u[name],
            None,
            f"{name}的意见",
            no_conflict=True,
            scores=dict(zip(names, scores, strict=True)),
        )
    if state != S.EXPERT_REVIEW:
        project = demo.advance(county, project, state)
    client.force_login(u[who])
    response = client.get(reverse("project", args=[project.pk]))
    text = page(response)
    assert ('data-testid="review-summary"' in text) is shown
    if not shown:
        assert "expert3的意见" not in text
        return
    summary = response.context["summary"]
    # Totals 80, 82, 51 (weighted): mean 71, the 51 lies 20 below it: divergent.
    assert [r["assignment"].score for r in summary.reviews] == [80, 82, 51]
    assert summary.total.mean == 71.0 and (summary.total.low, summary.total.high) == (51, 82)
    assert [r["divergent"] for r in summary.reviews] == [False, False, True]
    first = summary.per_criterion[0]
    assert first["criterion"]["name"] == "创新性" and first["spread"].mean == 71.7
    assert first["spread"].sd == 15.5 and (first["spread"].low, first["spread"].high) == (50, 85)
    assert text.count('data-testid="divergent"') == 1
    assert "expert3的意见" in text and "郑高工" in text


# --- criteria of a call, in the admin ------------------------------------------------------


BAD_CRITERIA = [
    ('[{"name": "创新性", "weight": 60}, {"name": "可行性", "weight": 30}]', "add up to 100"),
    ('[{"name": "创新性", "weight": 50}, {"name": "创新性", "weight": 50}]', "named twice"),
    ('[{"name": "", "weight": 100}]', "give it a name"),
    ('[{"name": "创新性", "weight": -10}, {"name": "可行性", "weight": 110}]', "above zero"),
    ('[{"name": "创新性", "weight": "100"}]', "above zero"),
    ('[{"name": "创新性", "weight": true}]', "above zero"),
    ('[{"name": "创新性"}]', "a list of 1 to 10 objects"),
    ('[{"name": "创新性", "weight": 100, "colour": "red"}]', "a list of 1 to 10 objects"),
    ('{"name": "创新性", "weight": 100}', "a list of 1 to 10 objects"),
    ("[[1, 2]]", "a list of 1 to 10 objects"),
    ("[" + ", ".join(f'{{"name": "c{n}", "weight": 9.0909}}' for n in range(11)) + "]", "1 to 10"),
    ('[{"name": "' + "长" * 51 + '", "weight": 100}]', "at most 50 characters"),
    ('[{"name": "创新\\n性", "weight": 100}]', "one line"),
    ('[{"name": "创新性", "weight": 100, "guidance": "' + "长" * 501 + '"}]', "500 characters"),
    ('[{"name": "创新性", "weight": 100, "guidance": 5}]', "500 characters"),
    ('[{"name": "创新性", "weight": 1e400}]', ""),
    ("\x00", ""),
]


@pytest.fixture
def root(db, django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-pass")


@pytest.mark.parametrize("value, message", BAD_CRITERIA)
def test_criteria_of_the_wrong_shape_are_refused_in_the_admin(client, county, root, value, message):
    client.force_login(root)
    url = reverse("admin:funding_call_change", args=[county.call.pk])
    shown = form_data(client.get(url).context["adminform"].form)
    events = history_of(county.call).count()
    response = client.post(url, {**shown, "criteria": value})
    assert response.status_code == 200
    assert message in page(response)
    assert Call.objects.get(pk=county.call.pk).criteria == []
    assert history_of(county.call).count() == events


def test_good_criteria_are_saved_journaled_and_fixed_once_a_review_is_scored(client, county, root):
    import json

    client.force_login(root)
    url = reverse("admin:funding_call_change", args=[county.call.pk])
    shown = form_data(client.get(url).context["adminform"].form)
    value = json.dumps(CRITERIA, ensure_ascii=False)
    assert client.post(url, {**shown, "criteria": value}).status_code == 302
    call = Call.objects.get(pk=county.call.pk)
    assert call.criteria == CRITERIA
    event = history_of(call).filter(kind=EventKind.CALL_CHANGED).last()
    assert event.after["criteria"] == CRITERIA and event.before["criteria"] == []
    # Once a review is scored against them, they stay.
    project = reviewing(county)
    names = [c["name"] for c in CRITERIA]
    submit_expert_review(
        project.pk,
        county.users["expert1"],
        None,
        "可行",
        no_conflict=True,
        scores=dict.fromkeys(names, 80),
    )
    shown = form_data(client.get(url).context["adminform"].form)
    changed = json.dumps([{"name": "总体评价", "weight": 100}], ensure_ascii=False)
    response = client.post(url, {**shown, "criteria": changed})
    assert response.status_code == 200 and "they cannot change" in page(response)
    assert Call.objects.get(pk=call.pk).criteria == CRITERIA
    save_call(call, county.users["staff"])  # unchanged criteria: saving still works


def test_a_call_without_criteria_keeps_the_single_score(client, county):
    project = reviewing(county)
    client.force_login(county.users["expert3"])
    declare_on_page(client, project)
    response = client.post(
        reverse("project-review", args=[project.pk]), {"score": "73", "opinion": "可行"}
    )
    assert response.status_code == 302
    review = ExpertAssignment.objects.get(project=project, expert=county.users["expert3"])
    assert review.score == 73 and review.scores == {}


def test_staff_pass_the_formal_check_with_the_draw_on_the_journey(client, county):
    """The formal check as staff see it: draw, the drawn ticked, pass without a reason."""
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "乙", "300000"), S.FORMAL_CHECK
    )
    client.force_login(county.users["staff"])
    client.post(
        reverse("experts-draw", args=[project.pk]),
        {"draw-expert_fields": ["agriculture"], "draw-size": "3", "draw-seed": "j"},
    )
    shown = client.get(reverse("project", args=[project.pk]))
    form = next(a["form"] for a in shown.context["actions"] if a["name"] == "pass_formal_check")
    experts = form["experts"].initial
    act(client, project, "pass_formal_check", experts=experts)
    project.refresh_from_db()
    assert project.status == S.EXPERT_REVIEW
