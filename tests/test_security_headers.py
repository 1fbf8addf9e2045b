"""Browser policies on every page: a strict Content-Security-Policy (no inline script or
style anywhere), a Permissions-Policy denying device features, a same-origin referrer."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("english")

INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=|<style", re.IGNORECASE)


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in header.split(";")
        if part.strip()
    }


def test_pages_carry_a_strict_content_security_policy(client, county):
    response = client.get(reverse("notices"))
    assert response.status_code == 200
    policy = csp_directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_pages_deny_device_features_and_send_a_same_origin_referrer(client, county):
    response = client.get(reverse("login"))
    policy = response["Permissions-Policy"]
    for feature in ["camera", "microphone", "geolocation", "payment", "usb"]:
        assert f"{feature}=()" in policy
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "who, name",
    [
        (None, "login"),
        (None, "notices"),
        ("applicant", "inbox"),
        ("applicant", "account-two-factor"),
        ("applicant", "password_change"),
        ("integrity", "register"),
        ("staff", "account-lockouts"),
    ],
)
def test_no_page_has_inline_script_or_style(client, county, who, name):
    if who:
        client.force_login(county.users[who])
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not INLINE_HANDLER.search(html)
    assert not INLINE_STYLE.search(html)
    # The language switch works from the site's own script file instead.
    assert '<script src="/static/js/site.js" defer></script>' in html


def test_the_site_script_is_served_by_the_site(client):
    response = client.get("/static/js/site.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"form.lang select" in body


def test_the_admin_is_under_the_same_policy(client, staff):
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert csp_directives(response)["script-src"] == "'self'"
    assert not INLINE_SCRIPT.search(response.content.decode())
