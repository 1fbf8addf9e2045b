"""The expert pool through the pages: profiles, the seeded draw and its exclusions (回避),
picks by hand with a reason, declining and the replacement, deadlines and reminders."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import translation

from funding.expert_draw import redo_draw, seeded_choice, seeded_sample
from funding.experts import ExpertProfile, ReviewDraw
from funding.models import ExpertAssignment, Project
from funding.review_deadlines import send_review_reminders
from funding.states import ProjectStatus as S
from funding.tasks import remind_due_reviews
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import inbox, submit_expert_review
from workflows.reviewing import decline_review

from .forms_support import form_data
from .pool_support import (
    TODAY,
    act,
    change_profile,
    decline_on_page,
    draw_on_page,
    in_formal_check,
    make_expert,
    page,
    said,
    sanction,
)
from .race_support import race

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def drawn(client, county, project, **draw):
    client.force_login(county.users["staff"])
    draw_on_page(client, project, **draw)
    return ReviewDraw.objects.filter(project=project).latest("pk")


def under_review(client, county, project, **draw) -> ReviewDraw:
    """Staff draw on the page and pass the formal check with the drawn experts."""
    draw = drawn(client, county, project, **draw)
    act(client, project, "pass_formal_check", experts=draw.picks)
    project.refresh_from_db()
    assert project.status == S.EXPERT_REVIEW
    return draw


def tasks_of(user, project) -> list[str]:
    return [
        t.flow_task.name
        for t in inbox(user).select_related("process__projectprocess")
        if t.process.projectprocess.project_id == project.pk
    ]


# --- profiles -----------------------------------------------------------------------------


def test_an_expert_keeps_their_own_profile_and_the_change_is_journaled(client, county):
    expert = county.users["expert4"]
    client.force_login(expert)
    url = reverse("expert-profile")
    shown = client.get(url)
    assert shown.status_code == 200 and "Relations to avoid" in page(shown)
    data = {
        "organisation": county.orgs["university"].pk,
        "expert_fields": ["manufacturing", "energy"],
        "title": "教授",
        "phone": "0571-88880000",
        "email": "sun@example.com",
        "active": "on",
        "relations": f"前工作单位, {county.orgs['enterprise'].name}, 2019年离职\n"
        f"亲属, {demo.person_id(701)}, 孙某, 兄弟",
    }
    response = client.post(url, data, follow=True)
    assert "Your expert profile has been saved." in said(response)
    profile = ExpertProfile.objects.get(user=expert)
    assert profile.fields == ["manufacturing", "energy"]
    relations = {(r.kind, r.organisation_id, r.id_number) for r in profile.relations.all()}
    assert relations == {
        ("former_employer", county.orgs["enterprise"].pk, ""),
        ("kin", None, demo.person_id(701)),
    }
    event = history_of(profile).filter(kind=EventKind.EXPERT_PROFILE_CHANGED).last()
    assert event.actor_id == expert.pk and event.after["fields"] == ["manufacturing", "energy"]


def test_a_bad_relation_is_refused_with_what_was_typed(client, county):
    client.force_login(county.users["expert4"])
    before = list(ExpertProfile.objects.values_list("fields", flat=True))
    events = history_of(ExpertProfile.objects.get(user=county.users["expert4"])).count()
    lines = "亲属, 12345, 某人\n朋友, 东海理工大学"
    response = client.post(
        reverse("expert-profile"),
        {"expert_fields": ["energy"], "relations": lines, "active": "on"},
    )
    assert response.status_code == 200
    text = page(response)
    assert "no registered organisation is called or coded “12345”" in text
    assert "the relation is 前工作单位, 合作者, 亲属 or 其他" in text
    assert "朋友, 东海理工大学" in text  # as typed
    assert list(ExpertProfile.objects.values_list("fields", flat=True)) == before
    assert history_of(ExpertProfile.objects.get(user=county.users["expert4"])).count() == events


@pytest.mark.parametrize("who", ["applicant", "staff", "auditor"])
def test_only_experts_have_a_profile_page(client, county, who):
    client.force_login(county.users[who])
    assert client.get(reverse("expert-profile")).status_code == 403


def test_staff_change_a_profile_in_the_admin_through_the_same_service(client, county):
    client.force_login(county.users["staff"])
    profile = ExpertProfile.objects.get(user=county.users["expert5"])
    url = reverse("admin:funding_expertprofile_change", args=[profile.pk])
    response = client.get(url)
    assert response.status_code == 200
    shown = form_data(response.context["adminform"].form)
    inline = {
        "relations-TOTAL_FORMS": "1",
        "relations-INITIAL_FORMS": "0",
        "relations-MIN_NUM_FORMS": "0",
        "relations-MAX_NUM_FORMS": "1000",
        "relations-0-kind": "co_author",
        "relations-0-id_number": demo.person_id(702),
        "relations-0-name": "王某",
    }
    # Both an organisation and a person: refused on the form, nothing saved.
    both = {**inline, "relations-0-organisation": county.orgs["institute"].pk}
    response = client.post(url, {**shown, "active": "", **both})
    assert response.status_code == 200
    assert "either an organisation or a person" in page(response)
    profile.refresh_from_db()
    assert profile.active
    response = client.post(url, {**shown, "active": "", **inline})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert not profile.active and profile.relations.get().id_number == demo.person_id(702)
    event = history_of(profile).filter(kind=EventKind.EXPERT_PROFILE_CHANGED).last()
    assert event.actor_id == county.users["staff"].pk
    assert event.before["active"] is True and event.after["active"] is False


# --- the draw -----------------------------------------------------------------------------


def test_staff_draw_on_the_page_and_anyone_can_repeat_the_draw(client, county):
    project = in_formal_check(county)
    client.force_login(county.users["staff"])
    shown = client.get(reverse("project", args=[project.pk]))
    assert 'data-testid="draw-form"' in page(shown)
    response = draw_on_page(client, project, seed="2026-评审")
    assert "Drawn." in said(response)
    draw = ReviewDraw.objects.get(project=project)
    pool = sorted(county.users[f"expert{n}"].pk for n in range(1, 6))
    assert draw.pool == pool and draw.seed == "2026-评审"
    assert draw.picks == seeded_sample("2026-评审", pool, 3) == redo_draw(draw)
    event = history_of(project).filter(kind=EventKind.EXPERTS_DRAWN).get()
    assert event.data["seed"] == "2026-评审" and event.data["pool"] == pool
    assert event.data["picks"] == draw.picks
    # The page shows the draw, and the formal check comes with the drawn experts ticked.
    text = page(response)
    assert "2026-评审" in text and "the seed over the pool gives the same experts" in text
    form = response.context["actions"]
    assign = next(a["form"] for a in form if a["name"] == "pass_formal_check")
    assert assign["experts"].initial == draw.picks
    # The same seed over the same pool draws the same experts for another project.
    other = in_formal_check(county, title="茶园病虫害绿色防控")
    draw_on_page(client, other, seed="2026-评审")
    assert ReviewDraw.objects.get(project=other).picks == draw.picks
    # Passing with the drawn experts needs no reason; each assignment remembers its draw.
    act(client, project, "pass_formal_check", experts=draw.picks)
    project.refresh_from_db()
    assert project.status == S.EXPERT_REVIEW
    assignments = ExpertAssignment.objects.filter(project=project)
    assert {a.drawn_id for a in assignments} == {draw.pk}
    assert {a.due_on for a in assignments} == {TODAY + datetime.timedelta(days=14)}


def test_the_draw_never_picks_an_excluded_or_sanctioned_expert(client, county):
    u = county.users
    institute = county.orgs["institute"]
    project = in_formal_check(
        county,
        team=[
            {"name": "黄助理", "id_number": demo.person_id(501), "duty": "试验"},
            {"name": "吴研究员", "id_number": u["expert2"].id_number, "duty": "顾问"},
        ],
    )
    change_profile(county, "expert1", organisation=institute)  # works for the applicant
    # expert2 is in the team; expert3 declared the PI as kin; expert4 is inactive;
    # expert5 is sanctioned; two more: no ID number, and a former employer relation.
    change_profile(
        county,
        "expert3",
        relations=[{"kind": "kin", "id_number": project.pi.id_number, "name": "陈研究员"}],
    )
    change_profile(county, "expert4", active=False)
    sanction(county, u["expert5"])
    make_expert(county, "expert6", 806, id_number="")
    make_expert(
        county,
        "expert7",
        807,
        relations=[{"kind": "former_employer", "organisation": institute}],
    )
    clean = make_expert(county, "expert8", 808)
    make_expert(county, "expert9", 809, fields=["energy"])  # another field
    for seed in ("a", "b", "c", "d", "e"):
        draw = drawn(client, county, project, fields=["agriculture"], size=1, seed=seed)
        assert draw.picks == [clean.pk]
    assert draw.pool == [clean.pk]
    assert draw.excluded == {
        "own_organisation": [u["expert1"].pk],
        "team": [u["expert2"].pk],
        "relation": [u["expert3"].pk, u["expert7"].pk],
        "inactive": [u["expert4"].pk],
        "sanctioned": [u["expert5"].pk],
        "no_identity": [u["expert6"].pk],
        "other_field": [u["expert9"].pk],
    }
    response = draw_on_page(client, project, fields=["agriculture"], size=2, seed="f")
    assert "Experts who may review this project in these fields: 1." in said(response)
    assert ReviewDraw.objects.filter(project=project).count() == 5


def test_a_project_field_sets_the_draws_fields(client, county):
    project = in_formal_check(county)  # 农业科技
    client.force_login(county.users["staff"])
    response = client.get(reverse("project", args=[project.pk]))
    assert response.context["pool"]["draw_form"]["expert_fields"].initial == ["agriculture"]


@pytest.mark.parametrize("who", ["applicant", "leader", "expert1"])
def test_only_staff_draw(client, county, who):
    project = in_formal_check(county)
    client.force_login(county.users[who])
    response = draw_on_page(client, project)
    assert response.status_code in (403, 404)
    assert not ReviewDraw.objects.exists()


def test_a_hand_pick_needs_a_reason(client, county):
    project = in_formal_check(county)
    draw = drawn(client, county, project, fields=["agriculture", "manufacturing"])
    u = county.users
    outsider = next(u[f"expert{n}"] for n in range(1, 6) if u[f"expert{n}"].pk not in draw.picks)
    chosen = [*draw.picks[:2], outsider.pk]
    response = act(client, project, "pass_formal_check", experts=chosen)
    assert f"Give the reason for picking {outsider} by hand (not drawn)." in said(response)
    project.refresh_from_db()
    assert project.status == S.FORMAL_CHECK
    assert not ExpertAssignment.objects.filter(project=project).exists()
    reason = "该专家熟悉轴承磨削工艺，抽取结果中无此方向专家。"
    act(client, project, "pass_formal_check", experts=chosen, reason=reason)
    project.refresh_from_db()
    assert project.status == S.EXPERT_REVIEW
    picked = ExpertAssignment.objects.get(project=project, expert=outsider)
    assert picked.drawn is None and picked.picked_reason == reason
    transition = history_of(project).filter(data__transition="pass_formal_check").get()
    assert transition.data["picked_by_hand"] == [outsider.pk]
    assert transition.data["picked_reason"] == reason and transition.data["draw"] == draw.pk


def test_a_hand_pick_cannot_bring_in_an_excluded_expert(client, county):
    project = in_formal_check(county)
    change_profile(county, "expert2", organisation=county.orgs["institute"])
    client.force_login(county.users["staff"])
    experts = [county.users[f"expert{n}"].pk for n in (1, 2, 3)]
    response = act(client, project, "pass_formal_check", experts=experts, reason="熟悉领域")
    assert "吴研究员 cannot review this project (回避): works for the applicant" in said(response)
    assert not ExpertAssignment.objects.filter(project=project).exists()


# --- declining and the replacement ----------------------------------------------------------


def test_a_decline_is_replaced_from_the_same_draw_and_the_task_follows(client, county):
    project = in_formal_check(county)
    draw = under_review(client, county, project, seed="替换")
    u = {user.pk: user for user in county.users.values()}
    first = u[draw.picks[0]]
    client.force_login(first)
    response = decline_on_page(client, project, reason="曾与项目负责人合作发表论文。")
    assert "You have declined this review." in said(response)
    declined = ExpertAssignment.objects.get(project=project, expert=first)
    assert declined.declined_at and declined.conflict
    candidates = [pk for pk in draw.pool if pk not in draw.picks]
    expected = seeded_choice("替换", 1, candidates)
    assert declined.replaced_by.expert_id == expected
    assert declined.replaced_by.drawn_id == draw.pk
    event = history_of(project).filter(kind=EventKind.REVIEW_DECLINED).get()
    assert event.data["replacement"] == expected and event.data["candidates"] == candidates
    assert event.data["counter"] == 1
    # The review task moved from the one who declined to the replacement.
    assert tasks_of(first, project) == []
    assert tasks_of(u[expected], project) == ["expert_review"]
    # The one who declined sees the title only now.
    text = page(client.get(reverse("project", args=[project.pk])))
    assert "You declined this review" in text and project.summary not in text

    # A second decline takes the last one left in the pool; a third finds nobody.
    second = u[draw.picks[1]]
    decline_review(project.pk, second, "时间冲突")
    last = next(pk for pk in candidates if pk != expected)
    assert (
        ExpertAssignment.objects.get(project=project, expert=second).replaced_by.expert_id == last
    )
    third = u[draw.picks[2]]
    assert decline_review(project.pk, third, "出差") is None
    # Staff are asked to pick one by hand, with a reason; the task waits in their inbox.
    staff = county.users["staff"]
    assert "expert_review" in tasks_of(staff, project)
    client.force_login(staff)
    shown = client.get(reverse("project", args=[project.pk]))
    assert 'data-testid="pick-form"' in page(shown)
    newcomer = make_expert(county, "expert6", 806)
    pick = {"pick-expert": newcomer.pk, "pick-reason": ""}
    response = client.post(reverse("experts-pick", args=[project.pk]), pick, follow=True)
    assert "This field is required." in page(response)
    pick["pick-reason"] = "抽取库已无可回避专家，指定本领域专家。"
    client.post(reverse("experts-pick", args=[project.pk]), pick, follow=True)
    assert (
        ExpertAssignment.objects.get(project=project, expert=third).replaced_by.expert == newcomer
    )
    assert tasks_of(newcomer, project) == ["expert_review"]
    assert "expert_review" not in tasks_of(staff, project)
    # Every place reviewed: staff conclude with the three reviews of those who stayed.
    for assignment in ExpertAssignment.objects.filter(project=project, declined_at=None):
        submit_expert_review(project.pk, assignment.expert, 80, "可行", no_conflict=True)
    assert "conclude_review" in tasks_of(staff, project)
    act(client, project, "finish_expert_review")
    project.refresh_from_db()
    assert project.status == S.BUDGET_REVIEW


def test_declining_needs_a_reason_and_is_closed_after_scoring(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "甲", "300000"), S.EXPERT_REVIEW
    )
    expert = county.users["expert1"]
    client.force_login(expert)
    response = decline_on_page(client, project, reason="   ")
    assert response.status_code == 200 and "This field is required." in page(response)
    assert not ExpertAssignment.objects.filter(declined_at__isnull=False).exists()
    submit_expert_review(project.pk, expert, 80, "可行", no_conflict=True)
    response = decline_on_page(client, project)
    assert "You have already submitted your review." in page(response)
    assert not ExpertAssignment.objects.filter(declined_at__isnull=False).exists()


def test_someone_not_assigned_cannot_decline(client, county):
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "乙", "300000"), S.EXPERT_REVIEW
    )
    client.force_login(county.users["expert4"])
    assert decline_on_page(client, project).status_code == 404


# --- deadlines -----------------------------------------------------------------------------


def test_experts_are_reminded_before_the_deadline_and_staff_see_late_reviews(
    client, county, settings
):
    settings.REVIEW_REMIND_DAYS = 3
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "丙", "300000"), S.EXPERT_REVIEW
    )
    # A title stored with a line break (before titles were checked) keeps the subject valid.
    Project.objects.filter(pk=project.pk).update(title="丙\n项目")
    u = county.users
    due = {
        "expert1": TODAY + datetime.timedelta(days=2),
        "expert2": TODAY - datetime.timedelta(days=1),
    }
    for name, day in due.items():
        ExpertAssignment.objects.filter(project=project, expert=u[name]).update(due_on=day)
    submit_expert_review(project.pk, u["expert3"], 80, "可行", no_conflict=True)
    ExpertAssignment.objects.filter(project=project, expert=u["expert3"]).update(due_on=TODAY)
    assert remind_due_reviews.delay().get() == 2  # the Celery task, run in-process
    sent = {m.to[0]: m.subject for m in mail.outbox}
    assert sent == {
        "expert1@example.com": "Due soon: your review of “丙 项目”",
        "expert2@example.com": "Overdue: your review of “丙 项目”",
    }
    assert send_review_reminders() == 0  # once a day
    # Staff see the late one in their inbox and on the project page; the expert their due date.
    client.force_login(u["staff"])
    inbox_page = page(client.get(reverse("inbox")))
    assert 'data-testid="late-reviews"' in inbox_page and "吴研究员" in inbox_page
    project_page = page(client.get(reverse("project", args=[project.pk])))
    assert project_page.count('data-late="1"') == 1
    client.force_login(u["expert1"])
    mine = page(client.get(reverse("inbox")))
    assert 'data-testid="my-reviews"' in mine and due["expert1"].isoformat() in mine


# --- two declines at once --------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_two_experts_declining_at_once_get_two_different_replacements(county):
    project = in_formal_check(county)
    demo_staff = county.users["staff"]
    from funding.expert_draw import draw_reviewers
    from workflows.actions import perform

    draw = draw_reviewers(project, demo_staff, ["agriculture", "manufacturing"], 3, "并发")
    experts = list(type(demo_staff).objects.filter(pk__in=draw.picks).order_by("pk"))
    perform(project.pk, "pass_formal_check", demo_staff, experts=experts)
    first, second = experts[:2]
    results = race(
        lambda: decline_review(project.pk, first, "冲突一", conflict=True),
        lambda: decline_review(project.pk, second, "冲突二", conflict=True),
    )
    assert all(isinstance(r, ExpertAssignment) for r in results), results
    replacements = {r.expert_id for r in results}
    assert len(replacements) == 2 and replacements.isdisjoint(draw.picks)
    assert replacements == set(draw.pool) - set(draw.picks)
    assert ReviewDraw.objects.get(pk=draw.pk).replacements == 2
    events = history_of(project).filter(kind=EventKind.REVIEW_DECLINED)
    assert sorted(e.data["counter"] for e in events) == [1, 2]


def test_the_draw_reads_the_project_field_whatever_the_language(county):

    from funding.expert_draw import default_fields

    project = demo.draft_project(county, "applicant", "稻田灌溉", "300000", field="农业科技")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert default_fields(project) == ["agriculture"]
