"""Only actions that can succeed are offered (issue 11).

Walking a project through the demo county's states, every action the project page offers
to each role goes through when the person types what its form asks for: nothing offered
is refused for a reason typing cannot fix. What cannot succeed now is either listed under
"Not possible yet" with the reason (the call has closed, the panel has not voted) or not
shown at all (the one-vote veto, while the register bars nobody concerned).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from funding.models import Call, Project
from funding.services import budget_lines_in_order, veto_subjects
from funding.states import ProjectStatus as S
from integrity.models import Gate, Sanction, SubjectKind
from integrity.policy import check_veto
from oversight.models import AcceptanceReview
from oversight.panels import draw_acceptance_panel
from workflows import demo, stepper
from workflows.actions import perform

pytestmark = pytest.mark.django_db

# Everyone who may act on a project of the demo county, besides the public.
ROLES = ("applicant", "unit1", "staff", "leader", "integrity", "auditor", "expert1")


def as_user(client, user):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def project_page(client, project) -> str:
    response = client.get(reverse("project", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def offered(html: str) -> list[str]:
    return re.findall(r'<form [^>]*data-action="(\w+)"', html)


def waiting(html: str) -> dict[str, str]:
    """The actions listed under "Not possible yet", each with its label and reason."""
    rows = re.findall(r'data-waiting="(\w+)">(.*?)</li>', html, re.S)
    return {name: unescape(re.sub(r"<[^>]+>", "", row)) for name, row in rows}


def typed(county, project: Project, name: str) -> dict[str, object]:
    """What the person fills in on the action's form, as they would (prefix added later)."""
    u, reason = county.users, "经核查，理由如下（测试）。"
    approved = project.approved_amount or Decimal("0")
    remaining = approved - project.disbursed_total
    fields: dict[str, object] = {
        "submit": {"commitment": "on"},
        "recommend_by_unit": {"opinion": demo.UNIT_OPINION},
        "pass_formal_check": {
            "experts": [u["expert1"].pk, u["expert2"].pk, u["expert3"].pk],
            "reason": "按专业领域指定评审专家。",
        },
        "finish_budget_review": {
            f"{line.category}_approved": str(line.amount)
            for line in (budget_lines_in_order(project) if name == "finish_budget_review" else [])
        },
        "disburse": {
            "amount": str(min(approved * Decimal("0.6"), remaining)),
            "tranche": "首笔拨付",
            "reason": "按进度拨付（超出拨付计划时须说明）。",  # asked for beyond the schedule
        },
        "request_acceptance": {
            "title": "项目科技报告",
            "abstract": "已完成全部研究内容。",
            "keywords": "示范",
            "access": "open",
        },
        "appoint_audit": {"firm": county.orgs["firm"].pk, "auditor": u["auditor"].pk},
        "reappoint_audit": {
            "firm": county.orgs["firm2"].pk,
            "auditor": u["auditor2"].pk,
            "reason": reason,
        },
        "issue_audit_opinion": {"opinion": "unqualified", "findings": "账实相符。"},
        "conclude_acceptance": {"conclusion": AcceptanceReview.Conclusion.PASSED},
        "resubmit_for_acceptance": {"report": "已按专家意见补充田间试验数据。"},
    }
    return fields.get(name, {"reason": reason})


class Undone(Exception):
    """Raised to roll an attempt back: the walk goes on from the same state."""


def attempt(client, county, project: Project, name: str) -> str | None:
    """Post the action as typed and undo it: None when it went through, else why not."""
    data = {f"{name}-{key}": value for key, value in typed(county, project, name).items()}
    outcome: list[str | None] = []
    try:
        with transaction.atomic():
            response = client.post(reverse("project-action", args=[project.pk, name]), data)
            if response.status_code == 302:
                outcome.append(None)
            else:
                said = [str(m) for m in get_messages(response.wsgi_request)]
                errors = re.findall(r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode())
                outcome.append(" ".join(said + errors) or f"status {response.status_code}")
            raise Undone
    except Undone:
        pass
    return outcome[0]


def refused_offers(client, county, project: Project, tried=None) -> dict[tuple[str, str], str]:
    """Every action offered to each role on `project` that did not go through, and why;
    `tried` (a set) collects the actions offered."""
    refused = {}
    for role in ROLES:
        as_user(client, county.users[role])
        response = client.get(reverse("project", args=[project.pk]))
        if response.status_code != 200:  # not theirs to see
            continue
        for name in offered(response.content.decode()):
            if tried is not None:
                tried.add(name)
            why = attempt(client, county, project, name)
            if why is not None:
                refused[(role, name)] = why
    return refused


def test_along_the_main_path_every_action_offered_goes_through(client, county, draft):
    project, tried = draft, set()
    for state in stepper.MAIN_PATH:
        project = demo.advance(county, project, state)
        assert project.status == state
        assert refused_offers(client, county, project, tried) == {}, state
    # The walk tried the main path's steps and the ways off it, not an empty page.
    steps = {name for _state, name, _who, _kwargs in demo._happy_path(county)}
    waiting = {"finish_expert_review", "close_public_notice", "conclude_acceptance"}
    assert steps - waiting <= tried
    assert {"withdraw", "return_for_revision", "reject", "suspend", "terminate"} <= tried


@pytest.mark.parametrize("amount", ["50000", "250000"])
def test_a_small_projects_acceptance_offers_only_what_goes_through(client, county, amount):
    project = demo.draft_project(county, "applicant", f"{amount}元项目", amount)
    project = demo.advance(county, project, S.ACCEPTANCE_REQUESTED)
    tried: set[str] = set()
    assert refused_offers(client, county, project, tried) == {}
    # Something was offered and tried: the small one may be accepted by filing, the other not.
    assert {"appoint_audit", "start_acceptance"} <= tried
    assert ("accept_by_filing" in tried) == (amount == "50000")


def test_the_conclusion_waits_for_the_panel_and_its_votes(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_ACCEPTANCE)
    as_user(client, county.users["staff"])
    html = project_page(client, project)
    assert "conclude_acceptance" not in offered(html)
    assert "Draw the acceptance panel first" in waiting(html)["conclude_acceptance"]
    draw_acceptance_panel(project, county.users["staff"], seed="walk")
    assert "still to vote" in waiting(project_page(client, project))["conclude_acceptance"]
    demo.hold_panel_vote(county, project)
    html = project_page(client, project)
    assert "conclude_acceptance" in offered(html) and "conclude_acceptance" not in waiting(html)


def test_a_returned_a_suspended_and_a_reconsidered_project_offer_what_goes_through(
    client, county, draft
):
    staff = county.users["staff"]
    returned = demo.advance(county, draft, S.FORMAL_CHECK)
    perform(returned.pk, "return_for_revision", staff, reason="补充材料")
    assert refused_offers(client, county, returned) == {}

    running = demo.draft_project(county, "applicant", "暂停的项目", "300000")
    running = demo.advance(county, running, S.IN_PROGRESS)
    remaining = running.approved_amount - running.disbursed_total
    perform(running.pk, "disburse", staff, amount=remaining, tranche="尾款", reason="提前拨付")
    html = project_page(as_user(client, staff), running)
    assert "disburse" not in offered(html) and "terminate" in offered(html)  # paid in full
    perform(running.pk, "suspend", staff, reason="专项检查")
    assert refused_offers(client, county, running) == {}

    reconsidered = demo.draft_project(county, "applicant", "复议的项目", "100000")
    reconsidered = demo.advance(county, reconsidered, S.UNDER_ACCEPTANCE)
    demo.hold_panel_vote(county, reconsidered, task=False)
    review = {"conclusion": AcceptanceReview.Conclusion.RECONSIDER, "remarks": "补充数据。"}
    reconsidered = perform(reconsidered.pk, "conclude_acceptance", staff, review=review)
    assert reconsidered.status == S.RECONSIDERATION
    assert refused_offers(client, county, reconsidered) == {}


# --- the one-vote veto: offered only when it would find someone ------------------------------


def bar(subject_kind, identity: str, name: str, gates=(Gate.APPLY,), **dates) -> Sanction:
    """A row of the register as the veto reads it (its entry rules are the register's)."""
    today = timezone.localdate()
    return Sanction.objects.create(
        subject_kind=subject_kind,
        subject_id=identity,
        subject_name=name,
        severity="severe",
        measures=["ban"],
        gates=[g.value for g in gates],
        decision_no="示科信〔2026〕9号",
        reason="提供虚假材料",
        starts_on=dates.get("starts_on", today - datetime.timedelta(days=1)),
        ends_on=dates.get("ends_on", today.replace(year=today.year + 3)),
    )


def test_the_veto_is_offered_only_when_the_register_bars_someone(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    as_user(client, county.users["staff"])
    assert "veto" not in offered(project_page(client, project))
    assert "veto" not in waiting(project_page(client, project))  # nothing to wait for

    member = project.team.get()
    bar(SubjectKind.PERSON, member.id_number, member.name)
    html = project_page(client, project)
    assert "veto" in offered(html)
    assert 'class="danger"' in re.search(r'data-action="veto">.*?(<button [^>]*>)', html, re.S)[1]
    assert attempt(client, county, project, "veto") is None


def test_whether_someone_is_barred_agrees_with_the_veto_itself(county, draft):
    """`stepper.someone_to_veto` asks the register as `ProjectLifecycle.veto` does."""
    project = Project.objects.select_related("pi", "applicant_org").get(pk=draft.pk)
    project.partner_orgs.add(county.orgs["university"])
    today = timezone.localdate()

    def agrees() -> bool:
        would = bool(check_veto(veto_subjects(project), Gate.APPLY).blocking)
        assert stepper.someone_to_veto(project) is would
        return would

    assert agrees() is False
    for subject in veto_subjects(project):  # each one the veto covers, barred in turn
        sanction = bar(subject.kind, subject.identity, subject.name)
        assert agrees() is True, subject.capacity
        Sanction.objects.filter(pk=sanction.pk).delete()
    pi = project.pi
    # Not barred today, not from applying, not this kind of subject, or lifted: nobody.
    bar(SubjectKind.PERSON, pi.id_number, str(pi), gates=(Gate.DISBURSEMENT,))
    bar(SubjectKind.PERSON, pi.id_number, str(pi), ends_on=today - datetime.timedelta(1))
    bar(SubjectKind.PERSON, pi.id_number, str(pi), starts_on=today + datetime.timedelta(1))
    bar(SubjectKind.ORGANISATION, pi.id_number, str(pi))
    revoked = bar(SubjectKind.PERSON, pi.id_number, str(pi))
    Sanction.objects.filter(pk=revoked.pk).update(status=Sanction.Status.REVOKED)
    assert agrees() is False


def test_asking_whether_to_offer_the_veto_costs_one_query_with_more_rows(county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    project = Project.objects.select_related("pi", "applicant_org").get(pk=project.pk)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            stepper.someone_to_veto(project)
        return len(queries)

    assert count() == 1
    for n in range(10):
        project.team.create(name=f"成员{n}", id_number=demo.person_id(600 + n))
        bar(SubjectKind.PERSON, demo.person_id(700 + n), f"他人{n}")
    assert count() == 1


def test_the_staff_page_costs_the_same_with_ten_times_the_team_and_the_register(
    client, county, draft
):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    as_user(client, county.users["staff"])

    def count() -> int:
        project_page(client, project)  # warm: the session, the menus
        with CaptureQueriesContext(connection) as queries:
            project_page(client, project)
        return len(queries)

    before = count()
    for n in range(10):
        project.team.create(name=f"成员{n}", id_number=demo.person_id(800 + n))
        bar(SubjectKind.PERSON, demo.person_id(900 + n), f"他人{n}")
    assert count() == before


# --- submitting under a closed call ---------------------------------------------------------


def test_a_draft_under_a_closed_call_says_why_instead_of_offering_submit(client, county, draft):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Call.objects.filter(pk=draft.call_id).update(closes_on=yesterday)
    html = project_page(as_user(client, county.users["applicant"]), draft)
    assert "submit" not in offered(html)
    assert waiting(html)["submit"] == (
        f"Sign the commitment and submit: The call closed on {yesterday.isoformat()}."
    )
    assert "withdraw" in offered(html)  # still theirs to withdraw
    assert refused_offers(client, county, draft) == {}


def test_a_pi_owing_a_recovery_is_told_before_submitting(client, county, draft):
    terminated = demo.draft_project(county, "applicant", "终止的项目", "300000")
    terminated = demo.advance(county, terminated, S.IN_PROGRESS)
    perform(terminated.pk, "terminate", county.users["staff"], reason="未按期开展研究")
    html = project_page(as_user(client, county.users["applicant"]), draft)
    assert "submit" not in offered(html)
    assert "still owes" in waiting(html)["submit"] and "终止的项目" in waiting(html)["submit"]
    assert refused_offers(client, county, draft) == {}


def test_a_refused_action_that_now_waits_comes_back_with_what_was_typed(client, county, draft):
    # Posted from a page opened before the panel's votes were found missing: the refusal
    # keeps the form and its remarks on the page instead of hiding both.
    project = demo.advance(county, draft, S.UNDER_ACCEPTANCE)
    draw_acceptance_panel(project, county.users["staff"], seed="typed")
    as_user(client, county.users["staff"])
    response = client.post(
        reverse("project-action", args=[project.pk, "conclude_acceptance"]),
        {
            "conclude_acceptance-conclusion": AcceptanceReview.Conclusion.PASSED,
            "conclude_acceptance-remarks": "资料齐全，待专家投票",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "资料齐全，待专家投票" in html
    project.refresh_from_db()
    assert project.status == S.UNDER_ACCEPTANCE
