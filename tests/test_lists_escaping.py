"""The rows and filter selects drawn in Python (lists.tables.body_html, lists.forms
select_html) escape what users typed, keep what was chosen, and draw a select exactly as
Django's own templates do (issue 10)."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import get_default_renderer

from funding.models import Expenditure
from funding.states import ProjectStatus
from lists.forms import select_html
from workflows import demo

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'q'"


@pytest.fixture
def hostile(county):
    """A running project and its organisation named, and a voucher's payee, with markup."""
    project = demo.draft_project(county, "applicant", HOSTILE, "100000")
    type(project).objects.filter(pk=project.pk).update(status=ProjectStatus.IN_PROGRESS)
    project.refresh_from_db()
    project.applicant_org.name = "Org " + HOSTILE
    project.applicant_org.save(update_fields=["name"])
    Expenditure.objects.create(
        project=project,
        voucher_no="JZ-1",
        spent_on=project.start_date + datetime.timedelta(days=1),
        category="operations",
        payee="Payee " + HOSTILE,
        method="transfer",
        amount=Decimal("100.00"),
    )
    return project


def _page(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    return page.content.decode()


@pytest.mark.parametrize("url", ["/projects/", "/vouchers/"])
def test_rows_escape_what_users_typed(client_en, county, hostile, url):
    client_en.force_login(county.users["staff"])
    html = _page(client_en, url)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;" in html


def test_the_organisation_select_escapes_and_keeps_the_choice(client_en, county, hostile):
    client_en.force_login(county.users["staff"])
    org = hostile.applicant_org_id
    html = _page(client_en, f"/projects/?organisation={org}")
    assert "<script>" not in html
    assert (
        f'<option value="{org}" selected>Org &lt;script&gt;alert(&quot;x&quot;)'
        "&lt;/script&gt; &amp; &#x27;q&#x27;</option>"
    ) in html


def test_the_form_keeps_what_the_user_typed_when_it_refuses_it(client_en, county, hostile):
    """A search too long is refused (no rows), and the box still holds it, escaped."""
    client_en.force_login(county.users["staff"])
    typed = '"><b>' + "x" * 200
    page = client_en.get("/projects/", {"q": typed, "status": ProjectStatus.IN_PROGRESS})
    assert page.status_code == 200
    assert page.context["valid"] is False
    assert not list(page.context["table"].page.object_list)
    html = page.content.decode()
    assert "<b>" + "x" * 200 not in html
    assert 'value="&quot;&gt;&lt;b&gt;' + "x" * 200 + '"' in html
    assert f'<option value="{ProjectStatus.IN_PROGRESS}" selected>' in html


@pytest.mark.parametrize("multiple", [False, True])
def test_select_html_draws_what_django_draws(multiple):
    choices = [
        ("", "any"),
        ("a", HOSTILE),
        ("Group <g>", [(1, "one & <1>"), (2, "two")]),
        (3, 1234.5),
    ]
    widget = (forms.SelectMultiple if multiple else forms.Select)(
        choices=choices, attrs={"data-x": '"q"', "required": True, "disabled": False}
    )
    value = ["a", 2] if multiple else "a"
    context = widget.get_context("pick", value, {"id": "id_pick"})
    django = get_default_renderer().render(widget.template_name, context)
    # The same markup; only the blank lines Django's template leaves between tags differ.
    assert _tags(select_html(context["widget"])) == _tags(django)


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())
