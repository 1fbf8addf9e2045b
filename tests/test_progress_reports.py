"""事中监管: progress reports planned at contract, submitted by the PI, reminded, overdue."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from funding.models import Project
from funding.states import ProjectStatus as S
from oversight.models import ProgressReport
from oversight.supervision import overdue_reports, send_reminders, submit_report
from workflows import demo

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


def contracted(county, start_days_ago=180, length_days=730):
    project = demo.draft_project(
        county,
        "applicant",
        "监管项目",
        "300000",
        start_date=TODAY - datetime.timedelta(days=start_days_ago),
        end_date=TODAY
        - datetime.timedelta(days=start_days_ago)
        + datetime.timedelta(days=length_days),
    )
    return demo.advance(county, project, S.CONTRACTED)


def test_signing_the_contract_plans_a_midterm_and_annual_reports(county):
    project = contracted(county, length_days=3 * 365 + 10)
    kinds = list(project.reports_due.values_list("kind", flat=True))
    assert kinds.count("midterm") == 1 and kinds.count("annual") == 3
    midterm = project.reports_due.get(kind="midterm")
    assert project.start_date < midterm.due_on < project.end_date


def test_the_pi_submits_a_report_once_and_nobody_else_can(county):
    project = contracted(county)
    report = project.reports_due.first()
    with pytest.raises(PermissionDenied):
        submit_report(report, county.users["staff"], "进展")
    with pytest.raises(ValidationError):
        submit_report(report, project.pi, "  ")
    submit_report(report, project.pi, "完成中期目标。")
    with pytest.raises(ValidationError):
        submit_report(report, project.pi, "再交一次")


def test_reminders_go_once_a_day_and_late_reports_show_on_the_overview(client, county):
    project = contracted(county, start_days_ago=400)  # the first anniversary has passed
    project.pi.email = "pi@example.org"
    project.pi.save()
    late = project.reports_due.filter(due_on__lt=TODAY)
    assert late.exists()
    assert send_reminders() >= 1 and "pi@example.org" in mail.outbox[0].to
    sent_before = len(mail.outbox)
    assert send_reminders() == 0 and len(mail.outbox) == sent_before  # not twice a day
    assert set(overdue_reports()) >= set(late)

    client.force_login(county.users["leader"])
    page = client.get(reverse("dashboard")).content.decode()
    assert f'data-late-report="{late.first().pk}"' in page


def test_the_pi_sees_reports_due_in_the_inbox_and_submits_on_the_project_page(client, county):
    project = contracted(county, start_days_ago=400)
    report = project.reports_due.filter(due_on__lt=TODAY).first()
    client.force_login(project.pi)
    assert project.title in client.get(reverse("inbox")).content.decode()
    client.post(
        reverse("progress-report", args=[project.pk, report.pk]), {"summary": "按计划推进。"}
    )
    report.refresh_from_db()
    assert report.submitted_at is not None
    assert ProgressReport.objects.filter(project=project, submitted_at__isnull=False).count() == 1


def test_a_title_with_a_line_break_stops_nobody_elses_reminders(county):
    # Stored before titles were checked (an old import, a raw edit): the e-mail header
    # takes it on one line and every other PI is still reminded.
    first = contracted(county, start_days_ago=400)
    Project.objects.filter(pk=first.pk).update(title="第一行\n第二行")
    second = demo.advance(
        county,
        demo.draft_project(
            county,
            "applicant2",
            "另一个监管项目",
            "300000",
            start_date=TODAY - datetime.timedelta(days=400),
            end_date=TODAY + datetime.timedelta(days=330),
        ),
        S.CONTRACTED,
    )
    for project in (first, second):
        project.pi.email = f"{project.pi.username}@example.org"
        project.pi.save()
    send_reminders()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert set(subjects) == {"applicant@example.org", "applicant2@example.org"}
    assert "第一行 第二行" in subjects["applicant@example.org"]


def test_a_title_with_a_line_break_is_refused_when_typed(client, county):
    client.force_login(county.users["applicant"])
    data = {
        "title": "第一行\r\n第二行",
        "field": "农业科技",
        "summary": "x",
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + datetime.timedelta(days=365)).isoformat(),
        "requested_amount": "100000",
        "equipment": "0",
        "operations": "100000",
        "labour": "0",
        "indirect": "0",
    }
    client.cookies["django_language"] = "en"
    response = client.post(reverse("apply", args=[county.call.pk]), data)
    assert response.status_code == 200
    assert "without line breaks" in response.content.decode()
    assert not Project.objects.filter(title__startswith="第一行").exists()
