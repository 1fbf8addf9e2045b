"""Notifications (issue 11): the next person to act is told once, e-mail goes through
Celery at most once, a failed send is retried, and each person sees only their own."""

from __future__ import annotations

import datetime
import smtplib
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from accounts.roles import Role
from funding.adjustments import decide_adjustment, request_adjustment
from funding.models import ExpertAssignment, Project
from funding.objection_services import lodge_objection
from funding.states import ProjectStatus as S
from notifications.deadlines import remind_deadlines
from notifications.models import Category, EmailPreference, EmailStatus, Notification
from notifications.services import notify_for_event
from notifications.tasks import MAX_RETRIES, deadline_reminders, send_notification_email
from oversight.findings import answer_rectification, raise_finding, reopen_finding
from oversight.models import AcceptancePanel, SupervisionFinding
from oversight.supervision_engagements import appoint_supervision
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo, reviewing
from workflows.actions import perform

from . import cases_support as cases

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


class FlakyBackend(EmailBackend):
    """An SMTP server that drops the connection for the first `failures` sends."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def flaky(settings):
    """The e-mail goes to a FlakyBackend; the tests say how many sends fail."""
    settings.EMAIL_BACKEND = "tests.test_notifications.FlakyBackend"
    yield FlakyBackend
    FlakyBackend.failures = 0


@pytest.fixture
def retrying():
    """Celery's eager mode retries a task in-process only when it does not propagate the
    task's exceptions (tests/conftest.py turns propagation on for every test)."""
    from config.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what waits for the commit (the notifications, then their e-mails) at the end
    of the block, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def told(**filters) -> list[tuple[str, str]]:
    rows = Notification.objects.filter(**filters).values_list("message", "recipient__username")
    return sorted(rows)


def with_email(user: User, address: str) -> User:
    user.email = address
    user.save(update_fields=["email"])
    return user


def submitted(county, title="通知测试项目", amount="300000") -> Project:
    return demo.advance(county, demo.draft_project(county, "applicant", title, amount), S.SUBMITTED)


# --- who is told ---------------------------------------------------------------------------


def test_each_step_tells_the_next_person_once_and_never_the_actor(county, committing, settings):
    project = demo.draft_project(county, "applicant", "全程通知项目", "600000")
    with committing():
        project = demo.advance(county, project, S.CLOSED)
    u = county.users
    panel = AcceptancePanel.objects.get(project=project)
    expected = [
        ("submitted", "unit1"),  # the unit recommends
        ("recommended", "staff"),  # the bureau accepts
        *[("review_assigned", f"expert{n}") for n in (1, 2, 3)],
        ("to_approve", "leader"),
        ("approved", "applicant"),
        ("acceptance_requested", "staff"),
        ("audit_appointed", "auditor"),
        *[("panel_drawn", m.username) for m in panel.members.all()],
        ("accepted", "applicant"),
        ("certificate", "applicant"),
    ]
    assert told() == sorted(expected)
    for notification in Notification.objects.select_related("event"):
        assert notification.recipient_id != notification.event.actor_id
        assert notification.category in Category.values
    approved = Notification.objects.get(message="approved")
    assert approved.link == reverse("project", args=[project.pk])
    assert approved.event.data["notice_ends_on"] in approved.body
    assert approved.title == "Approved: “全程通知项目”"
    # The experts have e-mail addresses on their profiles: each got their notices by e-mail,
    # in the site's language.
    assigned = Notification.objects.filter(message="review_assigned").first()
    with translation.override(settings.LANGUAGE_CODE):
        subject = assigned.title
    assert sorted(m.to[0] for m in mail.outbox if m.subject == subject) == [
        f"expert{n}@example.com" for n in (1, 2, 3)
    ]
    assert u["applicant"].email == ""  # none: in the centre only
    assert not Notification.objects.filter(recipient=u["applicant"]).exclude(
        email_status=EmailStatus.NONE
    )


def test_staff_standing_in_for_a_unit_tell_their_colleagues_not_themselves(county, committing):
    u = county.users
    User.objects.filter(pk=u["unit1"].pk).update(is_active=False)  # the unit has no officer
    colleague = User.objects.create_user("staff2", real_name="二号科员")
    colleague.groups.add(Group.objects.get(name=Role.STAFF.value))
    project = demo.draft_project(county, "applicant", "代为推荐项目", "300000")
    with committing():
        perform(project.pk, "submit", u["applicant"], commitment=True)
        perform(project.pk, "recommend_for_unit", u["staff"], **demo.STAND_IN)
    assert told() == [
        ("recommended", "staff2"),  # not the staff member who recommended
        ("submitted", "staff"),  # no unit officer: staff stand in
        ("submitted", "staff2"),
    ]


def test_a_rolled_back_action_tells_nobody(county, committing):
    project = demo.draft_project(county, "applicant", "回滚项目", "300000")
    with committing():
        with pytest.raises(RuntimeError), transaction.atomic():
            perform(project.pk, "submit", county.users["applicant"], commitment=True)
            raise RuntimeError("something after the action failed")
    assert not Notification.objects.exists() and not mail.outbox
    with committing():
        perform(project.pk, "submit", county.users["applicant"], commitment=True)
    assert told() == [("submitted", "unit1")]


def test_returns_refusals_and_the_reason_reach_the_pi(client, county, committing):
    project = submitted(county)
    client.force_login(county.users["staff"])
    with committing():
        client.post(
            reverse("project-action", args=[project.pk, "return_for_revision"]),
            {"return_for_revision-reason": "预算说明不完整。"},
        )
    [notification] = Notification.objects.all()
    assert (notification.message, notification.recipient.username) == ("returned", "applicant")
    assert notification.category == Category.RETURN
    assert "预算说明不完整。" in notification.body


def test_returns_refusals_and_decisions_on_the_way_reach_the_pi(county, committing):
    u = county.users
    returned = demo.advance(
        county, demo.draft_project(county, "applicant", "退回项目", "300000"), S.UNIT_REVIEW
    )
    rejected = submitted(county, "未通过项目")
    vetoed = demo.advance(
        county, demo.draft_project(county, "applicant2", "否决项目", "300000"), S.SUBMITTED
    )
    demo.sanction_person(u["applicant2"], u["integrity"])
    running = demo.advance(
        county, demo.draft_project(county, "applicant", "终止项目", "600000"), S.IN_PROGRESS
    )
    with committing():
        perform(returned.pk, "return_by_unit", u["unit1"], reason="缺少单位配套承诺。")
        perform(rejected.pk, "reject", u["staff"], reason="不属于本指南支持方向。")
        perform(vetoed.pk, "veto", u["staff"])
        refused = request_adjustment(
            running, u["applicant"], "operations", "equipment", Decimal("2000"), "增购设备"
        )
        decide_adjustment(refused, u["unit1"], approve=False)
        perform(running.pk, "suspend", u["staff"], reason="现场检查发现问题。")
        perform(running.pk, "terminate", u["staff"], reason="无法继续实施。")
    assert told(category__in=[Category.RETURN, Category.DECISION]) == [
        ("adjustment_rejected", "applicant"),
        ("rejected", "applicant"),
        ("returned_by_unit", "applicant"),
        ("suspended", "applicant"),
        ("terminated", "applicant"),
        ("vetoed", "applicant2"),
    ]
    assert "缺少单位配套承诺。" in Notification.objects.get(message="returned_by_unit").body
    assert "无法继续实施。" in Notification.objects.get(message="terminated").body


def test_the_acceptance_conclusions_reach_the_pi(county, committing):
    u = county.users
    late, failed = (
        demo.advance(
            county, demo.draft_project(county, "applicant", title, "600000"), S.UNDER_ACCEPTANCE
        )
        for title in ("复议项目", "验收不通过项目")
    )
    for project in (late, failed):
        demo.hold_panel_vote(county, project, task=False)
    with committing():
        perform(
            late.pk,
            "conclude_acceptance",
            u["staff"],
            review={"conclusion": "reconsider", "remarks": "补充田间试验数据。"},
        )
        perform(
            failed.pk,
            "conclude_acceptance",
            u["staff"],
            review={"conclusion": "failed", "remarks": "未完成考核指标。"},
        )
    late.acceptances.update(rectify_by=TODAY - DAY)  # the rectification period is over
    with committing():
        perform(late.pk, "fail_after_rectification_deadline", u["staff"], reason="逾期未整改。")
    assert told(message__in=["reconsider", "failed", "failed_late"]) == [
        ("failed", "applicant"),
        ("failed_late", "applicant"),
        ("reconsider", "applicant"),
    ]
    reconsider = Notification.objects.get(message="reconsider")
    assert reconsider.event.data["rectify_by"] in reconsider.body


def test_a_replacement_reviewer_is_told_drawn_or_picked_by_hand(county, committing):
    u = county.users
    wide = demo.advance(
        county, demo.draft_project(county, "applicant", "替补项目", "300000"), S.FORMAL_CHECK
    )
    drawn = demo.draw_reviewers_for(county, wide, fields=["agriculture", "manufacturing"])
    narrow = demo.advance(
        county, demo.draft_project(county, "applicant2", "指定替补项目", "300000"), S.EXPERT_REVIEW
    )
    with committing():
        perform(wide.pk, "pass_formal_check", u["staff"], **drawn)
        replacement = reviewing.decline_review(wide.pk, drawn["experts"][0], "出差。")
        # Agriculture has three experts, all on this project: nobody left to draw.
        assert reviewing.decline_review(narrow.pk, u["expert1"], "出差。") is None
        reviewing.pick_replacement(narrow.pk, u["staff"], u["expert4"], "熟悉该领域。")
    assert told(message="review_assigned", event__object_id=str(wide.pk)) == sorted(
        [("review_assigned", e.username) for e in drawn["experts"]]
        + [("review_assigned", replacement.expert.username)]
    )
    assert told(message="review_assigned", event__object_id=str(narrow.pk)) == [
        ("review_assigned", "expert4")
    ]


def test_unit_decisions_objections_and_rectifications_go_to_who_acts(county, committing):
    u = county.users
    running = demo.advance(
        county, demo.draft_project(county, "applicant", "监管通知项目", "600000"), S.IN_PROGRESS
    )
    notice = demo.advance(
        county, demo.draft_project(county, "applicant2", "公示通知项目", "300000"), S.PUBLIC_NOTICE
    )
    appoint_supervision(running, county.orgs["firm"], u["auditor"], [], u["staff"])
    with committing():
        # Between operations and labour the PI decides alone: nobody to tell.
        request_adjustment(running, u["applicant"], "operations", "labour", Decimal("1000"), "劳务")
        pending = request_adjustment(
            running, u["applicant"], "operations", "equipment", Decimal("2000"), "增购设备"
        )
        decide_adjustment(pending, u["unit1"], approve=True)
        lodge_objection(notice.pk, name="张三", contact="13800000000", text="申报材料与事实不符。")
        raise_finding(
            running, u["auditor"], "major", "差旅费无审批单。", rectify_by=TODAY + 20 * DAY
        )
        raise_finding(running, u["auditor"], "minor", "凭证装订不规范。")  # nothing to rectify
    finding = SupervisionFinding.objects.get(rectify_by__isnull=False)
    evidence = SimpleUploadedFile("审批单.pdf", demo.DEMO_PDF, content_type="application/pdf")
    answer_rectification(finding, u["unit1"], "已补审批单。", [evidence])
    with committing():
        reopen_finding(finding, u["auditor"], "审批单缺少签字。", TODAY + 30 * DAY)
    assert told() == [
        ("adjustment_applied", "applicant"),
        ("adjustment_pending", "unit1"),
        ("objection", "staff"),
        ("rectification", "unit1"),
        ("rectification_reopened", "unit1"),
    ]
    reopened = Notification.objects.get(message="rectification_reopened").body
    assert "审批单缺少签字。" in reopened and (TODAY + 30 * DAY).isoformat() in reopened
    rectification = Notification.objects.get(message="rectification")
    assert rectification.link == reverse("supervision", args=[running.pk])
    assert "差旅费无审批单。" in rectification.body


def test_the_respondent_is_told_from_the_notice_of_the_case_on(client, county, committing):
    with committing():
        case = cases.new_case(county)
        cases.step(county, case, "accept")
        cases.step(county, case, "add_to_record", text="查无此证。")
    assert not Notification.objects.exists()  # not before the notice
    with committing():
        cases.step(county, case, "notify_respondent", reply_by=TODAY + 10 * DAY)
        cases.step(county, case, "record_statement", statement="不知情。", received_on=TODAY)
        cases.decide(county, case)
    assert told() == [("case_decided", "applicant2"), ("case_notice", "applicant2")]
    notice = Notification.objects.get(message="case_notice")
    assert (TODAY + 10 * DAY).isoformat() in notice.body
    client.force_login(county.users["applicant2"])
    response = client.get(reverse("notification-open", args=[notice.pk]))
    assert response.status_code == 302 and response.url == reverse(
        "respondent-case", args=[case.pk]
    )
    assert client.get(response.url).status_code == 200


def test_the_respondent_hears_how_the_case_ends(county, committing):
    cleared = cases.heard(county)
    decided = cases.decided(county, served_on=TODAY - 20 * DAY)
    with committing():
        cases.step(county, cleared, "clear", reason="证书经核实为真。")
        cases.step(county, decided, "appeal", filed_on=TODAY - 19 * DAY, grounds="申诉")
        cases.step(county, decided, "uphold_on_appeal", answered_on=TODAY - 15 * DAY, reason="维持")
        cases.step(
            county, decided, "request_review", filed_on=TODAY, grounds="复查", authority="市局"
        )
        cases.step(county, decided, "revoke_on_review", answered_on=TODAY, reason="撤销。")
    assert told() == [
        ("case_cleared", "applicant2"),
        ("case_revoked", "applicant2"),
        ("case_upheld", "applicant2"),
    ]


def test_an_event_is_told_once_however_often_its_receiver_runs(county, committing):
    project = demo.draft_project(county, "applicant", "重复项目", "300000")
    with_email(county.users["unit1"], "unit1@example.org")
    with committing():
        perform(project.pk, "submit", county.users["applicant"], commitment=True)
    event = history_of(project).get(kind=EventKind.PROJECT_TRANSITION)
    with committing():
        assert notify_for_event(event.pk) == 0
    assert Notification.objects.count() == 1 and len(mail.outbox) == 1


# --- e-mail --------------------------------------------------------------------------------


def test_the_e_mail_goes_through_the_task_once(county, committing, settings):
    pi = with_email(county.users["applicant"], "pi@example.org")
    project = submitted(county)
    with committing():
        perform(project.pk, "return_for_revision", county.users["staff"], reason="缺少合作协议。")
    [message] = mail.outbox
    notification = Notification.objects.get(recipient=pi)
    assert message.to == ["pi@example.org"]
    with translation.override(settings.LANGUAGE_CODE):  # e-mails speak the site's language
        assert message.subject == notification.title and "“通知测试项目”" in message.subject
    assert "缺少合作协议。" in message.body
    assert f"{settings.PUBLIC_BASE_URL}/projects/{project.pk}/" in message.body
    assert notification.email_status == EmailStatus.SENT and notification.email_attempts == 1
    # The same task again (a redelivered message): the row says sent, nothing goes out.
    assert send_notification_email.delay(notification.pk).get() == "already sent"
    assert len(mail.outbox) == 1


def test_a_failing_send_is_retried_and_sent_once(county, committing, flaky, retrying):
    flaky.failures = 2
    pi = with_email(county.users["applicant"], "pi@example.org")
    project = submitted(county)
    with committing():
        perform(project.pk, "return_for_revision", county.users["staff"], reason="补充材料。")
    notification = Notification.objects.get(recipient=pi)
    assert len(mail.outbox) == 1
    assert notification.email_status == EmailStatus.SENT and notification.email_attempts == 3


def test_a_send_that_keeps_failing_never_blocks_the_action(county, committing, flaky, retrying):
    flaky.failures = 100
    pi = with_email(county.users["applicant"], "pi@example.org")
    project = submitted(county)
    with committing():
        perform(project.pk, "return_for_revision", county.users["staff"], reason="补充材料。")
    project.refresh_from_db()
    assert project.status == S.RETURNED  # the action stands
    notification = Notification.objects.get(recipient=pi)  # and the PI sees it in the centre
    assert notification.email_status == EmailStatus.FAILED
    assert notification.email_attempts == MAX_RETRIES + 1 and not mail.outbox


def test_a_person_switches_an_e_mail_category_off_and_keeps_the_notice(client, county, committing):
    pi = with_email(county.users["applicant"], "pi@example.org")
    client.force_login(pi)
    page = client.get(reverse("notification-settings")).content.decode()
    assert page.count("checked") == 4 and "pi@example.org" in page  # all on by default
    response = client.post(
        reverse("notification-settings"),
        {"email_task": "on", "email_decision": "on", "email_deadline": "on"},
        follow=True,
    )
    assert "Your e-mail choices are saved." in response.content.decode()
    preference = EmailPreference.objects.get(user=pi)
    assert not preference.email_return and preference.email_decision
    project = submitted(county)
    with committing():
        perform(project.pk, "return_for_revision", county.users["staff"], reason="重新核算。")
    notification = Notification.objects.get(recipient=pi)
    assert notification.email_status == EmailStatus.NONE and not mail.outbox
    assert (
        "Returned for revision: “通知测试项目”"
        in client.get(reverse("notifications")).content.decode()
    )
    # Everything off: a POST with no box ticked is a choice too.
    client.post(reverse("notification-settings"), {})
    preference.refresh_from_db()
    assert not any((preference.email_task, preference.email_decision, preference.email_deadline))


# --- deadlines -----------------------------------------------------------------------------


def test_the_daily_reminders_tell_each_person_once_a_day(county, committing, settings):
    settings.REVIEW_REMIND_DAYS = 3
    u = county.users
    for name in ("applicant", "unit1"):
        with_email(u[name], f"{name}@example.org")
    # Running since 400 days: its first reports are late; supervised, with a rectification
    # due in three days; it ended 80 days ago (a date moved for the test), so acceptance is
    # to be asked for within about ten days.
    running = demo.advance(
        county,
        demo.draft_project(
            county,
            "applicant",
            "期限项目",
            "600000",
            start_date=TODAY - 400 * DAY,
            end_date=TODAY + 330 * DAY,
        ),
        S.IN_PROGRESS,
    )
    appoint_supervision(running, county.orgs["firm"], u["auditor"], [], u["staff"])
    raise_finding(running, u["auditor"], "major", "台账不全。", rectify_by=TODAY + 3 * DAY)
    Project.objects.filter(pk=running.pk).update(end_date=TODAY - 80 * DAY)
    reviewed = demo.advance(
        county, demo.draft_project(county, "applicant2", "评审期限项目", "300000"), S.EXPERT_REVIEW
    )
    for name, due in (("expert1", 2), ("expert2", -1), ("expert3", 10)):
        ExpertAssignment.objects.filter(project=reviewed, expert=u[name]).update(
            due_on=TODAY + due * DAY
        )
    late_reports = running.reports_due.filter(due_on__lt=TODAY).count()
    assert late_reports >= 1

    with committing():
        first = deadline_reminders.delay().get()
    expected = [
        ("acceptance_soon", "applicant"),
        ("rectification_soon", "unit1"),
        ("review_late", "expert2"),
        ("review_soon", "expert1"),
        *[("report_late", "applicant")] * late_reports,
    ]
    assert told(category=Category.DEADLINE) == sorted(expected)
    assert first == len(expected) == len(mail.outbox)
    with committing():
        assert deadline_reminders.delay().get() == 0  # the same day again: nobody
    assert Notification.objects.count() == len(expected) == len(mail.outbox)
    review = Notification.objects.get(message="review_late")
    assert review.title == "Overdue: your review of “评审期限项目”"
    assert (TODAY - DAY).isoformat() in review.body
    report = Notification.objects.filter(message="report_late").first()
    assert report.title.startswith("Overdue: ") and "期限项目" in report.title
    assert SupervisionFinding.objects.get().rectify_by.isoformat() in (
        Notification.objects.get(message="rectification_soon").body
    )
    # The next day, the same deadlines are reminded again, once.
    with committing():
        assert remind_deadlines(TODAY + DAY) == len(expected)


# --- the centre ----------------------------------------------------------------------------


def notices(user: User, n: int, title: str = "项目") -> None:
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            category=Category.DECISION,
            message="approved",
            params={"title": f"{title}{i}", "notice_ends_on": "2026-12-01"},
            link="/notifications/settings/",
        )
        for i in range(n)
    )


def test_the_centre_shows_only_ones_own_newest_first_50_a_page(client, county):
    u = county.users
    notices(u["applicant"], 55)
    notices(u["applicant2"], 1, title="别人的项目")
    client.force_login(u["applicant"])
    page = client.get(reverse("notifications")).content.decode()
    assert page.count("data-notification=") == 50 and page.count('data-unread="1"') == 50
    assert "项目54" in page and "项目4”" not in page and "别人的项目" not in page
    assert page.index("项目54") < page.index("项目53")  # newest first
    second = client.get(reverse("notifications"), {"page": 2}).content.decode()
    assert second.count("data-notification=") == 5
    assert client.get(reverse("notifications"), {"page": "x"}).status_code == 200


def test_opening_marks_read_and_someone_elses_is_not_found(client, county):
    u = county.users
    notices(u["applicant"], 2)
    notices(u["applicant2"], 1)
    mine = Notification.objects.filter(recipient=u["applicant"]).first()
    theirs = Notification.objects.get(recipient=u["applicant2"])
    client.force_login(u["applicant"])
    assert 'data-testid="unread-count">2<' in client.get(reverse("inbox")).content.decode()
    response = client.get(reverse("notification-open", args=[mine.pk]))
    assert response.status_code == 302 and response.url == mine.link
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'data-testid="unread-count">1<' in client.get(reverse("inbox")).content.decode()
    assert client.get(reverse("notification-open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.post(reverse("notifications-read-all"))
    assert 'data-testid="unread-count"' not in client.get(reverse("inbox")).content.decode()
    assert Notification.objects.filter(recipient=u["applicant2"], read_at=None).count() == 1
    assert client.get(reverse("notifications-read-all")).status_code == 405


def test_the_unread_count_costs_one_query_and_none_signed_out(client, county):
    notices(county.users["applicant"], 3)
    client.force_login(county.users["applicant"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("calls")).content.decode()
    counting = [q for q in queries.captured_queries if "notifications_notification" in q["sql"]]
    assert len(counting) == 1 and 'data-testid="unread-count">3<' in page
    client.logout()
    assert client.get(reverse("notifications")).status_code == 302  # to sign in
    assert "unread-count" not in client.get(reverse("notices")).content.decode()


def test_a_notice_whose_message_is_gone_still_shows(county):
    notices(county.users["applicant"], 1)
    notification = Notification.objects.get()
    assert notification.title == "Approved: “项目0”"
    assert "2026-12-01" in notification.body
    notification.message = "a key no longer listed"
    assert notification.title == "Notification" and notification.body == ""


def test_a_veto_override_goes_to_leadership_and_its_approval_back_to_who_asked(
    client, county, committing
):
    from integrity.models import Gate
    from integrity.overrides import approve_override, request_override
    from tests.test_veto_override import blocking, overridable_sanction

    project = demo.advance(
        county, demo.draft_project(county, "applicant2", "例外放行通知", "300000"), S.APPROVED
    )
    overridable_sanction(county, county.users["applicant2"])
    with committing():
        override = request_override(
            project, Gate.CONTRACT, blocking(), "县政府专题会议决定继续实施", county.users["staff"]
        )
    assert told() == [("override_requested", "leader")]
    asked = Notification.objects.get(message="override_requested")
    assert "县政府专题会议决定继续实施" in asked.body and asked.link == reverse(
        "project", args=[project.pk]
    )
    # The leader reads it where a notice is read, and it opens on the project.
    client.force_login(county.users["leader"])
    assert "县政府专题会议决定继续实施" in client.get(reverse("notifications")).content.decode()
    opened = client.get(reverse("notification-open", args=[asked.pk]))
    assert opened.status_code == 302 and opened.url == asked.link
    with committing():
        approve_override(override, project, county.users["leader"])
    assert told(message="override_approved") == [("override_approved", "staff")]


def test_a_proposed_case_goes_to_the_integrity_officer(client, county, committing, settings):
    from oversight.overdue import months_before, propose_overdue_acceptance_cases

    project = demo.advance(
        county, demo.draft_project(county, "applicant", "逾期未验收通知", "300000"), S.IN_PROGRESS
    )
    end = months_before(TODAY, settings.ACCEPTANCE_OVERDUE_CASE_MONTHS) - DAY
    Project.objects.filter(pk=project.pk).update(
        start_date=end - datetime.timedelta(days=700), end_date=end
    )
    with committing():
        assert propose_overdue_acceptance_cases() == 1
    assert told() == [("case_proposed", "integrity")]
    notice = Notification.objects.get(message="case_proposed")
    assert notice.link.startswith("/integrity/cases/")
    # The officer opens it onto a page of theirs that answers.
    client.force_login(county.users["integrity"])
    opened = client.get(reverse("notification-open", args=[notice.pk]))
    assert opened.status_code == 302 and opened.url == notice.link
    assert client.get(opened.url).status_code == 200
