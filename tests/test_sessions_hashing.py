"""Passwords are hashed with Argon2id (OWASP's parameters) and older hashes upgraded at
sign-in; a session is saved at most once a minute yet still ends after the idle time."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import config.settings as production
from accounts import session_refresh
from accounts.hashers import Argon2idHasher
from accounts.models import User
from workflows import demo

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def real_hashers(settings):
    """The hashers of config/settings.py (the suite uses MD5 to stay fast)."""
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def sign_in(client, username: str, password: str = demo.DEMO_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def stored_hash(user: User) -> str:
    return User.objects.values_list("password", flat=True).get(pk=user.pk)


# --- the hasher -------------------------------------------------------------------------


def test_the_first_hasher_is_argon2id_and_pbkdf2_is_still_read():
    assert production.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in production.PASSWORD_HASHERS


def test_a_new_password_is_argon2id_with_owasps_parameters(real_hashers, applicant):
    applicant.set_password("violet-harbour-lantern-42")
    applicant.save(update_fields=["password"])
    encoded = stored_hash(applicant)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), Argon2idHasher)
    assert applicant.check_password("violet-harbour-lantern-42")
    assert not applicant.check_password("violet-harbour-lantern-43")


def test_a_pbkdf2_account_signs_in_and_its_hash_becomes_argon2id(real_hashers, client, applicant):
    old = PBKDF2PasswordHasher()
    User.objects.filter(pk=applicant.pk).update(password=old.encode(demo.DEMO_PASSWORD, old.salt()))

    refused = sign_in(client, "applicant", "not-the-password")
    assert refused.status_code == 200  # the form again, with its error
    assert stored_hash(applicant).startswith("pbkdf2_sha256$")

    response = sign_in(client, "applicant")
    assert response.status_code == 302
    assert stored_hash(applicant).startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    client.logout()
    assert sign_in(client, "applicant").status_code == 302  # and the new hash checks


def test_an_argon2_hash_with_other_parameters_is_remade_at_sign_in(real_hashers, client, applicant):
    class DjangosDefaults(Argon2idHasher):
        memory_cost, parallelism = 102400, 8

    old = DjangosDefaults()
    User.objects.filter(pk=applicant.pk).update(password=old.encode(demo.DEMO_PASSWORD, old.salt()))
    assert ",p=8$" in stored_hash(applicant)
    assert sign_in(client, "applicant").status_code == 302
    assert ",t=2,p=1$" in stored_hash(applicant)


# --- sessions saved at most once a minute ----------------------------------------------


def session_writes(queries) -> list[str]:
    writes = ("UPDATE", "INSERT")
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"] and q["sql"].lstrip().upper().startswith(writes)
    ]


def expiry(client) -> datetime.datetime:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_pages_within_a_minute_of_the_last_save_write_no_session(client, applicant):
    assert sign_in(client, "applicant").status_code == 302
    saved = expiry(client)
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("inbox")).status_code == 200
        assert session_writes(queries.captured_queries) == []
    assert expiry(client) == saved


def test_a_page_after_a_minute_pushes_the_expiry_once(client, applicant, monkeypatch, settings):
    assert sign_in(client, "applicant").status_code == 302
    soon = timezone.now() + datetime.timedelta(minutes=5)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=soon)
    later = session_refresh.time.time() + settings.SESSION_REFRESH_SECONDS + 1
    monkeypatch.setattr(session_refresh.time, "time", lambda: later)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("inbox")).status_code == 200
    assert len(session_writes(queries.captured_queries)) == 1
    pushed = expiry(client)
    assert pushed > timezone.now() + datetime.timedelta(seconds=settings.SESSION_IDLE_SECONDS - 5)

    # The next page, within the minute that follows, leaves it alone.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("inbox")).status_code == 200
    assert session_writes(queries.captured_queries) == []
    assert expiry(client) == pushed


def test_an_idle_session_still_ends(client, applicant):
    assert sign_in(client, "applicant").status_code == 302
    past = timezone.now() - datetime.timedelta(seconds=1)
    Session.objects.filter(session_key=client.session.session_key).update(expire_date=past)
    response = client.get(reverse("inbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_visitors_without_a_session_get_none_made(client, county):
    before = Session.objects.count()
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("login")).status_code == 200
    assert Session.objects.count() == before
    assert "sessionid" not in client.cookies


def test_signing_out_leaves_no_session_behind(client, applicant):
    assert sign_in(client, "applicant").status_code == 302
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert Session.objects.count() == 0


@pytest.mark.parametrize(
    ("age", "due"), [(0, False), (59, False), (60, True), (3600, True), (-120, True)]
)
def test_a_session_is_due_for_a_save_after_the_refresh_time(age, due):
    now = 1_000_000.0
    assert session_refresh.needs_refresh(now - age, now) is due
    assert session_refresh.needs_refresh(None, now) is True


# --- every path that sets a password, and the API beside the sessions -------------------


def test_the_demo_county_and_createsuperuser_hash_with_argon2id(real_hashers, db, monkeypatch):
    """load_demo's accounts (demo.create_county) and `manage.py createsuperuser` both go
    through set_password, so they take the first hasher: no new PBKDF2 hash anywhere."""
    from django.core.management import call_command

    demo.create_county()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "violet-harbour-lantern-42")
    call_command(
        "createsuperuser", interactive=False, username="root", email="root@example.cn", verbosity=0
    )
    hashes = list(User.objects.values_list("password", flat=True))
    assert len(hashes) > 5
    assert all(h.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$") for h in hashes)


def test_an_api_token_request_makes_and_writes_no_session(client, applicant):
    from accounts.api_tokens import issue_api_token

    token = issue_api_token(applicant, "ERP", ["projects:read"], by=None)[1]
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/projects/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert session_writes(queries.captured_queries) == []
    assert Session.objects.count() == 0 and "sessionid" not in client.cookies


def test_a_session_viewed_within_the_minute_still_ends_on_its_last_save(
    client, applicant, monkeypatch, settings
):
    """Pages that save nothing do not move the end: it stays at most SESSION_IDLE_SECONDS
    after the last request, and past it the session is gone."""
    assert sign_in(client, "applicant").status_code == 302
    saved = expiry(client)
    start = session_refresh.time.time()
    monkeypatch.setattr(
        session_refresh.time, "time", lambda: start + settings.SESSION_REFRESH_SECONDS - 1
    )
    assert client.get(reverse("inbox")).status_code == 200
    assert expiry(client) == saved  # no write, and the end came no later
    assert saved <= timezone.now() + datetime.timedelta(seconds=settings.SESSION_IDLE_SECONDS)
