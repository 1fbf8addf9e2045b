"""A real browser (Debian's Chromium driven by Playwright) files and submits a project."""

from __future__ import annotations

import datetime
import shutil

import pytest
from django.utils import timezone

from funding.models import Project
from funding.states import ProjectStatus as S
from workflows import demo

from .browser_support import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


def test_an_applicant_signs_in_and_submits_a_project(live_server, browser_page):
    town = demo.create_county()
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "applicant")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/calls/")
    page.click(f"a[href='/calls/{town.call.pk}/apply/']")

    today = timezone.localdate()
    page.fill("#id_title", "茶园病虫害绿色防控技术集成示范")
    page.fill("#id_field", "农业科技")
    page.fill("#id_summary", "集成绿色防控技术并示范推广。")
    page.fill("#id_start_date", (today + datetime.timedelta(days=30)).isoformat())
    page.fill("#id_end_date", (today + datetime.timedelta(days=760)).isoformat())
    page.fill("#id_requested_amount", "300000")
    page.fill("#id_equipment", "90000")
    page.fill("#id_operations", "105000")
    page.fill("#id_labour", "60000")
    page.fill("#id_indirect", "45000")
    page.fill("#id_team", f"黄助理, {demo.person_id(501)}, 试验")
    page.click("form.card button[type=submit]")

    page.wait_for_selector("form[data-action=submit]")
    page.check("#id_submit-commitment")
    page.click("form[data-action=submit] button[type=submit]")
    page.wait_for_selector("[data-testid=state].state-unit_review")

    project = Project.objects.get(title="茶园病虫害绿色防控技术集成示范")
    assert project.status == S.UNIT_REVIEW  # submitted, to the applicant's unit first
    assert project.pi.username == "applicant"


def test_the_language_switch_works_under_the_content_security_policy(live_server, browser_page):
    # The policy allows no inline script: the switch lives in static/js/site.js. Any
    # violation the browser reports (an inline handler, a foreign source) fails the test.
    demo.create_county()
    page = browser_page
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/login/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    with page.expect_navigation():
        page.select_option("form.lang select", "en")
    page.wait_for_selector("html[lang=en]")
    page.fill("#id_username", "applicant")
    page.fill("#id_password", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/account/two-factor/")
    page.wait_for_selector("svg")  # the QR code, inline SVG from the server
    assert violations == []
