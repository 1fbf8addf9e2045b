"""The public notice (立项公示): a period of working days, enforced, and objections (异议)
anyone lodges and staff decide; the project is approved only when none is open or upheld."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from funding.models import Objection, Project
from funding.notice import is_working_day, last_notice_day
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.models import Event
from trail.services import history_of
from workflows import demo

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
VALID = {"name": "张先生", "contact": "0571-8888 8888", "text": "项目研究内容与本人在研项目重复。"}


@pytest.fixture(autouse=True)
def fresh_rate_counts():
    cache.clear()
    yield
    cache.clear()


def on_notice(county, title: str = "公示中的项目") -> Project:
    project = demo.draft_project(county, "applicant", title, "300000")
    return demo.advance(county, project, S.PUBLIC_NOTICE)


def act(client, user, project, name, **fields):
    client.force_login(user)
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def status_of(project) -> str:
    return Project.objects.get(pk=project.pk).status


def lodge(client, project, **fields):
    url = reverse("notice-object", args=[project.pk])
    return client.post(url, {**VALID, **fields}, follow=True)


def decide(client, user, objection, outcome="dismissed", finding="经核实，异议不成立。"):
    client.force_login(user)
    prefix = f"objection-{objection.pk}"
    url = reverse("objection-decide", args=[objection.project_id, objection.pk])
    data = {f"{prefix}-outcome": outcome, f"{prefix}-finding": finding}
    return client.post(url, data, follow=True)


def trail_head():
    return Event.objects.aggregate(head=Max("seq"))["head"]


def nth_working_day_after(start, n, holidays=(), extra=()) -> datetime.date:
    # Counted by hand here, independently of funding.notice.
    day, left = start, n
    while left:
        day += datetime.timedelta(days=1)
        if day in extra or (day.weekday() < 5 and day not in holidays):
            left -= 1
    return day


# --- the period -----------------------------------------------------------------------------


def test_approving_sets_the_end_n_working_days_ahead_skipping_weekends_and_holidays(
    client, county, settings
):
    first_working = TODAY + datetime.timedelta(days=1)
    while first_working.weekday() >= 5:
        first_working += datetime.timedelta(days=1)
    saturday = TODAY + datetime.timedelta(days=(5 - TODAY.weekday()) % 7 or 7)
    settings.NOTICE_HOLIDAYS = [first_working, first_working + datetime.timedelta(days=1)]
    settings.NOTICE_EXTRA_WORKING_DAYS = [saturday]
    project = demo.advance(
        county, demo.draft_project(county, "applicant", "待立项项目", "300000"), S.PENDING_APPROVAL
    )
    act(client, county.users["leader"], project, "approve")
    project.refresh_from_db()
    expected = nth_working_day_after(
        TODAY, 5, settings.NOTICE_HOLIDAYS, settings.NOTICE_EXTRA_WORKING_DAYS
    )
    assert project.status == S.PUBLIC_NOTICE
    assert project.notice_ends_on == expected
    assert expected > TODAY + datetime.timedelta(days=6)  # weekend and holidays skipped
    shown = expected.isoformat()
    assert shown in client.get(reverse("notices")).content.decode()
    assert history_of(project).last().data["notice_ends_on"] == shown


def test_the_length_of_the_notice_is_a_setting(client, county, settings):
    settings.PUBLIC_NOTICE_WORKING_DAYS = 10
    project = on_notice(county)
    assert project.notice_ends_on == nth_working_day_after(TODAY, 10)


def test_staff_cannot_close_the_notice_early_and_can_the_day_after_it_ends(client_en, county):
    staff = county.users["staff"]
    project = on_notice(county)
    ends = project.notice_ends_on
    page = act(client_en, staff, project, "close_public_notice").content.decode()
    assert f"The public notice runs until {ends.isoformat()}" in page
    assert status_of(project) == S.PUBLIC_NOTICE

    Project.objects.filter(pk=project.pk).update(notice_ends_on=TODAY)  # its last day
    act(client_en, staff, project, "close_public_notice")
    assert status_of(project) == S.PUBLIC_NOTICE

    demo.notice_passed(project)  # it ended yesterday
    act(client_en, staff, project, "close_public_notice")
    assert status_of(project) == S.APPROVED


working_days = st.integers(min_value=0, max_value=30)
dates = st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2100, 1, 1))


@given(
    start=dates,
    n=working_days,
    holidays=st.frozensets(dates, max_size=30),
    extra=st.frozensets(dates, max_size=10),
)
def test_the_last_notice_day_is_a_working_day_after_exactly_n_of_them(start, n, holidays, extra):
    end = last_notice_day(start, n, holidays, extra)
    days = [start + datetime.timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d, holidays, extra) for d in days) == n
    if n == 0:
        assert end == start
    else:
        assert end > start and is_working_day(end, holidays, extra)


def test_mistyped_holidays_stop_the_start_with_a_clear_message():
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "NOTICE_HOLIDAYS": "2026-10-01,2026-02-30"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "NOTICE_HOLIDAYS" in result.stderr


# --- lodging an objection ---------------------------------------------------------------------


def test_anyone_lodges_an_objection_and_the_public_sees_only_that_one_is_pending(client, county):
    project = on_notice(county)
    listing = client.get(reverse("notices")).content.decode()
    assert reverse("notice-object", args=[project.pk]) in listing
    assert 'data-testid="objection-pending"' not in listing

    response = lodge(client, project)
    assert response.redirect_chain[-1][0] == reverse("notices")
    objection = Objection.objects.get(project=project)
    assert (objection.name, objection.contact, objection.status) == (
        "张先生",
        "0571-8888 8888",
        Objection.Status.OPEN,
    )
    listing = client.get(reverse("notices")).content.decode()
    assert 'data-testid="objection-pending"' in listing
    for private in (VALID["name"], VALID["contact"], VALID["text"]):
        assert private not in listing

    # Journaled, without the person: the journal is shown to whoever sees the project.
    event = history_of(project).filter(kind=EventKind.OBJECTION_LODGED).get()
    assert event.data["objection"] == objection.pk
    assert VALID["contact"] not in str(event.data) and VALID["name"] not in str(event.data)

    # The applicant sees that an objection is open, not what it says or who lodged it.
    client.force_login(project.pi)
    page = client.get(reverse("project", args=[project.pk])).content.decode()
    assert 'data-testid="objection-open"' in page
    for private in (VALID["name"], VALID["contact"], VALID["text"]):
        assert private not in page


def test_an_e_mail_address_will_do_as_contact(client, county):
    project = on_notice(county)
    lodge(client, project, contact="li@example.com")
    assert Objection.objects.get(project=project).contact == "li@example.com"


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"name": ""}, "This field is required"),
        ({"text": ""}, "This field is required"),
        ({"contact": ""}, "This field is required"),
        ({"contact": "问问我"}, "Give a telephone number"),
        ({"contact": "12345"}, "Give a telephone number"),
        ({"contact": "li@@example"}, "e-mail address does not look right"),
        ({"text": "长" * 5001}, "at most 5000 characters"),
        ({"text": "前\x00后"}, "control character U+0000"),
        ({"name": "张\n先生"}, "without line breaks"),
        ({"name": "张" * 51}, "at most 50 characters"),
    ],
)
def test_a_bad_objection_is_a_clear_error_and_stores_nothing(client_en, county, fields, error):
    project = on_notice(county)
    head = trail_head()
    response = lodge(client_en, project, **fields)
    page = response.content.decode()
    assert response.status_code == 200 and error in page
    assert not Objection.objects.exists() and trail_head() == head
    for key in ("name", "contact", "text"):
        if key not in fields:
            assert VALID[key] in page  # the rest comes back as typed


def test_objections_from_one_address_are_limited(client_en, county, settings):
    settings.OBJECTIONS_PER_ADDRESS = 2
    project = on_notice(county)
    lodge(client_en, project)
    lodge(client_en, project, text="第二条异议。")
    page = lodge(client_en, project, text="第三条异议。").content.decode()
    assert "Too many objections from your address" in page and "第三条异议。" in page
    assert Objection.objects.count() == 2
    # Another address is not held back.
    other = Client(REMOTE_ADDR="10.0.0.9")
    other.post(reverse("notice-object", args=[project.pk]), {**VALID, "text": "另一处。"})
    assert Objection.objects.count() == 3


def test_objections_are_taken_only_while_the_notice_runs(client_en, county):
    project = on_notice(county)
    demo.notice_passed(project)
    url = reverse("notice-object", args=[project.pk])
    assert "objections are no longer taken here" in client_en.get(url).content.decode()
    page = lodge(client_en, project).content.decode()
    assert "objections are no longer taken here" in page
    assert not Objection.objects.exists()
    assert url not in client_en.get(reverse("notices")).content.decode()
    # A project not on notice has no objection page at all.
    reviewing = demo.advance(
        county, demo.draft_project(county, "applicant", "评审中", "300000"), S.BUDGET_REVIEW
    )
    assert client_en.get(reverse("notice-object", args=[reviewing.pk])).status_code == 404


def test_an_objection_needs_the_csrf_token(county):
    project = on_notice(county)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("notice-object", args=[project.pk]), VALID)
    assert response.status_code == 403 and not Objection.objects.exists()


# --- deciding --------------------------------------------------------------------------------


def test_while_an_objection_is_open_the_notice_cannot_close(client_en, county):
    project = on_notice(county)
    lodge(client_en, project)
    demo.notice_passed(project)
    page = act(client_en, county.users["staff"], project, "close_public_notice").content.decode()
    assert "An objection to this project is still open" in page
    assert status_of(project) == S.PUBLIC_NOTICE


def test_staff_and_the_leader_see_the_objection_in_full(client, county):
    project = on_notice(county)
    lodge(client, project)
    decide_url = reverse("objection-decide", args=[project.pk, project.objections.get().pk])
    for who, decides in (("staff", True), ("leader", False)):
        client.force_login(county.users[who])
        page = client.get(reverse("project", args=[project.pk])).content.decode()
        for shown in (VALID["name"], VALID["contact"], VALID["text"]):
            assert shown in page, who
        assert (decide_url in page) is decides, who


def test_an_upheld_objection_blocks_the_approval_and_the_project_is_rejected(client_en, county):
    staff = county.users["staff"]
    project = on_notice(county)
    lodge(client_en, project)
    objection = project.objections.get()
    decide(client_en, staff, objection, "upheld", "经核实，研究内容与在研项目重复。")
    objection.refresh_from_db()
    assert objection.status == Objection.Status.UPHELD and objection.decided_by == staff
    assert objection.finding == "经核实，研究内容与在研项目重复。"
    event = history_of(project).filter(kind=EventKind.OBJECTION_DECIDED).get()
    assert event.data["outcome"] == "upheld" and event.actor_id == staff.pk

    demo.notice_passed(project)
    page = act(client_en, staff, project, "close_public_notice").content.decode()
    assert "was upheld" in page and status_of(project) == S.PUBLIC_NOTICE
    act(client_en, staff, project, "reject", reason="异议成立：研究内容重复。")
    assert status_of(project) == S.REJECTED


def test_a_dismissed_objection_lets_the_notice_close_after_its_period(client_en, county):
    staff = county.users["staff"]
    project = on_notice(county)
    lodge(client_en, project)
    decide(client_en, staff, project.objections.get(), "dismissed")
    assert project.objections.get().status == Objection.Status.DISMISSED
    page = act(client_en, staff, project, "close_public_notice").content.decode()
    assert "The public notice runs until" in page  # the period still holds
    demo.notice_passed(project)
    act(client_en, staff, project, "close_public_notice")
    assert status_of(project) == S.APPROVED


@pytest.mark.parametrize("who", ["leader", "pi", "expert1", "integrity"])
def test_only_staff_decide_an_objection(client, county, who):
    project = on_notice(county)
    lodge(client, project)
    objection = project.objections.get()
    user = project.pi if who == "pi" else county.users[who]
    client.force_login(user)
    url = reverse("objection-decide", args=[project.pk, objection.pk])
    prefix = f"objection-{objection.pk}"
    data = {f"{prefix}-outcome": "dismissed", f"{prefix}-finding": "不成立。"}
    assert client.post(url, data).status_code == 403
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN


def test_a_visitor_is_sent_to_sign_in_before_deciding(client, county):
    project = on_notice(county)
    lodge(client, project)
    objection = project.objections.get()
    client.logout()
    url = reverse("objection-decide", args=[project.pk, objection.pk])
    assert client.post(url, {}).status_code == 302
    assert project.objections.get().status == Objection.Status.OPEN


@pytest.mark.parametrize(
    "outcome, finding, error",
    [
        ("", "经核实。", "This field is required"),
        ("withdrawn", "经核实。", "Select a valid choice"),
        ("dismissed", "", "This field is required"),
        ("dismissed", "前\x00后", "control character U+0000"),
    ],
)
def test_a_decision_needs_an_outcome_and_a_finding(client_en, county, outcome, finding, error):
    project = on_notice(county)
    lodge(client_en, project)
    objection = project.objections.get()
    head = trail_head()
    page = decide(client_en, county.users["staff"], objection, outcome, finding).content.decode()
    assert error in page
    assert project.objections.get().status == Objection.Status.OPEN and trail_head() == head


def test_an_objection_is_decided_once(client_en, county):
    staff = county.users["staff"]
    project = on_notice(county)
    lodge(client_en, project)
    objection = project.objections.get()
    decide(client_en, staff, objection, "dismissed")
    page = decide(client_en, staff, objection, "upheld", "改判。").content.decode()
    assert "This objection was already decided" in page
    assert project.objections.get().status == Objection.Status.DISMISSED


def test_a_refused_finding_comes_back_as_typed(client_en, county):
    project = on_notice(county)
    lodge(client_en, project)
    objection = project.objections.get()
    page = decide(client_en, county.users["staff"], objection, "", "已电话核实异议人。")
    assert "已电话核实异议人。" in page.content.decode()


# --- the demo ----------------------------------------------------------------------------------


def test_the_demo_shows_an_open_objection_and_a_dismissed_one(county):
    first, second = on_notice(county, "公示一"), on_notice(county, "公示二")
    demo.objections_on_notice(county)
    assert first.objections.get().status == Objection.Status.OPEN
    assert second.objections.get().status == Objection.Status.DISMISSED


def test_the_inbox_says_from_when_the_notice_can_be_closed(client_en, county):
    staff = county.users["staff"]
    project = on_notice(county)
    client_en.force_login(staff)
    page = client_en.get(reverse("inbox")).content.decode()
    day_after = (project.notice_ends_on + datetime.timedelta(days=1)).isoformat()
    assert "Close the public notice <span" in page and f"from {day_after}" in page

    demo.notice_passed(project)
    page = client_en.get(reverse("inbox")).content.decode()
    assert "Close the public notice" in page and 'data-testid="task-not-before"' not in page
