"""Signed checkpoints: a trail rewritten with recomputed hashes is still caught."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import stat
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse

from accounts.models import Organisation
from trail.checkpoints import CheckpointRefused, make_checkpoint, verify_checkpoints
from trail.kinds import EventKind
from trail.models import ChainHead, Checkpoint, Event
from trail.services import event_hash, record, verify_chain
from trail.signing import SigningKeyMissing, key_id, payload
from trail.tasks import checkpoint_trail
from workflows import demo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def client(client, settings):
    """Pages in English (the middleware would otherwise switch the thread to Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture
def bureau_key(settings, tmp_path) -> Ed25519PrivateKey:
    """The bureau's signing key, in a file as `trail_key` would leave it."""
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "trail-signing.key"
    path.write_bytes(pem(key))
    settings.TRAIL_SIGNING_KEY = ""
    settings.TRAIL_SIGNING_KEY_FILE = str(path)
    settings.TRAIL_PUBLIC_KEYS = []
    return key


_appended = iter(range(1, 10_000))


def append_events(count: int = 3) -> None:
    """Real events through record(), as any change would append them."""
    for _ in range(count):
        n = next(_appended)
        with transaction.atomic():
            org = Organisation.objects.create(
                name=f"单位{n}", credit_code=demo.credit_code(n), kind=Organisation.Kind.ENTERPRISE
            )
            record(EventKind.PROJECT_EDITED, org, after={"name": org.name})


@pytest.fixture
def three_checkpoints(bureau_key) -> list[Checkpoint]:
    """Checkpoints at events 3, 6 and 9, as three days of the daily job would make."""
    made = []
    for _ in range(3):
        append_events(3)
        made.append(make_checkpoint())
    assert [c.seq for c in made] == [3, 6, 9]
    return made


def rewrite_event(seq: int) -> None:
    """The attacker with database access: edit one event, recompute every later hash."""
    Event.objects.filter(seq=seq).update(after={"name": "伪造单位"})
    prev_hash = Event.objects.get(seq=seq).prev_hash
    for event in Event.objects.filter(seq__gte=seq).order_by("seq"):
        event.prev_hash = prev_hash
        new_hash = event_hash(event)
        Event.objects.filter(pk=event.pk).update(prev_hash=prev_hash, hash=new_hash)
        prev_hash = new_hash
    ChainHead.objects.filter(pk=1).update(last_hash=prev_hash)


def verify_trail_fails(*args) -> str:
    err = StringIO()
    with pytest.raises(CommandError, match="trail verification failed"):
        call_command("verify_trail", *args, stdout=StringIO(), stderr=err)
    return err.getvalue()


# --- the public page --------------------------------------------------------------------


def test_anyone_sees_the_checkpoints_and_the_public_key(client, three_checkpoints, bureau_key):
    html = client.get(reverse("trail-checkpoints")).content.decode()
    newest = three_checkpoints[-1]
    assert "<title>Trail checkpoints</title>" in html
    assert newest.hash in html and newest.signature in html and newest.key_id in html
    assert base64.b64encode(raw_public(bureau_key)).decode() in html
    assert reverse("trail-checkpoints-json") in html


def test_the_download_verifies_with_the_public_key_alone(client, three_checkpoints, bureau_key):
    response = client.get(reverse("trail-checkpoints-json"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert [k["key_id"] for k in document["public_keys"]] == [key_id(raw_public(bureau_key))]

    # As an outsider would, from the documented format, with our own copy of the key.
    public_key = bureau_key.public_key()
    prev = "0" * 64
    for item in document["checkpoints"]:
        fields = {name: item[name] for name in ("hash", "made_at", "prev", "seq")}
        fields["type"] = "kjjg-trail-checkpoint-v1"
        signed = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        assert signed.decode() == item["payload"]
        signature = base64.b64decode(item["signature"])
        public_key.verify(signature, signed)  # raises InvalidSignature
        assert item["prev"] == prev
        prev = hashlib.sha256(signature).hexdigest()
    assert len(document["checkpoints"]) == 3


# --- what a rewrite looks like ----------------------------------------------------------


def test_a_rewrite_with_recomputed_hashes_fools_the_chain_but_not_the_checkpoint(
    three_checkpoints,
):
    first, second, third = three_checkpoints
    rewrite_event(5)  # between the first checkpoint (event 3) and the second (event 6)
    assert verify_chain() == []

    problems = [p.message for p in verify_checkpoints()]
    assert f"checkpoint #{second.pk} (event 6, " in problems[0]
    assert "event 6's hash differs — the trail was rewritten before this checkpoint" in problems[0]
    assert f"after checkpoint #{first.pk} (event 3, " in problems[0]
    assert f"1 later checkpoint(s), up to checkpoint #{third.pk} (event 9" in problems[1]
    assert len(problems) == 2


def test_verify_trail_exits_1_naming_the_broken_checkpoint(three_checkpoints):
    rewrite_event(8)
    report = verify_trail_fails()
    third = three_checkpoints[2]
    assert f"checkpoint #{third.pk} (event 9, " in report
    assert "event 9's hash differs" in report


def test_an_edit_without_recomputed_hashes_names_the_checkpoint_too(three_checkpoints):
    Event.objects.filter(seq=2).update(actor_name="someone else")
    report = verify_trail_fails()
    assert "event 2: content does not match its hash (edited)" in report
    assert f"checkpoint #{three_checkpoints[0].pk} (event 3, " in report
    assert "the chain up to event 3 no longer verifies (first at event 2)" in report


def test_the_daily_job_refuses_to_sign_a_rewritten_trail(three_checkpoints):
    rewrite_event(8)
    append_events(1)
    with pytest.raises(CheckpointRefused, match="no longer matches event 9"):
        make_checkpoint()
    assert Checkpoint.objects.count() == 3


def test_a_checkpoint_signed_by_another_key_is_reported(three_checkpoints, bureau_key):
    append_events(1)
    intruder = Ed25519PrivateKey.generate()
    last = three_checkpoints[-1]
    prev = hashlib.sha256(base64.b64decode(last.signature)).hexdigest()
    made_at = "2030-01-01T00:00:00Z"
    signature = intruder.sign(
        payload(seq=10, hash=Event.objects.get(seq=10).hash, made_at=made_at, prev=prev)
    )
    forged = Checkpoint.objects.create(
        seq=10,
        hash=Event.objects.get(seq=10).hash,
        made_at=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        key_id=key_id(raw_public(bureau_key)),  # claims to be ours
        signature=base64.b64encode(signature).decode(),
        prev=prev,
    )
    problems = [p.message for p in verify_checkpoints()]
    assert problems == [
        f"checkpoint #{forged.pk} (event 10, 2030-01-01T00:00:00Z): the signature does not "
        f"verify with key {forged.key_id} (forged or altered)"
    ]
    with pytest.raises(CheckpointRefused, match="does not verify"):
        make_checkpoint()


def test_a_checkpoint_under_an_unknown_key_is_reported(three_checkpoints):
    intruder = Ed25519PrivateKey.generate()
    Checkpoint.objects.filter(pk=three_checkpoints[0].pk).update(
        key_id=key_id(raw_public(intruder))
    )
    problems = [p.message for p in verify_checkpoints()]
    assert "which is not one of ours" in problems[0]


def test_a_deleted_middle_checkpoint_is_reported(three_checkpoints):
    first, second, third = three_checkpoints
    Checkpoint.objects.filter(pk=second.pk).delete()  # the queryset skips Model.delete()
    report = verify_trail_fails()
    assert f"checkpoint #{third.pk} (event 9, " in report
    assert f"does not follow checkpoint #{first.pk} (event 3, " in report


def test_a_kept_download_catches_the_newest_checkpoints_being_deleted(
    client, three_checkpoints, tmp_path
):
    kept = tmp_path / "trail-checkpoints.json"
    kept.write_bytes(client.get(reverse("trail-checkpoints-json")).content)
    call_command("verify_trail", "--checkpoints", str(kept), stdout=StringIO())

    # Deleting the newest checkpoint leaves no gap in the database, then the trail is
    # rewritten after the one left: only the kept file can tell.
    Checkpoint.objects.filter(pk=three_checkpoints[2].pk).delete()
    rewrite_event(8)
    call_command("verify_trail", stdout=StringIO())
    report = verify_trail_fails("--checkpoints", str(kept))
    assert f"checkpoint #{three_checkpoints[2].pk} (event 9, " in report
    assert "from the file is not in the database" in report
    assert "event 9's hash differs" in report


def test_checkpoints_are_append_only(three_checkpoints):
    checkpoint = three_checkpoints[0]
    checkpoint.hash = "f" * 64
    with pytest.raises(RuntimeError, match="append-only"):
        checkpoint.save()
    with pytest.raises(RuntimeError, match="append-only"):
        checkpoint.delete()


# --- the key ------------------------------------------------------------------------


def test_without_a_key_nothing_is_signed_or_stored(settings, tmp_path):
    settings.TRAIL_SIGNING_KEY = ""
    settings.TRAIL_SIGNING_KEY_FILE = str(tmp_path / "absent.key")
    append_events(2)
    with pytest.raises(SigningKeyMissing, match="No trail signing key"):
        make_checkpoint()
    with pytest.raises(CommandError, match="No trail signing key: set TRAIL_SIGNING_KEY"):
        call_command("checkpoint_trail", stdout=StringIO())
    assert not Checkpoint.objects.exists()


def test_trail_key_creates_a_private_key_file_once(settings, tmp_path):
    path = tmp_path / "keys" / "trail-signing.key"
    settings.TRAIL_SIGNING_KEY = ""
    settings.TRAIL_SIGNING_KEY_FILE = str(path)
    out = StringIO()
    call_command("trail_key", stdout=out)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    public = serialization.load_pem_private_key(first, None).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert f"key id: {key_id(raw)}" in out.getvalue()

    quiet = StringIO()
    call_command("trail_key", "--quiet", stdout=quiet)
    assert path.read_bytes() == first and quiet.getvalue() == ""


def test_a_key_in_the_environment_signs_too(settings, tmp_path):
    key = Ed25519PrivateKey.generate()
    settings.TRAIL_SIGNING_KEY = pem(key).decode()
    settings.TRAIL_SIGNING_KEY_FILE = str(tmp_path / "absent.key")
    append_events(1)
    assert make_checkpoint().key_id == key_id(raw_public(key))
    assert verify_checkpoints() == []


def test_checkpoints_of_a_rotated_key_still_verify(client, settings, three_checkpoints, bureau_key):
    new_key = Ed25519PrivateKey.generate()
    settings.TRAIL_SIGNING_KEY = pem(new_key).decode()
    settings.TRAIL_PUBLIC_KEYS = [base64.b64encode(raw_public(bureau_key)).decode()]
    append_events(1)
    newest = make_checkpoint()
    assert newest.key_id == key_id(raw_public(new_key)) and newest.seq == 10
    assert verify_checkpoints() == []
    html = client.get(reverse("trail-checkpoints")).content.decode()
    assert newest.key_id in html and three_checkpoints[0].key_id in html

    settings.TRAIL_PUBLIC_KEYS = []  # forgetting the old key makes its checkpoints unverifiable
    assert len(verify_checkpoints()) == 3


# --- the daily job ------------------------------------------------------------------


def test_the_daily_job_is_idempotent_and_chains(settings, bureau_key):
    assert settings.CELERY_BEAT_SCHEDULE["checkpoint-trail"]["task"] == (
        "trail.tasks.checkpoint_trail"
    )
    append_events(2)
    assert checkpoint_trail.delay().get() == 2
    assert checkpoint_trail.delay().get() == 2
    assert Checkpoint.objects.count() == 1

    append_events(1)
    call_command("checkpoint_trail", stdout=StringIO())
    first, second = Checkpoint.objects.order_by("seq")
    assert second.seq == 3
    assert second.prev == hashlib.sha256(base64.b64decode(first.signature)).hexdigest()
    out = StringIO()
    call_command("verify_trail", stdout=out)
    assert "2 signed checkpoint(s) match, the newest at event 3" in out.getvalue()
