"""Two-factor sign-in: anyone may set up an authenticator app; the bureau may require it.

Codes are computed from the device's secret the way an app does (RFC 6238).
"""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture(autouse=True)
def english_pages(client):
    client.cookies["django_language"] = "en"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """What the app shows now (or `steps_ahead` steps later: a code is accepted once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {code_for(device, n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def with_app(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def sign_in(client, username, password=demo.DEMO_PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


def two_factor_events(user) -> list[Event]:
    return list(
        Event.objects.filter(
            kind=EventKind.TWO_FACTOR_CHANGED, object_type="accounts.user", object_id=str(user.pk)
        )
    )


def page(response) -> str:
    return response.content.decode()


# --- setting it up -----------------------------------------------------------------------


def test_an_applicant_sets_up_an_authenticator_app(client, applicant):
    client.force_login(applicant)
    response = client.get(reverse("account-two-factor"))
    assert response.status_code == 200
    html = page(response)
    assert "<svg" in html and 'class="segno"' in html
    device = TOTPDevice.objects.get(user=applicant, confirmed=False)
    secret = html.split('data-testid="secret">')[1].split("<")[0]
    assert secret.replace(" ", "") in device.config_url
    assert device.config_url.startswith("otpauth://totp/")
    # The secret stays the same until confirmed, so scanning then typing works.
    client.get(reverse("account-two-factor"))
    assert TOTPDevice.objects.get(user=applicant).pk == device.pk

    done = client.post(reverse("account-two-factor"), {"code": code_for(device)})
    assert done.status_code == 200
    codes = page(done).split('data-testid="backup-codes">')[1].split("</ul>")[0]
    assert codes.count("<li>") == 8
    device.refresh_from_db()
    assert device.confirmed
    [event] = two_factor_events(applicant)
    assert event.actor_id == applicant.pk
    assert event.data["action"] == "set_up"
    # This session proved the app: pages open, the account page says it is on.
    assert client.get(reverse("inbox")).status_code == 200
    assert 'data-testid="two-factor-on"' in page(client.get(reverse("account-two-factor")))


@pytest.mark.parametrize("typed", ["wrong", "12345", "", "1" * 40, "12\x0056"])
def test_a_wrong_setup_code_is_refused_and_nothing_turns_on(client, applicant, typed):
    client.force_login(applicant)
    client.get(reverse("account-two-factor"))
    device = TOTPDevice.objects.get(user=applicant)
    if typed == "wrong":
        typed = wrong_code(device)
    response = client.post(reverse("account-two-factor"), {"code": typed})
    assert response.status_code == 200
    assert 'class="error"' in page(response)
    assert f'value="{typed}"' in page(response) or not typed or "\x00" in typed
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=applicant).exists()
    assert two_factor_events(applicant) == []


def test_signing_in_is_needed_to_set_up(client, county):
    response = client.get(reverse("account-two-factor"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- signing in with it ------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(client, applicant, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then the right one at once
    device = with_app(applicant)
    response = sign_in(client, "applicant", next="/calls/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account-two-factor-verify"))
    # Nothing else is reachable before the code.
    for name in ["inbox", "calls", "account-identity", "password_change"]:
        blocked = client.get(reverse(name))
        assert blocked.status_code == 302, name
        assert blocked["Location"].startswith(reverse("account-two-factor-verify"))
    assert client.get("/admin/")["Location"].startswith(reverse("account-two-factor-verify"))

    step = client.get(response["Location"])
    assert "Enter your code" in page(step)
    refused = client.post(
        reverse("account-two-factor-verify"), {"code": wrong_code(device), "next": "/calls/"}
    )
    assert refused.status_code == 200
    assert "This code is not right" in page(refused)
    assert client.get(reverse("inbox")).status_code == 302

    passed = client.post(
        reverse("account-two-factor-verify"), {"code": code_for(device), "next": "/calls/"}
    )
    assert passed.status_code == 302
    assert passed["Location"] == "/calls/"
    assert client.get(reverse("inbox")).status_code == 200


def test_the_code_step_does_not_redirect_elsewhere(client, applicant):
    device = with_app(applicant)
    sign_in(client, "applicant")
    response = client.post(
        reverse("account-two-factor-verify"),
        {"code": code_for(device), "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("inbox")


def test_wrong_codes_are_throttled(client, applicant, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1000  # seconds after the first wrong code
    device = with_app(applicant)
    sign_in(client, "applicant")
    client.post(reverse("account-two-factor-verify"), {"code": wrong_code(device)})
    response = client.post(reverse("account-two-factor-verify"), {"code": code_for(device)})
    assert "Too many wrong codes" in page(response)
    assert client.get(reverse("inbox")).status_code == 302


def test_a_backup_code_works_once(client, applicant):
    with_app(applicant)
    backup = StaticDevice.objects.create(user=applicant, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token="abcd2345")
    sign_in(client, "applicant")
    response = client.post(reverse("account-two-factor-verify"), {"code": "ABCD 2345"})
    assert response.status_code == 302
    assert client.get(reverse("inbox")).status_code == 200
    client.post(reverse("logout"))
    sign_in(client, "applicant")
    again = client.post(reverse("account-two-factor-verify"), {"code": "abcd2345"})
    assert "This code is not right" in page(again)


def test_people_without_an_app_sign_in_with_the_password_alone(client, applicant):
    response = sign_in(client, "applicant")
    assert response["Location"] == reverse("inbox")
    assert client.get(reverse("inbox")).status_code == 200


# --- required for some roles -------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "leader", "integrity"])
def test_when_required_these_roles_must_set_it_up_before_anything_else(
    client, county, settings, who
):
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(county.users[who])
    for url in [reverse("inbox"), reverse("calls"), "/admin/", reverse("password_change")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account-two-factor")), url
    setup = client.get(reverse("account-two-factor"))
    assert 'data-testid="two-factor-required"' in page(setup)
    device = TOTPDevice.objects.get(user=county.users[who])
    client.post(reverse("account-two-factor"), {"code": code_for(device)})
    assert client.get(reverse("inbox")).status_code == 200


def test_when_required_superusers_must_set_it_up(client, county, settings):
    settings.TWO_FACTOR_REQUIRED = True
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    client.force_login(root)
    response = client.get("/admin/")
    assert response["Location"].startswith(reverse("account-two-factor"))


def test_when_required_an_applicant_is_not_forced(client, applicant, settings):
    settings.TWO_FACTOR_REQUIRED = True
    client.force_login(applicant)
    assert client.get(reverse("inbox")).status_code == 200


def test_not_required_by_default(client, staff, settings):
    assert settings.TWO_FACTOR_REQUIRED is False
    client.force_login(staff)
    assert client.get(reverse("inbox")).status_code == 200


def test_when_required_the_admin_sign_in_goes_through_the_code_step(client, staff, settings):
    settings.TWO_FACTOR_REQUIRED = True
    device = with_app(staff)
    response = client.post(
        reverse("admin:login"),
        {"username": "staff", "password": demo.DEMO_PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get("/admin/")["Location"].startswith(reverse("account-two-factor-verify"))
    client.post(reverse("account-two-factor-verify"), {"code": code_for(device)})
    assert client.get("/admin/").status_code == 200


# --- removing it -------------------------------------------------------------------------


def verified_session(client, user) -> TOTPDevice:
    device = with_app(user)
    sign_in(client, user.username)
    client.post(reverse("account-two-factor-verify"), {"code": code_for(device)})
    return device


def test_a_user_removes_it_with_their_password(client, applicant):
    verified_session(client, applicant)
    response = client.post(
        reverse("account-two-factor-remove"), {"password": demo.DEMO_PASSWORD}, follow=True
    )
    assert "Two-factor sign-in is off" in page(response)
    assert not TOTPDevice.objects.filter(user=applicant, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=applicant).exists()
    [event] = two_factor_events(applicant)
    assert event.data["action"] == "removed"
    assert event.actor_id == applicant.pk


def test_a_user_removes_it_with_a_code(client, applicant):
    device = verified_session(client, applicant)
    client.post(reverse("account-two-factor-remove"), {"code": code_for(device, 1)})
    assert not TOTPDevice.objects.filter(user=applicant, confirmed=True).exists()


@pytest.mark.parametrize("data", [{}, {"password": "wrong-password"}, {"code": "000000x"}])
def test_removing_needs_a_proof(client, applicant, data):
    verified_session(client, applicant)
    response = client.post(reverse("account-two-factor-remove"), data)
    assert response.status_code == 200
    assert 'class="error"' in page(response)
    assert TOTPDevice.objects.filter(user=applicant, confirmed=True).exists()
    assert two_factor_events(applicant) == []


def test_a_password_alone_cannot_remove_it_before_the_code_step(client, applicant):
    with_app(applicant)
    sign_in(client, "applicant")
    response = client.post(reverse("account-two-factor-remove"), {"password": demo.DEMO_PASSWORD})
    assert response["Location"].startswith(reverse("account-two-factor-verify"))
    assert TOTPDevice.objects.filter(user=applicant, confirmed=True).exists()


# --- staff reset (a lost phone) ----------------------------------------------------------


def test_staff_reset_someones_two_factor_journaled(client, staff, applicant):
    with_app(applicant)
    client.force_login(staff)
    response = client.post(
        reverse("account-lockouts"),
        {"reset": "1", "username": "applicant", "reason": "lost phone, ID checked at the desk"},
        follow=True,
    )
    assert "is reset" in page(response)
    assert not TOTPDevice.objects.filter(user=applicant).exists()
    [event] = two_factor_events(applicant)
    assert event.actor_id == staff.pk
    assert event.data == {
        "action": "reset_by_staff",
        "reason": "lost phone, ID checked at the desk",
    }
    # The applicant signs in with the password alone again.
    client.logout()
    assert sign_in(client, "applicant")["Location"] == reverse("inbox")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"username": "applicant", "reason": ""}, "This field is required"),
        ({"username": "nobody", "reason": "x"}, "There is no account with this name"),
        ({"username": "applicant", "reason": "r" * 501}, "at most 500 characters"),
    ],
)
def test_a_staff_reset_with_bad_input_is_refused(client, staff, applicant, data, message):
    with_app(applicant)
    client.force_login(staff)
    response = client.post(reverse("account-lockouts"), {"reset": "1", **data})
    assert response.status_code == 200
    assert message in page(response)
    assert data["username"] in page(response)
    assert TOTPDevice.objects.filter(user=applicant).exists()


def test_staff_cannot_reset_a_superusers_two_factor(client, staff):
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    with_app(root)
    client.force_login(staff)
    response = client.post(
        reverse("account-lockouts"), {"reset": "1", "username": "root", "reason": "asked"}
    )
    assert "Only a superuser may reset" in page(response)
    assert TOTPDevice.objects.filter(user=root).exists()


@pytest.mark.parametrize("who", ["applicant2", "leader", "integrity"])
def test_others_cannot_reset_two_factor(client, county, applicant, who):
    with_app(applicant)
    client.force_login(county.users[who])
    response = client.post(
        reverse("account-lockouts"), {"reset": "1", "username": "applicant", "reason": "x"}
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=applicant).exists()
