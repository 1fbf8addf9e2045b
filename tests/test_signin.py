"""Signing in resists guessing, and every person can change or reset their password.

Repeated failures lock the account name and the address (django-axes), on the site and
the admin; staff unlock, journaled. Passwords follow Django's validators; each change
and reset is a trail event. Sessions end after the configured idle time.
"""

from __future__ import annotations

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from trail.kinds import EventKind
from trail.models import Event
from workflows import demo

pytestmark = pytest.mark.usefixtures("english")

LIMIT = 3
WRONG = "not-the-password"
NEW_PASSWORD = "violet-harbour-lantern-42"


@pytest.fixture(autouse=True)
def small_limit(settings, client):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = 1  # hour
    client.cookies["django_language"] = "en"


def sign_in(client, username, password, *, ip="127.0.0.1", path=None):
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def events(kind, obj=None):
    found = Event.objects.filter(kind=kind)
    if obj is not None:
        found = found.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    return list(found)


def text(response) -> str:
    return response.content.decode()


# --- lockout -----------------------------------------------------------------------------


def test_the_login_url_still_signs_in_with_the_demo_password(client, applicant):
    assert reverse("login") == "/login/"
    response = sign_in(client, "applicant", demo.DEMO_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("inbox")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("inbox")).status_code == 302


def test_repeated_failures_lock_the_account_with_a_clear_message(client, applicant):
    for _ in range(LIMIT - 1):
        response = sign_in(client, "applicant", WRONG)
        assert response.status_code == 200
        assert "didn&#x27;t match" in text(response) or "didn't match" in text(response)
    locked = sign_in(client, "applicant", WRONG)
    assert locked.status_code == 429
    page = text(locked)
    assert "Sign-in is locked" in page
    assert "You can try again 60 minutes after the last attempt" in page
    assert "contact 示范县科学技术局" in page
    # The right password does not get through while the lock holds.
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD).status_code == 429
    assert client.get(reverse("inbox")).status_code == 302


def test_the_account_is_locked_from_any_address(client, applicant):
    for n in range(LIMIT):
        sign_in(client, "applicant", WRONG, ip=f"10.0.0.{n + 1}")
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD, ip="10.9.9.9").status_code == 429
    # Another account from a fresh address is not affected.
    assert sign_in(client, "applicant2", demo.DEMO_PASSWORD, ip="10.9.9.9").status_code == 302


def test_the_address_is_locked_whatever_the_account_name(client, applicant):
    for n in range(LIMIT):
        sign_in(client, f"guess{n}", WRONG, ip="10.1.1.1")
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD, ip="10.1.1.1").status_code == 429
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD, ip="10.1.1.2").status_code == 302


def test_the_admin_sign_in_locks_out_too(client, staff):
    admin_login = reverse("admin:login")
    for _ in range(LIMIT - 1):
        assert sign_in(client, "staff", WRONG, path=admin_login).status_code == 200
    locked = sign_in(client, "staff", WRONG, path=admin_login)
    assert locked.status_code == 429
    assert "Sign-in is locked" in text(locked)
    assert sign_in(client, "staff", demo.DEMO_PASSWORD, path=admin_login).status_code == 429


def test_successful_sign_ins_do_not_count_as_failures(client, applicant):
    for _ in range(LIMIT + 2):
        assert sign_in(client, "applicant", demo.DEMO_PASSWORD).status_code == 302
        client.post(reverse("logout"))
    for _ in range(LIMIT - 1):
        sign_in(client, "applicant", WRONG)
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD).status_code == 302


def test_a_failed_sign_in_with_bad_input_is_a_form_error_not_a_lock_or_a_crash(client, county):
    for username in ["a" * 151, "nul\x00name", ""]:
        response = sign_in(client, username, WRONG)
        assert response.status_code == 200
    assert not AccessAttempt.objects.exists()


# --- unlocking by staff ------------------------------------------------------------------


def lock_account(client, username):
    for n in range(LIMIT):
        sign_in(client, username, WRONG, ip=f"10.2.0.{n + 1}")


def test_staff_see_the_lockout_and_unlock_it_journaled(client, staff, applicant):
    lock_account(client, "applicant")
    client.force_login(staff)
    page = client.get(reverse("account-lockouts"))
    assert page.status_code == 200
    assert "applicant" in text(page)
    response = client.post(
        reverse("account-lockouts"),
        {"unlock": "1", "kind": "username", "value": "applicant", "reason": "phoned the bureau"},
        follow=True,
    )
    assert "“applicant” can sign in again." in text(response)
    assert "Nothing is locked." in text(response)
    [event] = events(EventKind.SIGN_IN_UNLOCKED, applicant)
    assert event.actor_id == staff.pk
    assert event.data["username"] == "applicant"
    assert event.data["failures"] == LIMIT
    assert event.data["reason"] == "phoned the bureau"
    client.logout()
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD, ip="10.2.9.9").status_code == 302


def test_staff_unlock_an_address(client, staff):
    for n in range(LIMIT):
        sign_in(client, f"guess{n}", WRONG, ip="10.3.3.3")
    client.force_login(staff)
    assert "10.3.3.3" in text(client.get(reverse("account-lockouts")))
    client.post(
        reverse("account-lockouts"), {"unlock": "1", "kind": "ip_address", "value": "10.3.3.3"}
    )
    [event] = events(EventKind.SIGN_IN_UNLOCKED)
    assert event.data["ip_address"] == "10.3.3.3"
    client.logout()
    assert sign_in(client, "staff", demo.DEMO_PASSWORD, ip="10.3.3.3").status_code == 302


def test_unlocking_bad_input_is_refused_without_a_trail_event(client, staff):
    client.force_login(staff)
    for data in [
        {"unlock": "1", "kind": "nonsense", "value": "x"},
        {"unlock": "1", "kind": "username", "value": ""},
    ]:
        response = client.post(reverse("account-lockouts"), data, follow=True)
        assert response.status_code == 200
    # The service refuses it: the page comes back with the error (400), nothing changed.
    response = client.post(
        reverse("account-lockouts"),
        {"unlock": "1", "kind": "ip_address", "value": "not-an-address", "reason": "x"},
    )
    assert response.status_code == 400
    assert "This is not an IP address." in text(response)
    assert not events(EventKind.SIGN_IN_UNLOCKED)


@pytest.mark.parametrize("who", ["applicant", "leader", "integrity", "expert1"])
def test_only_staff_reach_the_unlock_page(client, county, who):
    lock_account(client, "applicant2")
    client.force_login(county.users[who])
    assert client.get(reverse("account-lockouts")).status_code == 403
    response = client.post(
        reverse("account-lockouts"), {"unlock": "1", "kind": "username", "value": "applicant2"}
    )
    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username="applicant2").exists()
    assert not events(EventKind.SIGN_IN_UNLOCKED)


def test_anonymous_visitors_are_sent_to_sign_in_from_the_unlock_page(client, county):
    response = client.get(reverse("account-lockouts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_deleting_attempts_in_the_admin_unlocks_and_is_journaled(client, county):
    lock_account(client, "applicant")
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    client.force_login(root)
    attempt = AccessAttempt.objects.filter(username="applicant").first()
    response = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    [event] = events(EventKind.SIGN_IN_UNLOCKED, county.users["applicant"])
    assert event.actor_id == root.pk
    assert event.data["via"] == "admin"


def test_the_reset_commands_unlock_through_the_journaled_service(client, county):
    from django.core.management import call_command

    lock_account(client, "applicant")
    for n in range(LIMIT):
        sign_in(client, f"guess{n}", WRONG, ip="10.4.4.4")
    call_command("axes_reset_username", "applicant", reason="电话核实本人")
    [event] = events(EventKind.SIGN_IN_UNLOCKED, county.users["applicant"])
    assert event.actor_id is None and event.data["via"] == "command"
    assert event.data["reason"] == "电话核实本人"
    call_command("axes_reset")  # whatever is still locked: the address
    assert not AccessAttempt.objects.exists()
    unlocked = {e.data["username"] for e in events(EventKind.SIGN_IN_UNLOCKED)}
    assert unlocked == {"applicant", "guess0", "guess1", "guess2"}
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD, ip="10.4.4.4").status_code == 302


# --- password change ---------------------------------------------------------------------


def change(client, old, new1, new2=None):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new1, "new_password2": new2 or new1},
    )


def test_a_user_changes_their_password_journaled(client, applicant):
    client.force_login(applicant)
    assert client.get(reverse("password_change")).status_code == 200
    response = change(client, demo.DEMO_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    # Still signed in on this browser.
    assert client.get(reverse("inbox")).status_code == 200
    [event] = events(EventKind.PASSWORD_CHANGED, applicant)
    assert event.actor_id == applicant.pk
    assert event.data == {"how": "change"}
    assert NEW_PASSWORD not in str(event.data)
    client.logout()
    assert sign_in(client, "applicant", demo.DEMO_PASSWORD).status_code == 200
    assert sign_in(client, "applicant", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "old, new, message",
    [
        (WRONG, NEW_PASSWORD, "Your old password was entered incorrectly"),
        (demo.DEMO_PASSWORD, "short-1", "This password is too short"),
        (demo.DEMO_PASSWORD, "48151623424815", "This password is entirely numeric"),
        (demo.DEMO_PASSWORD, "password123", "This password is too common"),
        (demo.DEMO_PASSWORD, "applicant1", "too similar to the username"),
    ],
)
def test_password_rules_are_enforced_with_a_clear_error(client, applicant, old, new, message):
    client.force_login(applicant)
    response = change(client, old, new)
    assert response.status_code == 200
    assert message in text(response)
    assert not events(EventKind.PASSWORD_CHANGED)
    applicant.refresh_from_db()
    assert applicant.check_password(demo.DEMO_PASSWORD)


def test_the_two_new_passwords_must_match(client, applicant):
    client.force_login(applicant)
    response = change(client, demo.DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert "The two password fields didn" in text(response)
    assert not events(EventKind.PASSWORD_CHANGED)


def test_signing_in_is_needed_to_change_a_password(client, county):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_admin_password_change_goes_to_the_journaled_page(client, staff):
    client.force_login(staff)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")


# --- password reset by e-mail ------------------------------------------------------------


def test_a_password_set_in_the_admin_is_journaled(client, applicant):
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    client.force_login(root)
    url = reverse("admin:auth_user_password_change", args=[applicant.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    [event] = events(EventKind.PASSWORD_CHANGED, applicant)
    assert event.actor_id == root.pk and event.data == {"how": "admin"}


def test_two_factor_devices_cannot_be_edited_in_the_admin(client, county):
    # They change only on the journaled two-factor pages.
    root = User.objects.create_superuser("root", "root@example.org", "root-password-long")
    client.force_login(root)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_a_user_resets_their_password_by_email(client, applicant):
    User.objects.filter(pk=applicant.pk).update(email="chen@example.org")
    assert "Forgot your password?" in text(client.get(reverse("login")))
    response = client.post(reverse("password_reset"), {"email": "Chen@Example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == ["chen@example.org"]
    link = re.search(r"http://testserver(/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "Set the new password" in text(form_page)
    set_url = form_page.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "123", "new_password2": "123"})
    assert "This password is too short" in text(weak)
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")

    [event] = events(EventKind.PASSWORD_CHANGED, applicant)
    assert event.data == {"how": "reset"}
    assert event.actor_id == applicant.pk
    assert sign_in(client, "applicant", NEW_PASSWORD).status_code == 302
    # The link works once.
    client.post(reverse("logout"))
    assert "This link has been used already" in text(client.get(link, follow=True))


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_reset_mails_are_limited_per_email_and_per_address(
    client, applicant, settings, fresh_cache
):
    settings.PASSWORD_RESET_PER_EMAIL, settings.PASSWORD_RESET_PER_ADDRESS = 2, 4
    User.objects.filter(pk=applicant.pk).update(email="chen@example.org")
    for _ in range(3):  # the third looks the same to the asker, but sends nothing
        response = client.post(reverse("password_reset"), {"email": "chen@example.org"})
        assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 2
    client.post(reverse("password_reset"), {"email": "other@example.org"})
    refused = client.post(reverse("password_reset"), {"email": "chen@example.org"})
    assert refused.status_code == 200
    assert "Too many reset requests from your address" in text(refused)
    assert 'value="chen@example.org"' in text(refused)  # what was typed comes back
    other_address = client.post(
        reverse("password_reset"), {"email": "third@example.org"}, REMOTE_ADDR="10.9.9.9"
    )
    assert other_address.status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, county):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_malformed_reset_address_is_a_clear_error(client, county):
    response = client.post(reverse("password_reset"), {"email": "not an address\x00"})
    assert response.status_code == 200
    assert "Enter a valid email address" in text(response) or "Null characters" in text(response)
    assert mail.outbox == []


def test_a_forged_reset_link_is_refused(client, applicant):
    url = reverse("password_reset_confirm", args=["MQ", "forged-token"])
    response = client.get(url, follow=True)
    assert "This link has been used already or is out of date" in text(response)
    assert not events(EventKind.PASSWORD_CHANGED)


# --- idle sessions -----------------------------------------------------------------------


def test_sessions_expire_after_the_idle_time(settings):
    assert settings.SESSION_IDLE_SECONDS == 1800
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_SECONDS
    # Saved at most once a SESSION_REFRESH_SECONDS, not on every request (test_sessions_hashing).
    assert settings.SESSION_REFRESH_SECONDS == 60


def _session(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_each_request_pushes_the_expiry_and_an_idle_session_ends(client, applicant, settings):
    sign_in(client, "applicant", demo.DEMO_PASSWORD)
    # Last refreshed over a minute ago (accounts.session_refresh saves at most once a minute).
    stored = client.session
    stored["_refreshed_at"] -= settings.SESSION_REFRESH_SECONDS + 1
    stored.save()
    soon = timezone.now() + datetime.timedelta(minutes=5)
    Session.objects.filter(pk=_session(client).pk).update(expire_date=soon)
    assert client.get(reverse("inbox")).status_code == 200
    assert _session(client).expire_date > timezone.now() + datetime.timedelta(minutes=25)

    # Idle past the limit: the session is gone, the next page asks to sign in.
    past = timezone.now() - datetime.timedelta(seconds=1)
    Session.objects.filter(pk=_session(client).pk).update(expire_date=past)
    response = client.get(reverse("inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_test_clients_login_works_when_given_a_request(client, applicant):
    # axes counts per request, so authenticate() needs one; force_login needs none.
    from django.http import HttpRequest

    assert client.login(request=HttpRequest(), username="applicant", password=demo.DEMO_PASSWORD)
    assert client.get(reverse("inbox")).status_code == 200
