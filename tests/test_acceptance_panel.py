"""Acceptance panels (issue 7): drawn from the pool, each member's verdict, the stated
rule, the audit opinion where the panel and staff decide, one reconsideration.

Each step is taken through the pages as the role concerned.
"""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from funding.expert_profiles import save_expert_profile
from funding.experts import ExpertProfile
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, Severity, SubjectKind, VetoCheck
from integrity.services import record_sanction
from oversight.models import AcceptancePanel, AcceptanceReview, PanelVerdict
from oversight.panels import redo_panel_draw
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo
from workflows.actions import perform

from .pages_support import text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- helpers ------------------------------------------------------------------------------


def expert(county, n: int, *, org: str | None = None, id_number: str | None = None) -> User:
    user = User.objects.create_user(
        username=f"pool{n}",
        password="x",
        real_name=f"池专家{n}",
        id_number=id_number or demo.person_id(700 + n),
        organisation=county.orgs[org] if org else None,
    )
    user.groups.add(Group.objects.get(name=Role.EXPERT.value))
    profile = ExpertProfile(user=user, organisation=user.organisation, fields=["agriculture"])
    save_expert_profile(profile, [], county.users["staff"])
    return user


def ban(county, user, gates=(Gate.REVIEW,)) -> Sanction:
    sanction = Sanction(
        subject_kind=SubjectKind.PERSON,
        subject_id=user.id_number,
        subject_name=str(user),
        severity=Severity.SERIOUS,
        measures=["ban"],
        gates=[g.value for g in gates],
        decision_no=f"示科信〔2026〕{Sanction.objects.count() + 70}号",
        reason="评审中收受申报单位财物",
        starts_on=TODAY - DAY,
        ends_on=TODAY + 700 * DAY,
    )
    return record_sanction(sanction, county.users["integrity"])


def under_acceptance(county, draft, opinion="unqualified", findings="账实相符。"):
    """The 600,000-yuan draft, audited with `opinion`, now under acceptance review."""
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    perform(
        project.pk,
        "issue_audit_opinion",
        county.users["auditor"],
        opinion=opinion,
        findings=findings,
    )
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE
    return project


def draw(client, county, project, **fields):
    client.force_login(county.users["staff"])
    data = {f"panel_draw-{k}": v for k, v in {"size": 5, "seed": "", **fields}.items()}
    return client.post(reverse("panel-draw", args=[project.pk]), data, follow=True)


def vote(client, member, project, task="pass", finance="pass", opinion="完成考核指标。"):
    client.force_login(member)
    data = {
        "verdict-task_verdict": task,
        "verdict-finance_verdict": finance,
        "verdict-opinion": opinion,
    }
    return client.post(reverse("panel-vote", args=[project.pk]), data, follow=True)


def conclude(client, county, project, conclusion, remarks=""):
    client.force_login(county.users["staff"])
    data = {"conclude_acceptance-conclusion": conclusion, "conclude_acceptance-remarks": remarks}
    url = reverse("project-action", args=[project.pk, "conclude_acceptance"])
    return client.post(url, data, follow=True)


def members_of(project) -> list[User]:
    return list(AcceptancePanel.objects.filter(project=project).latest("pk").members.order_by("pk"))


def panel_votes(client, project, verdicts):
    """Each member in id order votes (task, finance)."""
    for member, (task, finance) in zip(members_of(project), verdicts, strict=True):
        response = vote(client, member, project, task, finance)
        assert "Your verdict has been recorded" in text(response), text(response)[:300]


def status(project) -> str:
    project.refresh_from_db()
    return project.status


ALL_PASS = [("pass", "pass")] * 5


# --- the draw -----------------------------------------------------------------------------


def test_the_draw_is_repeatable_and_leaves_out_the_applicant_the_team_and_the_sanctioned(
    client, county, draft
):
    project = under_acceptance(county, draft)
    colleague = expert(county, 1, org="institute")  # the applicant organisation
    on_team = expert(county, 2, id_number=demo.person_id(501))  # 黄助理, on the team
    barred = expert(county, 3)
    ban(county, barred)
    eligible = [expert(county, n) for n in (4, 5, 6)]

    response = draw(client, county, project, seed="2026-验收")
    assert "The acceptance panel has been drawn" in text(response)
    panel = AcceptancePanel.objects.get(project=project)
    drawn = set(panel.members.values_list("pk", flat=True))
    left_out = {colleague.pk, on_team.pk, barred.pk}
    assert len(drawn) == 5 and not drawn & left_out
    assert set(panel.pool) == {county.users[f"expert{n}"].pk for n in range(1, 6)} | {
        e.pk for e in eligible
    }
    assert panel.excluded["own_organisation"] == [colleague.pk]
    assert panel.excluded["team"] == [on_team.pk]
    assert panel.excluded["sanctioned"] == [barred.pk]
    # Anyone can redo it from what was kept, and the same seed draws the same again.
    assert redo_panel_draw(panel.seed, panel.pool, panel.size) == sorted(drawn)
    again = draw(client, county, project, seed="2026-验收", reason="复核抽取结果")
    assert "drawn" in text(again)
    assert set(AcceptancePanel.objects.latest("pk").members.values_list("pk", flat=True)) == drawn
    # Staff see the draw and its seed on the page; it is journaled.
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "2026-验收" in page and "pool of 8 experts" in page
    drawn_events = [e for p in AcceptancePanel.objects.all() for e in history_of(p)]
    assert [e.kind for e in drawn_events] == [EventKind.EXPERTS_DRAWN] * 2
    # And over many seeds nobody left out is ever drawn.
    for seed in "abcdefghij":
        assert not set(redo_panel_draw(seed, panel.pool, 5)) & left_out


def test_drawing_again_needs_a_reason(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project, seed="one")
    response = draw(client, county, project, seed="two")
    assert "give a reason to draw it again" in text(response)
    assert AcceptancePanel.objects.filter(project=project).count() == 1
    assert 'value="two"' in response.content.decode()  # the form comes back as typed


def test_too_few_eligible_experts_is_a_clear_refusal(client, county, draft):
    project = under_acceptance(county, draft)
    ban(county, county.users["expert4"])
    response = draw(client, county, project)
    assert "Only 4 experts may sit on this panel" in text(response)
    assert "a panel of 5 cannot be drawn" in text(response)
    assert not AcceptancePanel.objects.exists()
    response = draw(client, county, project, size=3)
    assert "An acceptance panel has at least 5 members" in text(response)
    assert not AcceptancePanel.objects.exists()


def test_only_staff_draw_and_only_under_acceptance(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    response = draw(client, county, project)
    assert "once the project is under acceptance review" in text(response)
    project = under_acceptance(county, demo.draft_project(county, "applicant", "第二个", "600000"))
    client.force_login(project.pi)
    url = reverse("panel-draw", args=[project.pk])
    response = client.post(url, {"panel_draw-size": 5}, follow=True)
    assert "Only bureau staff draw the acceptance panel" in text(response)
    client.force_login(county.users["leader"])
    assert "Only bureau staff" in text(client.post(url, {"panel_draw-size": 5}, follow=True))
    assert not AcceptancePanel.objects.exists()
    assert (
        'data-form="panel-draw"'
        not in client.get(reverse("project", args=[project.pk])).content.decode()
    )


# --- the votes ----------------------------------------------------------------------------


def test_members_vote_where_they_see_the_audit_the_report_and_the_funds(client, county, draft):
    project = under_acceptance(county, draft, findings="经费使用规范，账实相符。")
    draw(client, county, project)
    member = members_of(project)[0]
    client.force_login(member)
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "Unqualified (无保留意见)" in page and "经费使用规范，账实相符。" in page
    assert "已完成全部研究内容" in page  # the tech report's abstract
    assert "Fund trail summary" in page and "Disbursed" in page
    assert 'data-form="panel-vote"' in page

    response = vote(client, member, project, "pass", "fail", "指标完成，但设备费偏高。")
    assert "Your verdict has been recorded" in text(response)
    verdict = PanelVerdict.objects.get(member=member)
    assert (verdict.task_passed, verdict.finance_passed, verdict.round) == (True, False, 1)
    event = history_of(verdict.panel).filter(kind=EventKind.PANEL_VERDICT).get()
    assert event.actor_id == member.pk and event.data["finance_passed"] is False
    # A member may change their verdict until the conclusion; still one per round.
    vote(client, member, project, "pass", "pass", "复核后同意通过。")
    assert PanelVerdict.objects.get(member=member).finance_passed is True
    # The member sees their own verdict, not the others'.
    other = members_of(project)[1]
    vote(client, other, project, "fail", "fail", "其他委员的意见内容")
    client.force_login(member)
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "2 of 5 members have voted" in page and "其他委员的意见内容" not in page


def test_non_members_cannot_vote(client, county, draft):
    project = under_acceptance(county, draft)
    expert(county, 9)
    draw(client, county, project, seed="fixed")
    # An expert not drawn does not even see the project (one joining the pool after it).
    assert vote(client, expert(county, 10), project).status_code == 404
    # Those who see it but were not drawn (a reviewer of the application, staff, the PI).
    members = members_of(project)
    outsiders = [u for u in county.users.values() if u.username.startswith("expert")]
    left_out = [u for u in outsiders if u not in members]
    for user in (*left_out, county.users["staff"], project.pi):
        response = vote(client, user, project)
        assert response.status_code == 404 or (
            "Only a member of the drawn acceptance panel records a verdict" in text(response)
        )
    assert not PanelVerdict.objects.exists()


def test_a_sanctioned_member_is_refused_when_voting(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    first, second, *_ = members_of(project)
    vote(client, first, project)
    ban(county, second)  # barred after being drawn
    response = vote(client, second, project)
    assert "is barred" in text(response) and "Panel member" in text(response)
    assert not PanelVerdict.objects.filter(member=second).exists()
    refused = VetoCheck.objects.filter(
        object_type="funding.project", object_id=str(project.pk), gate=Gate.REVIEW, passed=False
    )
    assert refused.exists()  # the refusal is kept
    # The one barred after voting stops the conclusion too: members are checked again.
    ban(county, first)
    for member in members_of(project)[2:]:
        vote(client, member, project)
    response = conclude(client, county, project, "passed")
    assert "still to vote" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE
    # Staff draw a new panel, with the reason; the barred members are left out.
    response = draw(client, county, project, reason="原专家被列入失信名单")
    assert "Only 3 experts may sit on this panel" in text(response)


def test_a_member_barred_after_voting_stops_the_conclusion(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, ALL_PASS)
    ban(county, members_of(project)[0])
    response = conclude(client, county, project, "passed")
    assert "Panel member" in text(response) and "is barred" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE and not project.acceptances.exists()


# --- the rule -----------------------------------------------------------------------------


def test_the_conclusion_waits_for_every_member(client, county, draft):
    project = under_acceptance(county, draft)
    response = conclude(client, county, project, "passed")
    assert "Draw the acceptance panel first" in text(response)
    draw(client, county, project)
    for member in members_of(project)[:4]:
        vote(client, member, project)
    last = members_of(project)[4]
    response = conclude(client, county, project, "passed")
    assert f"still to vote: {last}" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE and not project.acceptances.exists()


def test_the_conclusion_follows_the_two_thirds_rule(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    # 3 of 5 pass the task: below two-thirds (4 of 5 needed).
    panel_votes(client, project, [("pass", "pass")] * 3 + [("fail", "pass")] * 2)
    client.force_login(county.users["staff"])
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "Task: 3 of 5 pass; finance: 5 of 5 pass" in page
    assert "at least 2/3 of the panel (4 of 5 members)" in page
    assert "The votes give: fail" in page
    for member in members_of(project):  # every vote and opinion is visible where staff decide
        assert str(member) in page

    response = conclude(client, county, project, "passed", "全部通过")
    assert "The panel's votes do not pass the project" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE
    response = conclude(client, county, project, "failed", "考核指标未完成。")
    assert status(project) == S.FAILED
    review = AcceptanceReview.objects.get(project=project)
    assert (review.task_review_passed, review.financial_review_passed) == (False, True)
    assert review.panel_members.count() == 5 and review.round == 1
    assert history_of(project).last().data["votes"] == {"members": 5, "task": 3, "finance": 5}


def test_a_conclusion_against_passing_votes_is_refused(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, [("pass", "pass")] * 4 + [("fail", "fail")])
    for conclusion in ("failed", "reconsider"):
        response = conclude(client, county, project, conclusion, "不同意")
        assert "the conclusion is a pass" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE
    conclude(client, county, project, "passed", "通过")
    assert status(project) == S.ACCEPTED


def test_the_share_is_a_setting(client, county, draft, settings):
    settings.ACCEPTANCE_PASS_SHARE = "1/2"
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, [("pass", "pass")] * 3 + [("fail", "fail")] * 2)
    conclude(client, county, project, "passed")
    assert status(project) == S.ACCEPTED


# --- the audit opinion --------------------------------------------------------------------


@pytest.mark.parametrize("opinion", ["adverse", "disclaimer"])
def test_an_adverse_or_disclaimer_opinion_blocks_a_financial_pass(client, county, draft, opinion):
    project = under_acceptance(county, draft, opinion=opinion, findings="大额现金支付无凭证。")
    client.force_login(county.users["staff"])
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "大额现金支付无凭证。" in page and "blocks a financial pass" in page
    draw(client, county, project)
    member = members_of(project)[0]
    response = vote(client, member, project, "pass", "pass")
    assert "the financial review cannot pass" in text(response)
    assert not PanelVerdict.objects.exists()
    assert 'value="pass" checked' in response.content.decode().replace("\n", " ") or (
        "完成考核指标。" in response.content.decode()
    )  # the form comes back as typed
    panel_votes(client, project, [("pass", "fail")] * 5)
    response = conclude(client, county, project, "passed")
    assert "do not pass the project" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE
    conclude(client, county, project, "failed", "审计否定意见。")
    assert status(project) == S.FAILED


def test_a_qualified_opinion_needs_the_findings_answered(client, county, draft):
    project = under_acceptance(county, draft, opinion="qualified", findings="两笔劳务费缺少签收。")
    draw(client, county, project)
    member = members_of(project)[0]
    response = vote(client, member, project, "pass", "pass")
    assert "only after the PI has answered the findings" in text(response)

    # The PI reads the findings and answers them on the project page.
    client.force_login(project.pi)
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "两笔劳务费缺少签收。" in page and 'data-form="findings-answer"' in page
    url = reverse("findings-answer", args=[project.pk])
    response = client.post(url, {"findings-answer": "   "}, follow=True)
    assert "Write your answer to the findings" in text(response)
    response = client.post(url, {"findings-answer": "已补齐签收单，见附件。"}, follow=True)
    assert "Your answer to the audit findings has been recorded" in text(response)
    event = history_of(project).filter(kind=EventKind.FINDINGS_ANSWERED).get()
    assert event.actor_id == project.pi_id

    # Now the finance verdict may be a pass, and staff see the answer where they decide.
    panel_votes(client, project, ALL_PASS)
    client.force_login(county.users["staff"])
    assert "已补齐签收单" in text(client.get(reverse("project", args=[project.pk])))
    conclude(client, county, project, "passed")
    assert status(project) == S.ACCEPTED


def test_only_the_pi_answers_and_only_a_qualified_opinion(client, county, draft):
    project = under_acceptance(county, draft, opinion="qualified", findings="缺少签收。")
    url = reverse("findings-answer", args=[project.pk])
    client.force_login(county.users["staff"])
    response = client.post(url, {"findings-answer": "代为回复"}, follow=True)
    assert "Only the project's PI answers the audit findings" in text(response)
    other = under_acceptance(county, demo.draft_project(county, "applicant", "无保留", "600000"))
    client.force_login(other.pi)
    response = client.post(
        reverse("findings-answer", args=[other.pk]), {"findings-answer": "回复"}, follow=True
    )
    assert "Only the findings of a qualified audit opinion are answered" in text(response)
    assert not history_of(project).filter(kind=EventKind.FINDINGS_ANSWERED).exists()


# --- reconsideration ----------------------------------------------------------------------


def test_reconsideration_once_then_pass_or_fail(client, county, draft, settings):
    settings.RECONSIDERATION_MONTHS = 2
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, [("fail", "pass")] * 5)
    response = conclude(client, county, project, "reconsider", "")
    assert "Write the panel's remarks" in text(response)
    conclude(client, county, project, "reconsider", "请补充田间试验数据。")
    assert status(project) == S.RECONSIDERATION
    deadline = TODAY + relativedelta(months=2)

    # The PI sees the remarks and the deadline, never the members or their votes.
    client.force_login(project.pi)
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "请补充田间试验数据。" in page and deadline.isoformat() in page
    assert not any(str(m) in page for m in members_of(project))
    url = reverse("project-action", args=[project.pk, "resubmit_for_acceptance"])
    client.post(url, {"resubmit_for_acceptance-report": "已补充试验数据。"}, follow=True)
    assert status(project) == S.UNDER_ACCEPTANCE

    # Round 2: the same panel votes again; a second reconsideration is refused.
    panel_votes(client, project, [("fail", "pass")] * 5)
    assert PanelVerdict.objects.filter(round=2).count() == 5
    assert PanelVerdict.objects.filter(round=1).count() == 5
    response = conclude(client, county, project, "reconsider", "再给一次机会")
    assert "Reconsideration (需要复议) is allowed once" in text(response)
    assert status(project) == S.UNDER_ACCEPTANCE
    conclude(client, county, project, "failed", "整改后仍未完成。")
    assert status(project) == S.FAILED
    assert list(project.acceptances.order_by("pk").values_list("round", "conclusion")) == [
        (1, "reconsider"),
        (2, "failed"),
    ]


def test_after_rectification_the_panel_can_pass_the_project(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, [("fail", "fail")] * 5)
    conclude(client, county, project, "reconsider", "补充材料。")
    perform(project.pk, "resubmit_for_acceptance", project.pi, report="已补充。")
    client.force_login(members_of(project)[0])  # the second round waits for them again
    assert project.title in text(client.get(reverse("inbox")))
    panel_votes(client, project, ALL_PASS)
    conclude(client, county, project, "passed", "整改到位。")
    assert status(project) == S.ACCEPTED


def test_staff_fail_a_project_not_resubmitted_by_the_rectification_deadline(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    panel_votes(client, project, [("fail", "fail")] * 5)
    conclude(client, county, project, "reconsider", "补充材料。")
    client.force_login(county.users["staff"])
    url = reverse("project-action", args=[project.pk, "fail_after_rectification_deadline"])
    early = client.post(url, {"fail_after_rectification_deadline-reason": "逾期未整改。"})
    assert "has not passed yet" in text(early)
    assert status(project) == S.RECONSIDERATION

    AcceptanceReview.objects.filter(project=project).update(
        rectify_by=TODAY - datetime.timedelta(days=1)
    )
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "the rectification deadline passed" in page
    response = client.post(url, {"fail_after_rectification_deadline-reason": ""})
    assert status(project) == S.RECONSIDERATION and response.status_code == 200
    client.post(url, {"fail_after_rectification_deadline-reason": "逾期未整改。"})
    assert status(project) == S.FAILED
    [event] = [
        e
        for e in history_of(project)
        if e.data.get("transition") == ("fail_after_rectification_deadline")
    ]
    assert event.data["reason"] == "逾期未整改。"


def test_a_drawn_member_finds_the_vote_in_their_inbox_until_they_give_it(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    member = members_of(project)[0]
    client.force_login(member)
    inbox = text(client.get(reverse("inbox")))
    assert "Acceptance panels waiting for your verdict" in inbox and project.title in inbox
    vote(client, member, project, task="pass", finance="pass", opinion="完成指标。")
    inbox = text(client.get(reverse("inbox")))
    assert "Acceptance panels waiting for your verdict" not in inbox


# --- bad input ----------------------------------------------------------------------------


def test_a_verdict_without_its_fields_comes_back_as_typed(client, county, draft):
    project = under_acceptance(county, draft)
    draw(client, county, project)
    member = members_of(project)[0]
    response = vote(client, member, project, task="maybe", opinion="我的意见")
    assert response.status_code == 200
    assert "Give a task verdict, a finance verdict and your opinion" in text(response)
    assert "我的意见" in response.content.decode()
    response = vote(client, member, project, opinion="   ")
    assert response.status_code == 200
    assert not PanelVerdict.objects.exists()


def test_every_role_reads_the_project_page_through_the_acceptance(client, county, draft):
    project = under_acceptance(county, draft, opinion="qualified", findings="缺签收。")
    draw(client, county, project)
    member = members_of(project)[0]
    roles = ["staff", "leader", "integrity", "auditor", "applicant"]
    readers = [county.users[name] for name in roles] + [member]

    def every_page_reads():
        for user in readers:
            client.force_login(user)
            assert client.get(reverse("project", args=[project.pk])).status_code == 200

    every_page_reads()
    panel_votes(client, project, [("fail", "fail")] * 5)
    conclude(client, county, project, "reconsider", "补充签收单。")
    every_page_reads()
    # After the conclusion staff still see the votes it followed, round 1.
    client.force_login(county.users["staff"])
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "round 1" in page and "Task: 0 of 5 pass" in page
    perform(project.pk, "resubmit_for_acceptance", project.pi, report="已补齐。")
    answer = {"findings-answer": "已补齐签收单。"}
    client.force_login(project.pi)
    client.post(reverse("findings-answer", args=[project.pk]), answer)
    panel_votes(client, project, ALL_PASS)
    conclude(client, county, project, "passed")
    every_page_reads()
    client.force_login(county.users["staff"])
    page = text(client.get(reverse("project", args=[project.pk])))
    assert "round 2" in page and "Task: 5 of 5 pass; finance: 5 of 5 pass" in page
