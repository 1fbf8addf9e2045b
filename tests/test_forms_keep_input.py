"""A form with an error comes back as typed (issue 11): every action form, posted with one
bad field by the role concerned, answers 200 (no redirect) with the error shown, every
value typed back in its field, and nothing stored. Dates are YYYY-MM-DD in every language:
the Chinese revise form showed its dates empty (zh-hans wrote 2026/09/05, which a date
picker cannot read).

The valid submissions are the fuzz catalog's (tests/test_fuzz_inputs.py); the forms it
does not hold (supervision, recovery, the work plan, the task contract, ...) are below.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib.messages import constants, get_messages
from django.urls import reverse
from django.utils import translation

from accounts.forms import IsoDateInput
from funding.models import Project
from funding.services import record_expenditure
from funding.states import ProjectStatus as S
from trail.kinds import EventKind
from trail.services import history_of
from workflows import demo

from . import test_fuzz_inputs as catalog
from .cases_support import TODAY, new_case, officer

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def client(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the errors are read in English
    return client


# --- what the page shows: its form controls and its errors ------------------------------


class Controls(HTMLParser):
    """Each named control of a page and what it shows: an input's value (and whether it is
    ticked), a textarea's text, a select's chosen options."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.shown: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self.feed(page)

    def _show(self, name: str, value: str) -> None:
        self.shown.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._show(name, a.get("value") or "on")
            elif a.get("type") != "file":
                self._show(name, a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._show(name, "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._show(self._select, a.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.shown[self._textarea][-1] += data


def shown_value(value: str) -> str:
    # A textarea drops one leading newline; a browser sends line breaks as CR LF.
    return value.replace("\r\n", "\n").strip("\n")


def missing_values(response, data: dict) -> list[str]:
    """The typed values the re-rendered page does not show in their fields."""
    shown = Controls(response.content.decode()).shown
    missing = []
    for name, value in data.items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            one = str(one)
            if not one.strip():
                continue  # nothing typed
            got = [shown_value(v) for v in shown.get(name, [])]
            if shown_value(one) not in got:
                missing.append(f"{name}={one[:40]!r} (shown: {[g[:40] for g in got]})")
    return missing


def errors_said(response) -> str:
    messages = [str(m) for m in get_messages(response.wsgi_request) if m.level == constants.ERROR]
    page = response.content.decode()
    lists = re.findall(r'<ul class="errorlist[^>]*>(.*?)</ul>', page, re.S)
    alerts = re.findall(r'class="error"[^>]*>(.*?)</', page, re.S)
    return " ".join([*messages, *lists, *alerts])


def typed_back(client, url: str, data: dict, *, status=200, error="", shown=None):
    """Post `data` (one field bad): the page again, the error shown, every value as typed
    (`shown`: those the page can show, if not all), nothing stored (no row, no event)."""
    before = catalog.snapshot()
    response = client.post(url, data)
    assert response.status_code == status, (response.status_code, response.get("Location"))
    said = errors_said(response)
    assert said.strip(), "no error is shown"
    assert error in said, said[:600]
    shown = data if shown is None else shown
    assert not missing_values(response, shown), missing_values(response, shown)
    assert catalog.snapshot() == before, "something was stored"
    return response


# --- the fuzz catalog's forms, each with one bad field ------------------------------------

# A bad value of each kind that the page can show back as typed.
BREAKERS = {
    "number": "12.345.6",
    "date": "2026-02-30",
    "line": "前\x1b后",
    "text": "前\x1b后",
    "id": "12345",
    "choice": "no-such-choice",
    "pk": "0",
}
# Which field to break first: a typed one, so the bad value itself is seen back too.
PREFERENCE = ["number", "date", "id", "line", "text", "choice", "pk"]


def breaker(case) -> tuple[str, str]:
    kinds = sorted(case.kinds.items(), key=lambda item: PREFERENCE.index(item[1]))
    name, kind = kinds[0]
    return name, BREAKERS[kind]


@pytest.mark.parametrize("name", list(catalog.CASES))
def test_a_refused_form_comes_back_as_typed(client, county, name):
    case = catalog.CASES[name](county)
    client.force_login(case.user)
    field_name, bad = breaker(case)
    data = {**case.data, field_name: bad}
    before = catalog.snapshot()
    response = client.post(case.url, data)
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    assert errors_said(response).strip(), "no error is shown"
    shown = {k: v for k, v in data.items() if case.kinds.get(k) not in ("choice", "pk")}
    shown.update({k: v for k, v in case.data.items() if case.kinds.get(k) in ("choice", "pk")})
    if case.kinds[field_name] in ("choice", "pk"):
        shown.pop(field_name)  # a choice that is not offered cannot be shown chosen
    assert not missing_values(response, shown), missing_values(response, shown)
    assert catalog.snapshot() == before, "something was stored"


# Service refusals of a valid form: the refusal is said, the form stays as typed.
REFUSED = {
    "draw reviewers": lambda county: {"draw-size": "4"},  # a pool of three
    "draw acceptance panel": lambda county: {"panel_draw-size": "4"},
    "pick a replacement": lambda county: {"pick-expert": county.users["expert2"].pk},
    "disburse": lambda county: {"disburse-amount": "5000000.00"},
    "budget adjustment": lambda county: {"amount": "9000000.00"},
    "expenditure": lambda county: {"spent_on": (TODAY + 30 * DAY).isoformat()},
    "assign experts": lambda county: {"pass_formal_check-reason": ""},
    "case notice": lambda county: {"notify_respondent-reply_by": (TODAY - DAY).isoformat()},
    "case answer": lambda county: {"uphold_on_appeal-answered_on": (TODAY - 400 * DAY).isoformat()},
    "draw inspections": lambda county: {"n_projects": "50"},
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_form_refused_by_the_service_comes_back_as_typed(client, county, name):
    case = catalog.CASES[name](county)
    client.force_login(case.user)
    data = {**case.data, **REFUSED[name](county)}
    typed_back(client, case.url, data)


# --- the forms the catalog does not hold --------------------------------------------------


@dataclass
class Typed:
    user: object
    url: str
    data: dict
    error: str
    status: int = 200
    shown: dict | None = None  # what the page shows back, when not all of `data`


def running(county, title: str = "稻田智能灌溉全过程监管") -> Project:
    return catalog.project_in(county, S.IN_PROGRESS, title)


def supervised(county) -> Project:
    from oversight.supervision_engagements import appoint_supervision

    project = running(county)
    appoint_supervision(
        project, county.orgs["firm"], county.users["auditor"], [], county.users["staff"]
    )
    return project


def finding_of(county, project, rectify_by=None):
    from oversight.findings import raise_finding

    return raise_finding(project, county.users["auditor"], "minor", "发票抬头不符。", rectify_by)


def spend(project, voucher: str, amount: str, method: str = "transfer"):
    entry = {
        "voucher_no": voucher,
        "spent_on": project.start_date + 40 * DAY,
        "category": "operations",
        "payee": "示范县农资公司",
        "method": method,
        "amount": Decimal(amount),
    }
    return record_expenditure(project, project.pi, entry)


def override_form(county, client, settings) -> Typed:
    from integrity.models import Sanction
    from integrity.policy import VetoRefused
    from integrity.services import record_sanction
    from workflows.actions import perform

    project = demo.advance(
        county, demo.draft_project(county, "applicant2", "合同受阻", "300000"), S.APPROVED
    )
    applicant = county.users["applicant2"]
    sanction = record_sanction(
        Sanction(
            subject_kind="person",
            subject_id=applicant.id_number,
            subject_name=applicant.real_name,
            severity="serious",
            measures=["terminate"],  # no ban: it may be overridden
            gates=["contract"],
            decision_no="示科信〔2026〕21号",
            reason="未按任务书履约",
            starts_on=TODAY - 5 * DAY,
        ),
        officer(county),
    )
    with pytest.raises(VetoRefused):  # the refusal the override is asked for
        perform(project.pk, "sign_contract", county.users["staff"])
    data = {"gate": "contract", "sanction": sanction.pk, "reason": "县政府专题会议\x1b决定继续实施"}
    url = reverse("override-ask", args=[project.pk])
    error = "Remove the control character U+001B"
    return Typed(county.users["staff"], url, data, error)


def document_form(county, client, settings) -> Typed:
    project = catalog.project_in(county, S.DRAFT)
    url = reverse("project-document-upload", args=[project.pk])
    data = {"kind": "application_form", "note": "盖章版"}
    return Typed(project.pi, url, data, "This field is required")


def audit_report_form(county, client, settings) -> Typed:
    project = catalog.project_in(county, S.UNDER_AUDIT)
    engagement = project.audits.order_by("-pk").first()
    url = reverse("audit-report-upload", args=[project.pk])
    return Typed(engagement.lead_auditor, url, {}, "Choose the audit report to attach.")


def voucher_scan_form(county, client, settings) -> Typed:
    project = running(county)
    entry = spend(project, "记-0101", "800.00")
    url = reverse("voucher-scan-upload", args=[project.pk, entry.pk])
    return Typed(project.pi, url, {}, "Choose the scan to attach.")


def ledger_import_form(county, client, settings) -> Typed:
    project = running(county)
    url = reverse("ledger-import", args=[project.pk])
    return Typed(project.pi, url, {}, "This field is required")


def ledger_rows_refused(county, client, settings) -> Typed:
    from django.core.files.uploadedfile import SimpleUploadedFile

    project = running(county)
    csv = "凭证号,日期,科目,收款方,支付方式,金额\nJZ-1,2026-13-40,operations,某公司,transfer,100\n"
    upload = SimpleUploadedFile("ledger.csv", csv.encode(), content_type="text/csv")
    url = reverse("ledger-import", args=[project.pk])
    error = "Nothing was imported: correct the file and upload it again."
    return Typed(project.pi, url, {"file": upload}, error, shown={})


def appoint_form(county, client, settings) -> Typed:
    project = running(county)
    data = {
        "firm": county.orgs["firm"].pk,
        "lead_auditor": "",
        "staff": [county.users["auditor"].pk],
    }
    url = reverse("supervision-appoint", args=[project.pk])
    return Typed(county.users["staff"], url, data, "This field is required")


def end_form(county, client, settings) -> Typed:
    project = supervised(county)
    engagement = project.audits.get()
    url = reverse("supervision-end", args=[project.pk, engagement.pk])
    data = {"end-reason": "事务所更换\x1b审计人员"}
    return Typed(county.users["staff"], url, data, "Remove the control character U+001B")


def finding_form(county, client, settings) -> Typed:
    project = supervised(county)
    data = {
        "finding-severity": "major",
        "finding-text": "劳务费发放缺少签收单。",
        "finding-rectify_by": "2026-02-30",
    }
    url = reverse("finding-raise", args=[project.pk])
    return Typed(county.users["auditor"], url, data, "Enter a valid date")


def rectification_answer_form(county, client, settings) -> Typed:
    project = supervised(county)
    finding = finding_of(county, project, rectify_by=TODAY + 30 * DAY)
    url = reverse("finding-answer", args=[project.pk, finding.pk])
    data = {f"answer-{finding.pk}-text": "已补齐签收单\x1b并重新入账。"}
    return Typed(county.users["unit1"], url, data, "Remove the control character U+001B")


def close_finding_form(county, client, settings) -> Typed:
    project = supervised(county)
    finding = finding_of(county, project)
    url = reverse("finding-close", args=[project.pk, finding.pk])
    data = {f"close-{finding.pk}-note": "已核实\x1b发票。"}
    return Typed(county.users["auditor"], url, data, "Remove the control character U+001B")


def reopen_finding_form(county, client, settings) -> Typed:
    from oversight.findings import close_finding

    project = supervised(county)
    finding = close_finding(finding_of(county, project), county.users["auditor"])
    url = reverse("finding-reopen", args=[project.pk, finding.pk])
    data = {
        f"reopen-{finding.pk}-reason": "签收单不全。",
        f"reopen-{finding.pk}-rectify_by": "2026-02-30",
    }
    return Typed(county.users["auditor"], url, data, "Enter a valid date")


def fund_check_form(county, client, settings) -> Typed:
    from oversight.models import FundCheck

    project = supervised(county)
    check = FundCheck.objects.create(
        engagement=project.audits.get(), period_from=TODAY - 90 * DAY, due_on=TODAY
    )
    url = reverse("supervision-check", args=[project.pk, check.pk])
    data = {"summary": "经费使用\x1b基本规范。"}
    return Typed(county.users["auditor"], url, data, "Remove the control character U+001B")


def flag_note_form(county, client, settings) -> Typed:
    project = supervised(county)
    spend(project, "JZ-1", "8000.00", method="cash")  # a large cash payment: a red flag
    data = {
        "code": "large_cash",
        "voucher_no": "JZ-1",
        "verdict": "finding_raised",
        "note": "差旅现场支付，无审批单。",
        "severity": "",
    }
    url = reverse("supervision-flags", args=[project.pk])
    return Typed(county.users["auditor"], url, data, "Choose the severity of the finding.")


def terminated(county) -> Project:
    from workflows.actions import perform

    project = running(county)
    return perform(project.pk, "terminate", county.users["staff"], reason="无法继续履行任务书。")


def refund_form(county, client, settings) -> Typed:
    project = terminated(county)
    data = {"amount": "12.345.6", "paid_on": TODAY.isoformat(), "reference": "银行回单 0001"}
    url = reverse("recovery-refund", args=[project.pk])
    return Typed(county.users["staff"], url, data, "Amount")


def recovery_adjust_form(county, client, settings) -> Typed:
    project = terminated(county)
    data = {"amount": "12.345.6", "reason": "审计发现违规支出。"}
    url = reverse("recovery-adjust", args=[project.pk])
    return Typed(county.users["staff"], url, data, "Amount")


def closing_balance_form(county, client, settings) -> Typed:
    project = catalog.project_in(county, S.ACCEPTED)
    data = {"disposition": "returned", "note": "结余\x1b退回财政。"}
    url = reverse("closing-balance", args=[project.pk])
    return Typed(county.users["staff"], url, data, "Remove the control character U+001B")


def contract_terms_form(county, client, settings) -> Typed:
    from funding.contracts import ProjectContract

    project = catalog.project_in(county, S.APPROVED)
    ProjectContract.objects.filter(project=project).delete()  # the demo's own terms
    data = {
        "targets": "病虫害识别准确率, %, 90\n推广面积, 亩, 很多",
        "milestones": "中期检查, 2027-06-30",
        "schedule": "首笔, 100, 签订后",
    }
    url = reverse("contract-terms", args=[project.pk])
    return Typed(project.pi, url, data, "Line 2: the target value must be a number", status=400)


def achieved_form(county, client, settings) -> Typed:
    from funding.contracts import contract_of

    project = running(county)
    data = {}
    for n, target in enumerate(contract_of(project).targets.order_by("pk")):
        data[f"achieved_{target.pk}"] = "很多" if n == 0 else "95"
        data[f"note_{target.pk}"] = f"第{n + 1}项说明"
    url = reverse("contract-achieved", args=[project.pk])
    return Typed(project.pi, url, data, "write digits", status=400)


def targets_form(county, client, settings) -> Typed:
    data = {"year": str(TODAY.year), "rd_spending": "很多", "platforms": "8"}
    return Typed(county.users["leader"], reverse("workplan-targets"), data, "")


def actuals_form(county, client, settings) -> Typed:
    from workplan.indicators import ENTERED_INDICATORS

    code = ENTERED_INDICATORS[0].code
    data = {"indicator": code, "year": str(TODAY.year), "month": "3", "value": "很多"}
    return Typed(county.users["staff"], reverse("workplan-actuals"), data, "")


def upward_form(county, client, settings) -> Typed:
    project = catalog.project_in(county, S.APPROVED)
    data = {"level": "province", "programme": "省重点研发计划", "recommended_on": "2026-02-30"}
    url = reverse("workplan-recommend", args=[project.pk])
    return Typed(county.users["staff"], url, data, "Enter a valid date", status=400)


def upward_result_form(county, client, settings) -> Typed:
    from workplan.services import recommend_upward

    project = catalog.project_in(county, S.APPROVED)
    recommendation = recommend_upward(
        project.pk,
        county.users["staff"],
        level="province",
        programme="省重点研发计划",
        recommended_on=TODAY - 30 * DAY,
    )
    data = {"result": "won", "funds_won": "12.345.6", "decided_on": TODAY.isoformat()}
    url = reverse("workplan-result", args=[recommendation.pk])
    return Typed(county.users["staff"], url, data, "", status=400)


def rectified_form(county, client, settings) -> Typed:
    from integrity.models import Sanction
    from integrity.services import record_sanction

    sanction = record_sanction(
        Sanction(
            subject_kind="person",
            subject_id=demo.person_id(903),
            subject_name="轻微某",
            severity="minor",
            measures=["suspend_rectify"],
            gates=[],
            decision_no="市科信〔2026〕2号",
            reason="数据记录不规范。",
            starts_on=TODAY - 30 * DAY,
            rectify_by=TODAY + 30 * DAY,
        ),
        officer(county),
    )
    url = reverse("sanction-rectified", args=[sanction.pk])
    return Typed(officer(county), url, {"done_on": "2026-02-30"}, "Enter a valid date")


def evidence_form(county, client, settings) -> Typed:
    case = new_case(county)
    data = {"note": "举报人提供的专利检索截图", "disclose": "on"}
    return Typed(officer(county), reverse("case-evidence", args=[case.pk]), data, "required")


def unlock_form(county, client, settings) -> Typed:
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(
            reverse("login"),
            {"username": "applicant", "password": "not-the-password"},
            REMOTE_ADDR=f"10.2.0.{n + 1}",
        )
    data = {"unlock": "1", "kind": "username", "value": "applicant", "reason": "本人\x1b来电"}
    url = reverse("account-lockouts")
    error = "Remove the control character U+001B"
    return Typed(
        county.users["staff"], url, data, error, status=400, shown={"reason": data["reason"]}
    )


FORMS: dict[str, Callable] = {
    "ask for an override": override_form,
    "attach a document": document_form,
    "attach the audit report": audit_report_form,
    "attach a voucher scan": voucher_scan_form,
    "import the ledger": ledger_import_form,
    "import a ledger with bad rows": ledger_rows_refused,
    "appoint the supervision firm": appoint_form,
    "end the engagement": end_form,
    "raise a finding": finding_form,
    "answer a rectification": rectification_answer_form,
    "close a finding": close_finding_form,
    "reopen a finding": reopen_finding_form,
    "record a fund check": fund_check_form,
    "annotate a red flag": flag_note_form,
    "record a refund": refund_form,
    "adjust the recovery": recovery_adjust_form,
    "record the closing balance": closing_balance_form,
    "task contract terms": contract_terms_form,
    "achieved values": achieved_form,
    "yearly targets": targets_form,
    "monthly actual": actuals_form,
    "recommend upward": upward_form,
    "upward result": upward_result_form,
    "record a rectification": rectified_form,
    "attach case evidence": evidence_form,
    "unlock a sign-in": unlock_form,
}


@pytest.mark.parametrize("name", list(FORMS))
def test_every_other_form_comes_back_as_typed(client, county, settings, name):
    form = FORMS[name](county, client, settings)
    client.force_login(form.user)
    typed_back(client, form.url, form.data, status=form.status, error=form.error, shown=form.shown)


# --- dates: YYYY-MM-DD in every language --------------------------------------------------


def page_form(response) -> dict:
    """What the browser sends back for the form as the page shows it."""
    shown = Controls(response.content.decode()).shown
    return {
        name: values[0] if len(values) == 1 else values
        for name, values in shown.items()
        if name not in ("csrfmiddlewaretoken", "language", "next")
    }


def test_the_chinese_revise_form_shows_its_dates_and_saves_them_back(client, county):
    project = demo.draft_project(
        county, "applicant", "日期回显", "300000", start_date=TODAY + 9 * DAY
    )
    client.cookies["django_language"] = "zh-hans"
    client.force_login(project.pi)
    url = reverse("project-edit", args=[project.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("start_date", "end_date"):
        iso = getattr(project, name).isoformat()
        assert re.search(rf'<input type="date" name="{name}" value="{iso}"', html), name
    data = {**page_form(page), "title": "日期回显（修改）"}
    assert data["start_date"] == project.start_date.isoformat()
    response = client.post(url, data)
    assert response.status_code == 302, page_form(response) if response.status_code == 200 else ""
    saved = Project.objects.get(pk=project.pk)
    assert saved.title == "日期回显（修改）"
    assert (saved.start_date, saved.end_date) == (project.start_date, project.end_date)
    assert history_of(saved).filter(kind=EventKind.PROJECT_EDITED).exists()


def test_a_chinese_form_with_an_error_shows_the_dates_typed(client, county):
    client.cookies["django_language"] = "zh-hans"
    client.force_login(county.users["applicant"])
    data = catalog.application(county) | {"team": "张三"}  # a team line without an ID number
    response = client.post(reverse("apply", args=[county.call.pk]), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not missing_values(response, data), missing_values(response, data)


def our_date_fields():
    """Every date field of every form of ours; the admin's forms aside, which the admin
    renders with its own calendar widget (a text field)."""
    import importlib
    import pkgutil

    from accounts.text import OUR_APPS

    for app in sorted(OUR_APPS):
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".migrations" not in module.name and ".management" not in module.name:
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for form in set(subclasses(forms.BaseForm)):
        module = form.__module__
        if module.split(".")[0] not in OUR_APPS or module.split(".")[-1].startswith("admin"):
            continue
        for name, field_ in getattr(form, "base_fields", {}).items():
            if type(field_) is forms.DateField:
                yield f"{form.__module__}.{form.__name__}.{name}", field_


def test_every_date_field_of_ours_writes_iso_dates_in_every_language():
    fields = dict(our_date_fields())
    assert "workflows.forms.ProjectForm.start_date" in fields  # the discovery works
    day = datetime.date(2026, 9, 5)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for name, date_field in fields.items():
                assert isinstance(date_field.widget, IsoDateInput), name
                html = date_field.widget.render("d", day)
                assert 'type="date"' in html and 'value="2026-09-05"' in html, (name, html)
                assert date_field.clean("2026-09-05") == day, name  # typed back: read
