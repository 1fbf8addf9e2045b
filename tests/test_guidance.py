"""Guidance and safety at every step (issue 11): the lifecycle stepper, what happens next
and who acts, the reasons of a return or a reconsideration at the top, confirmation on
destructive actions, button kinds, only actions that can succeed, amounts in 元, the
error pages, and the header at 390 px.

Through the pages, signed in as the role concerned; the pages in English (the cookie)
unless a test reads the Chinese default.
"""

from __future__ import annotations

import pathlib
import re
import shutil
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import escape

from config.urls import urlpatterns as site_urls
from funding.states import ProjectStatus as S
from lists import money
from oversight.models import AcceptanceReview
from tests.browser_support import CHROMIUM
from workflows import demo, stepper
from workflows.actions import perform
from workflows.lifecycle import ProjectLifecycle, transition_labels

from .pages_support import text

pytestmark = pytest.mark.django_db


def as_user(client, user, language="en"):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def page(client, project):
    response = client.get(reverse("project", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def act(client, project, name, **fields):
    data = {f"{name}-{key}": value for key, value in fields.items()}
    return client.post(reverse("project-action", args=[project.pk, name]), data, follow=True)


def steps_shown(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-step-status="(\w+)"', html))


def button(html: str, action: str) -> str:
    """The submit button of the action form `action` on the page."""
    form = re.search(rf'data-action="{action}">.*?(<button [^>]*>)', html, re.S)
    assert form, f"no {action} form on the page"
    return form.group(1)


def offered(response_html: str) -> set[str]:
    return set(re.findall(r'<form [^>]*data-action="(\w+)"', response_html))


# --- the stepper ---------------------------------------------------------------------------


def test_the_main_path_is_the_lifecycles_own():
    """Each step leads to the next by a transition of the lifecycle, ending at closed."""
    assert stepper.MAIN_PATH[0] == S.DRAFT and stepper.MAIN_PATH[-1] == S.CLOSED
    for here, there in zip(stepper.MAIN_PATH, stepper.MAIN_PATH[1:], strict=False):
        targets = {
            target
            for t in ProjectLifecycle.state.get_outgoing_transitions(here)
            for target in t.declared_targets()
        }
        assert there in targets, (here, there)
    assert {S.RETURNED, S.REJECTED, S.TERMINATED, S.SUSPENDED} <= stepper.SIDE_STATES


def test_every_state_says_what_happens_next_and_who_acts():
    for state in S.values:
        step = stepper.next_step(state)
        assert step.what
        ended = state in stepper.TERMINAL_STATES
        assert bool(step.who) is not ended, state


@pytest.mark.parametrize(
    ("state", "actor", "what"),
    [
        (S.DRAFT, "The applicant (project leader)", "signs the integrity commitment"),
        (S.BUDGET_REVIEW, "Bureau staff", "Bureau staff review the budget"),
        (S.PENDING_APPROVAL, "Leadership", "Leadership decides on the approval"),
    ],
)
def test_the_project_page_shows_the_current_step_and_who_acts_next(
    client, county, draft, state, actor, what
):
    project = demo.advance(county, draft, state)
    html = page(as_user(client, county.users["applicant"]), project)
    shown = steps_shown(html)
    here = stepper.MAIN_PATH.index(state)
    assert list(shown) == list(stepper.MAIN_PATH)
    assert shown[state] == "current" and 'aria-current="step"' in html
    assert all(shown[s] == "done" for s in stepper.MAIN_PATH[:here])
    assert all(shown[s] == "todo" for s in stepper.MAIN_PATH[here + 1 :])
    next_step = re.search(r'data-testid="next-step">(.*?)</div>', html, re.S).group(1)
    assert what in next_step
    assert re.search(r'data-testid="next-actor">([^<]*)<', next_step).group(1) == actor


def test_a_closed_project_has_every_step_done_and_nothing_next(client, county, draft):
    project = demo.advance(county, draft, S.CLOSED)
    html = page(as_user(client, county.users["applicant"]), project)
    shown = steps_shown(html)
    assert shown[S.CLOSED] == "current"
    assert {shown[s] for s in stepper.MAIN_PATH[:-1]} == {"done"}
    assert "Nothing more: the project is closed and archived." in html
    assert 'data-testid="next-actor"' not in html


def test_a_side_state_sits_where_it_left_the_path_or_stands_alone():
    visited = [S.DRAFT, S.UNIT_REVIEW, S.UNIT_REVIEW, S.SUBMITTED, S.SUBMITTED, S.REJECTED]
    shown = stepper.stepper(S.REJECTED, stepper.last_main_state(visited))
    assert shown.side == S.REJECTED and shown.ended
    assert [s.status for s in shown.steps[:4]] == ["done", "done", "left", "todo"]
    alone = stepper.stepper(S.SUSPENDED)  # no history (a row made by hand)
    assert alone.side == S.SUSPENDED and not alone.ended
    assert {s.status for s in alone.steps} == {"todo"}


@pytest.mark.parametrize(
    ("state", "name", "kind"),
    [
        (S.DRAFT, "withdraw", "danger"),
        (S.FORMAL_CHECK, "reject", "danger"),
        (S.SUBMITTED, "veto", "danger"),
        (S.IN_PROGRESS, "terminate", "danger"),
        (S.IN_PROGRESS, "suspend", "danger"),
        (S.RECONSIDERATION, "fail_after_rectification_deadline", "danger"),
        (S.DRAFT, "submit", "primary"),
        (S.PENDING_APPROVAL, "approve", "primary"),
        (S.UNDER_ACCEPTANCE, "conclude_acceptance", "primary"),
        (S.SUSPENDED, "resume", "primary"),
        (S.FORMAL_CHECK, "return_for_revision", "neutral"),
        (S.UNDER_AUDIT, "reappoint_audit", "neutral"),
        (S.IN_PROGRESS, "disburse", "neutral"),
    ],
)
def test_each_action_has_one_kind(state, name, kind):
    transition = next(
        t for t in ProjectLifecycle.state.get_outgoing_transitions(state) if t.slug == name
    )
    assert stepper.action_kind(transition, state) == kind


# --- a return and a reconsideration: the reasons at the top --------------------------------


def test_a_returned_project_shows_why_and_what_to_fix_at_the_top(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    as_user(client, county.users["staff"])
    act(client, project, "return_for_revision", reason="预算编制说明不完整，请补充设备购置理由。")

    html = page(as_user(client, county.users["applicant"]), project)
    setback = html.index('data-testid="setback"')
    assert setback < html.index('data-testid="stepper"') < html.index("<h2>Budget</h2>")
    top = html[setback : html.index('data-testid="stepper"')]
    assert "Returned by the bureau: revise and resubmit" in top
    assert "预算编制说明不完整，请补充设备购置理由。" in top
    assert "What to fix" in top and "at the step Formal check" in top
    assert reverse("project-edit", args=[project.pk]) in top  # the way to fix it
    # On the stepper: left at the formal check, for the side state "returned".
    shown = steps_shown(html)
    assert shown[S.FORMAL_CHECK] == "left" and shown[S.SUBMITTED] == "done"
    assert shown[S.EXPERT_REVIEW] == "todo"
    assert 'data-side="returned"' in html
    assert re.search(r'data-testid="next-actor">The applicant \(project leader\)<', html)


def test_a_return_by_the_unit_says_so(client, county, draft):
    project = demo.advance(county, draft, S.UNIT_REVIEW)
    as_user(client, county.users["unit1"])
    act(client, project, "return_by_unit", reason="请补充单位配套承诺。")
    html = page(as_user(client, county.users["applicant"]), project)
    top = html[: html.index('data-testid="stepper"')]
    assert "Returned by the unit's research office" in top and "请补充单位配套承诺。" in top
    assert steps_shown(html)[S.UNIT_REVIEW] == "left"


def test_the_units_last_word_is_its_latest_one(client, county, draft):
    project = demo.advance(county, draft, S.UNIT_REVIEW)
    unit, applicant = county.users["unit1"], county.users["applicant"]
    perform(project.pk, "return_by_unit", unit, reason="请补充单位配套承诺。")
    perform(project.pk, "submit", applicant, commitment=True)
    perform(project.pk, "recommend_by_unit", unit, opinion="已补充，同意推荐。")
    html = page(as_user(client, applicant), project)
    word = re.search(r'data-testid="unit-word">(.*?)</p>', html, re.S).group(1)
    assert "recommended the application" in word and "已补充，同意推荐。" in word
    assert "请补充单位配套承诺。" not in word


def test_no_setback_once_resubmitted(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    perform(project.pk, "return_for_revision", county.users["staff"], reason="补充材料")
    perform(project.pk, "submit", county.users["applicant"], commitment=True)
    html = page(as_user(client, county.users["applicant"]), project)
    assert 'data-testid="setback"' not in html
    assert steps_shown(html)[S.UNIT_REVIEW] == "current"


def test_a_reconsideration_shows_the_panels_remarks_and_deadline_at_the_top(client, county, draft):
    project = demo.advance(county, draft, S.UNDER_AUDIT)
    demo.attach_step_papers(project)
    perform(
        project.pk,
        "issue_audit_opinion",
        county.users["auditor"],
        opinion="unqualified",
        findings="账实相符。",
    )
    demo.hold_panel_vote(county, project, task=False)
    review = {
        "conclusion": AcceptanceReview.Conclusion.RECONSIDER,
        "remarks": "请补充田间试验数据。",
    }
    perform(project.pk, "conclude_acceptance", county.users["staff"], review=review)
    deadline = project.acceptances.get().rectify_by

    html = page(as_user(client, county.users["applicant"]), project)
    top = html[html.index('data-testid="setback"') : html.index('data-testid="stepper"')]
    assert "请补充田间试验数据。" in top and deadline.isoformat() in top
    assert "What to fix" in top
    assert steps_shown(html)[S.UNDER_ACCEPTANCE] == "left"
    assert "resubmit_for_acceptance" in offered(html)
    assert 'class="primary"' in button(html, "resubmit_for_acceptance")


# --- destructive actions: confirmation and the danger kind ---------------------------------


def test_destructive_actions_ask_first_and_look_dangerous(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    demo.sanction_person(county.users["applicant"], county.users["integrity"])  # the veto's due
    staff_page = page(as_user(client, county.users["staff"]), project)
    for danger in ("reject", "veto"):
        shown = button(staff_page, danger)
        assert 'class="danger"' in shown and "data-confirm=" in shown
        assert "are you sure?" in shown
    assert 'class="primary"' in button(staff_page, "pass_formal_check")
    neutral = button(staff_page, "return_for_revision")
    assert 'class="neutral"' in neutral and "data-confirm" not in neutral

    applicant_page = page(as_user(client, county.users["applicant"]), project)
    withdraw = button(applicant_page, "withdraw")
    assert 'class="danger"' in withdraw and "data-confirm=" in withdraw


def test_the_confirmation_is_in_the_language_of_the_page(client, county, draft):
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    html = page(as_user(client, county.users["staff"], language="zh-hans"), project)
    with translation.override("zh-hans"):
        question = stepper.confirm_text(str(transition_labels()["reject"]))
    assert f'data-confirm="{escape(question)}"' in button(html, "reject")


def test_without_javascript_a_destructive_action_still_works(client, county, draft):
    """The confirmation is a comfort of the script; the form posts as any other."""
    project = demo.advance(county, draft, S.FORMAL_CHECK)
    as_user(client, county.users["applicant"])
    response = act(client, project, "withdraw", reason="不再申报")
    assert response.status_code == 200
    project.refresh_from_db()
    assert project.status == S.WITHDRAWN
    assert 'data-side="withdrawn"' in response.content.decode()


def test_the_script_asks_before_submitting_a_button_with_data_confirm():
    """site.js is a file (the CSP allows no inline script) and reads data-confirm."""
    body = pathlib.Path(finders.find("js/site.js")).read_text()
    assert "data-confirm" in body and "window.confirm" in body and "preventDefault" in body


def test_a_revoked_certificate_asks_first(client, county, draft):
    project = demo.advance(county, draft, S.CLOSED)
    html = page(as_user(client, county.users["staff"]), project)
    revoke = re.search(r'<button type="submit" class="danger" data-confirm="[^"]+">Revoke', html)
    assert revoke


# --- only actions that can succeed ----------------------------------------------------------


def requested(county, amount: str):
    project = demo.draft_project(county, "applicant", f"{amount}元项目", amount)
    return demo.advance(county, project, S.ACCEPTANCE_REQUESTED)


def test_no_simple_filing_nor_panel_without_audit_above_the_thresholds(client, county, draft):
    project = demo.advance(county, draft, S.ACCEPTANCE_REQUESTED)  # 600,000 yuan
    actions = offered(page(as_user(client, county.users["staff"]), project))
    assert "appoint_audit" in actions
    assert not actions & {"accept_by_filing", "start_acceptance"}


def test_a_small_project_is_offered_the_simple_filing(client, county):
    project = requested(county, "50000")
    actions = offered(page(as_user(client, county.users["staff"]), project))
    assert {"accept_by_filing", "start_acceptance", "appoint_audit"} <= actions
    assert 'class="primary"' in button(page(client, project), "accept_by_filing")


def test_an_action_waiting_for_its_time_says_why_instead_of_a_button(client, county, draft):
    project = demo.advance(county, draft, S.PUBLIC_NOTICE)  # the notice runs on
    html = page(as_user(client, county.users["staff"]), project)
    assert "close_public_notice" not in offered(html)
    waiting = re.search(r'data-waiting="close_public_notice">([^<]*)', html)
    assert waiting and "Close the public notice" in waiting.group(1)
    assert "can be closed from the day after" in html
    demo.notice_passed(project)
    assert "close_public_notice" in offered(page(client, project))


# --- amounts -------------------------------------------------------------------------------


def test_amounts_read_with_separators_and_yuan(client, county, draft):
    html = page(as_user(client, county.users["applicant"]), draft)
    requested_amount = re.search(r'data-testid="requested-amount">([^<]*)<', html).group(1)
    assert requested_amount == "600,000.00 yuan"
    # In Chinese, whatever the catalogue says for the unit: the same filter.
    html = page(as_user(client, county.users["applicant"], language="zh-hans"), draft)
    with translation.override("zh-hans"):
        assert money.yuan(Decimal("600000")) in html
    assert "600,000.00" in html


def test_the_fund_trail_calls_and_apply_pages_show_yuan(client, county, draft):
    project = demo.advance(county, draft, S.IN_PROGRESS)  # 60% disbursed: 360,000
    as_user(client, county.users["applicant"])
    funds = text(client.get(reverse("project-funds", args=[project.pk])))
    assert "600,000.00 yuan" in funds and "360,000.00 yuan" in funds
    calls = text(client.get(reverse("calls")))
    assert "1,000,000.00 yuan" in calls
    apply = text(client.get(reverse("apply", args=[county.call.pk])))
    assert "at most 1,000,000.00 yuan" in apply
    assert 'value="1,000,000' not in apply  # never inside an input


# --- error pages -----------------------------------------------------------------------------


def boom(request):
    raise RuntimeError("a bug")


def forbidden(request):
    raise PermissionDenied


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), *site_urls]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize(
    ("address", "status", "english"),
    [
        ("/no-such-page/", 404, "Page not found"),
        ("/forbidden/", 403, "Not allowed"),
        ("/boom/", 500, "Something went wrong"),
    ],
)
def test_error_pages_in_our_look_and_language_with_a_way_back(
    production, county, address, status, english
):
    client = Client(raise_request_exception=False)
    client.force_login(county.users["applicant"])
    chinese = client.get(address)
    assert chinese.status_code == status
    html = chinese.content.decode()
    assert '<html lang="zh-hans">' in html and f'data-status="{status}"' in html
    assert "/static/css/site.css" in html and 'data-testid="way-back"' in html
    with translation.override("zh-hans"):
        assert translation.gettext(english) in html

    client.cookies["django_language"] = "en"
    response = client.get(address)
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="en">' in html and english in html
    assert f'href="{reverse("inbox")}"' in html


def test_the_server_error_page_needs_no_database(production, county, django_assert_num_queries):
    client = Client(raise_request_exception=False)
    from django.template.loader import render_to_string

    with django_assert_num_queries(0):
        html = render_to_string("500.html")
    assert 'data-status="500"' in html
    assert client.get("/boom/").status_code == 500


def test_a_signed_out_visitor_gets_the_404_page(production, db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and 'data-status="404"' in response.content.decode()


# --- the header at 390 px ---------------------------------------------------------------------


def test_the_menu_folds_behind_a_toggle_that_needs_no_script(client, county):
    html = client.get(reverse("notices")).content.decode()
    toggle = html.index('id="nav-toggle"')
    assert toggle < html.index('for="nav-toggle"') < html.index('id="site-nav"')
    css = pathlib.Path(finders.find("css/site.css")).read_text()
    assert ".nav-toggle:checked ~ nav" in css and "max-width: 720px" in css


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_at_390_px_the_header_fits_and_a_danger_button_asks(live_server, browser_page):
    town = demo.create_county()
    project = demo.draft_project(town, "applicant", "茶园病虫害绿色防控", "300000")
    tab = browser_page
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(f"{live_server.url}/login/")
    tab.fill("#id_username", "applicant")
    tab.fill("#id_password", demo.DEMO_PASSWORD)
    tab.click("button[type=submit]")
    tab.goto(f"{live_server.url}/projects/{project.pk}/")
    # The page does not scroll sideways; the menu is folded until asked for.
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390
    assert not tab.is_visible("#site-nav")
    tab.click("[data-testid=menu-toggle]")
    assert tab.is_visible("#site-nav a[href='/calls/']")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390

    # Withdrawing asks first: dismissed, nothing happens; accepted, it is done.
    questions = []
    tab.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    tab.click("form[data-action=withdraw] button[type=submit]")
    project.refresh_from_db()
    assert questions and project.status == S.DRAFT
    tab.once("dialog", lambda d: d.accept())
    with tab.expect_navigation():
        tab.click("form[data-action=withdraw] button[type=submit]")
    project.refresh_from_db()
    assert project.status == S.WITHDRAWN


# --- more confirmations: sanctions, cases, budget adjustments, documents --------------------


def danger_button(html: str, label: str) -> str:
    """The button whose text is `label`; it must be a danger one that asks first."""
    shown = re.search(rf"(<button [^>]*>){re.escape(label)}</button>", html)
    assert shown, f"no “{label}” button"
    assert 'class="danger"' in shown.group(1) and "data-confirm=" in shown.group(1), shown.group(1)
    return shown.group(1)


def test_revoking_a_sanction_asks_first(client, county):
    from integrity.models import Sanction

    sanction = demo.sanction_person(county.users["vetoed"], county.users["integrity"])
    as_user(client, county.users["integrity"])
    html = client.get(reverse("sanction", args=[sanction.pk])).content.decode()
    assert "stops barring its subject" in danger_button(html, "Revoke the sanction")
    assert Sanction.objects.get(pk=sanction.pk).status == Sanction.Status.EFFECTIVE


def test_dismissing_or_deciding_a_case_asks_first_and_investigating_does_not(client, county):
    from tests.cases_support import heard, new_case

    case = new_case(county)
    as_user(client, county.users["integrity"])
    html = client.get(reverse("case", args=[case.pk])).content.decode()
    danger_button(html, "Do not accept")
    accept = re.search(r"(<button [^>]*>)Accept and investigate", html).group(1)
    assert "data-confirm" not in accept
    case = heard(county)  # investigated, the respondent heard: the decision is due
    html = client.get(reverse("case", args=[case.pk])).content.decode()
    danger_button(html, "Close: no misconduct found")
    danger_button(html, "Decide and sanction (处理决定)")
    record = re.search(r"(<button [^>]*>)Add to the investigation record", html).group(1)
    assert "data-confirm" not in record


def test_refusing_or_withdrawing_a_budget_adjustment_asks_first(client, county, draft):
    from funding.adjustments import request_adjustment

    project = demo.advance(county, draft, S.IN_PROGRESS)
    request_adjustment(project, project.pi, "operations", "equipment", Decimal("5000"), "设备")
    as_user(client, county.users["unit1"])
    html = client.get(reverse("project-funds", args=[project.pk])).content.decode()
    danger_button(html, "Refuse")
    approve = re.search(r'(<button [^>]*value="approve"[^>]*>)', html).group(1)
    assert 'class="primary"' in approve and "data-confirm" not in approve
    as_user(client, project.pi)
    html = client.get(reverse("project-funds", args=[project.pk])).content.decode()
    danger_button(html, "Withdraw the adjustment")
    assert "5,000.00 yuan" in html


def test_removing_a_document_asks_first_naming_it(client, county, draft):
    from django.core.files.base import ContentFile

    from documents.attachments import attach

    attach(draft, "budget_justification", ContentFile(demo.DEMO_PDF, name="预算说明.pdf"), draft.pi)
    html = page(as_user(client, county.users["staff"]), draft)
    assert "预算说明.pdf" in danger_button(html, "Remove")


# --- amounts everywhere they are shown ------------------------------------------------------


def test_the_recovery_the_notice_and_the_contract_show_yuan(client, county, draft):
    project = demo.advance(county, draft, S.PUBLIC_NOTICE)
    notices = text(client.get(reverse("notices"), HTTP_COOKIE="django_language=en"))
    assert f"{money.grouped(project.approved_amount)} yuan" in notices
    as_user(client, county.users["staff"])
    contract = client.get(reverse("contract", args=[project.pk])).content.decode()
    shown = f'<span class="num">{money.grouped(project.approved_amount)} yuan</span>'
    assert shown in contract

    running = demo.draft_project(county, "applicant", "终止项目", "600000")
    running = demo.advance(county, running, S.IN_PROGRESS)  # 360,000 disbursed
    perform(running.pk, "terminate", county.users["staff"], reason="无法继续")
    html = page(client, running)
    recovery = re.search(r'data-testid="recovery-amount">([^<]*)<', html).group(1)
    assert recovery == "360,000.00 yuan"
    assert re.search(r'id="id_refund_amount" name="amount"[^>]*value=""', html)  # no 元 inside


# --- overdue: more than a colour ------------------------------------------------------------


def test_overdue_is_bold_and_marked_not_only_red():
    css = pathlib.Path(finders.find("css/site.css")).read_text()
    rule = re.search(r"\.overdue \{([^}]*)\}", css).group(1)
    assert "font-weight: 700" in rule
    assert re.search(r"strong\.overdue::before \{ content: \"⚠", css)
