"""The Ed25519 key that signs trail checkpoints, and the exact bytes it signs.

The private key never enters the database: it comes from the environment
(`TRAIL_SIGNING_KEY`, PEM text) or a file (`TRAIL_SIGNING_KEY_FILE`, PEM). Anyone who
can rewrite the journal can then still not sign a checkpoint of the rewritten chain.

Signed payload (documented for independent verifiers; see docs/operations.md): the UTF-8
bytes of a JSON object with exactly these keys, sorted, no spaces —

    {"hash":"<64 hex>","made_at":"YYYY-MM-DDTHH:MM:SSZ","prev":"<64 hex>","seq":<int>,
     "type":"kjjg-trail-checkpoint-v1"}

`prev` is the SHA-256 (hex) of the previous checkpoint's raw signature bytes, 64 zeros
for the first; it chains the checkpoints so a deleted one leaves a gap.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

PAYLOAD_TYPE = "kjjg-trail-checkpoint-v1"
NO_PREVIOUS = "0" * 64


class SigningKeyMissing(ImproperlyConfigured):
    """No signing key is configured; we never sign with a made-up one."""


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id(self.raw)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.raw).decode()

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verifies(self, signature: bytes, payload: bytes) -> bool:
        try:
            self.key.verify(signature, payload)
        except InvalidSignature:
            return False
        return True


def key_id(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def key_file_path() -> Path:
    path = Path(settings.TRAIL_SIGNING_KEY_FILE)
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def _private_key_from_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            _("%(where)s is not an unencrypted PEM private key: %(error)s")
            % {"where": where, "error": error}
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(
            _("%(where)s holds a key that is not Ed25519") % {"where": where}
        )
    return key


def signing_key() -> Ed25519PrivateKey:
    """The configured private key; raises SigningKeyMissing when there is none."""
    if settings.TRAIL_SIGNING_KEY:
        return _private_key_from_pem(settings.TRAIL_SIGNING_KEY.encode(), "TRAIL_SIGNING_KEY")
    path = key_file_path()
    if not path.is_file():
        raise SigningKeyMissing(
            _(
                "No trail signing key: set TRAIL_SIGNING_KEY or create %(path)s "
                "with `manage.py trail_key`."
            )
            % {"path": path}
        )
    return _private_key_from_pem(path.read_bytes(), str(path))


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new key readable by its owner only; never overwrite an existing key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting at once must not replace each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return key


def public_key_of(private_key: Ed25519PrivateKey) -> PublicKey:
    return PublicKey(private_key.public_key())


def _public_key_from_base64(text: str) -> PublicKey:
    try:
        return PublicKey(Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True)))
    except (ValueError, binascii.Error) as error:
        raise ImproperlyConfigured(
            _("TRAIL_PUBLIC_KEYS: %(key)s is not a base64 Ed25519 public key (32 bytes)")
            % {"key": text}
        ) from error


def known_public_keys() -> dict[str, PublicKey]:
    """Keys whose checkpoints we accept: the current one, then rotated ones, by key id."""
    keys: list[PublicKey] = []
    try:
        keys.append(public_key_of(signing_key()))
    except SigningKeyMissing:
        pass  # verification still works with TRAIL_PUBLIC_KEYS alone
    keys += [_public_key_from_base64(text) for text in settings.TRAIL_PUBLIC_KEYS if text]
    return {key.key_id: key for key in keys}


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def payload(*, seq: int, hash: str, made_at: str, prev: str) -> bytes:
    """The canonical bytes a checkpoint's signature covers (see the module docstring)."""
    fields = {"hash": hash, "made_at": made_at, "prev": prev, "seq": seq, "type": PAYLOAD_TYPE}
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def signature_link(signature_b64: str) -> str:
    """What the next checkpoint's `prev` must be."""
    return hashlib.sha256(base64.b64decode(signature_b64)).hexdigest()
