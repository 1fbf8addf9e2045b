"""Signed checkpoints of the chain head, and their verification.

A checkpoint says "on this day event N had hash H", signed with a key outside the
database. Whoever rewrites an event and recomputes every later hash still cannot make
the event at N carry H again, nor sign a new checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ChainHead, Checkpoint, Event
from .services import GENESIS, Problem, Walk, walk_chain
from .signing import (
    NO_PREVIOUS,
    PAYLOAD_TYPE,
    PublicKey,
    format_time,
    known_public_keys,
    payload,
    public_key_of,
    signature_link,
    signing_key,
)


class CheckpointRefused(Exception):
    """The journal no longer extends the last checkpoint; signing it would bless a rewrite."""


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint as stored, or as read back from a downloaded JSON file."""

    number: int | None
    seq: int
    hash: str
    made_at: str
    prev: str
    key_id: str
    signature: str

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> SignedCheckpoint:
        return cls(
            number=checkpoint.pk,
            seq=checkpoint.seq,
            hash=checkpoint.hash,
            made_at=format_time(checkpoint.made_at),
            prev=checkpoint.prev,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> SignedCheckpoint:
        try:
            return cls(
                number=item.get("number"),
                seq=int(item["seq"]),
                hash=str(item["hash"]),
                made_at=str(item["made_at"]),
                prev=str(item["prev"]),
                key_id=str(item["key_id"]),
                signature=str(item["signature"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(_("not a checkpoint: %(item)s") % {"item": item}) from error

    def payload(self) -> bytes:
        return payload(seq=self.seq, hash=self.hash, made_at=self.made_at, prev=self.prev)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "seq": self.seq,
            "hash": self.hash,
            "made_at": self.made_at,
            "prev": self.prev,
            "key_id": self.key_id,
            "signature": self.signature,
            "payload": self.payload().decode(),
        }

    @property
    def label(self) -> str:
        return _("checkpoint #%(number)s (event %(seq)s, %(made_at)s)") % {
            "number": self.number if self.number is not None else "?",
            "seq": self.seq,
            "made_at": self.made_at,
        }


def stored_checkpoints() -> list[SignedCheckpoint]:
    return [SignedCheckpoint.of(c) for c in Checkpoint.objects.order_by("seq")]


# --- making -----------------------------------------------------------------------------


def make_checkpoint() -> Checkpoint:
    """Sign the current head; returns the last checkpoint when the head has not moved."""
    private_key = signing_key()  # first: without a key nothing is read, locked or stored
    public_key = public_key_of(private_key)
    with transaction.atomic():
        # The lock gives a head whose seq and hash belong together and serialises makers.
        ChainHead.objects.get_or_create(pk=1)
        head = ChainHead.objects.select_for_update().get(pk=1)
        last = Checkpoint.objects.order_by("-seq").first()
        # Checked even when the head has not moved: a forged last one must not pass.
        problem = _why_head_does_not_extend(last, head)
        if problem:
            raise CheckpointRefused(
                _("Refusing to sign the trail head (event %(seq)s): %(problem)s")
                % {"seq": head.seq, "problem": problem}
            )
        if last and (last.seq, last.hash) == (head.seq, head.last_hash):
            return last
        made_at = timezone.now().replace(microsecond=0)  # whole seconds: a simple payload
        prev = signature_link(last.signature) if last else NO_PREVIOUS
        body = payload(seq=head.seq, hash=head.last_hash, made_at=format_time(made_at), prev=prev)
        checkpoint = Checkpoint(
            seq=head.seq,
            hash=head.last_hash,
            made_at=made_at,
            key_id=public_key.key_id,
            signature=_b64(private_key.sign(body)),
            prev=prev,
        )
        checkpoint.save(force_insert=True)
        return checkpoint


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _why_head_does_not_extend(last: Checkpoint | None, head: ChainHead) -> str | None:
    """Check only what the last checkpoint does not already vouch for: cheap every day."""
    if last is None:
        start_seq, start_hash = 0, GENESIS
    else:
        signed = SignedCheckpoint.of(last)
        problems = _signature_problems([signed], known_public_keys())
        if problems:
            return problems[0].message
        start_seq, start_hash = last.seq, last.hash
        stored = _stored_hash(start_seq)
        if stored != start_hash:
            return _("%(label)s no longer matches event %(seq)s; run verify_trail") % {
                "label": signed.label,
                "seq": start_seq,
            }
    walk = walk_chain(start_seq, start_hash, head.seq)
    if walk.first_break is not None or walk.last_hash != head.last_hash:
        return _("the events after event %(seq)s do not chain up to the head; run verify_trail") % {
            "seq": start_seq
        }
    return None


# --- walking the journal ----------------------------------------------------------------


def _stored_hash(seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    return Event.objects.filter(seq=seq).values_list("hash", flat=True).first()


def journal_walk(*groups: Iterable[SignedCheckpoint]) -> Walk:
    """One walk from the first event to the newest checkpointed one (or the head),
    keeping the hashes every group of checkpoints needs: verify_trail walks once."""
    seqs = {entry.seq for group in groups for entry in group}
    return walk_chain(wanted=seqs)


# --- verifying --------------------------------------------------------------------------


def verify_checkpoints(
    checkpoints: Iterable[SignedCheckpoint] | None = None,
    public_keys: dict[str, PublicKey] | None = None,
    walk: Walk | None = None,
) -> list[Problem]:
    """Check signatures, the checkpoint chain, and that the journal still matches each one.

    Without arguments: the stored checkpoints against the configured public keys. `walk`
    is a walk of the journal already made (`journal_walk`) that kept these hashes.
    """
    entries = sorted(
        stored_checkpoints() if checkpoints is None else checkpoints,
        key=lambda c: (c.seq, c.number or 0),
    )
    keys = known_public_keys() if public_keys is None else public_keys
    return (
        _signature_problems(entries, keys)
        + _link_problems(entries)
        + _journal_problems(entries, walk or journal_walk(entries))
    )


def _signature_problems(
    entries: list[SignedCheckpoint], keys: dict[str, PublicKey]
) -> list[Problem]:
    problems = []
    for entry in entries:
        key = keys.get(entry.key_id)
        if key is None:
            message = _(
                "%(label)s is signed by key %(key)s, which is not one of ours "
                "(forged, or a rotated key missing from TRAIL_PUBLIC_KEYS)"
            )
        elif not key.verifies(_signature_bytes(entry), entry.payload()):
            message = _(
                "%(label)s: the signature does not verify with key %(key)s (forged or altered)"
            )
        else:
            continue
        problems.append(Problem(entry.seq, message % {"label": entry.label, "key": entry.key_id}))
    return problems


def _signature_bytes(entry: SignedCheckpoint) -> bytes:
    try:
        return base64.b64decode(entry.signature, validate=True)
    except (binascii.Error, ValueError):
        return b""


def _link_problems(entries: list[SignedCheckpoint]) -> list[Problem]:
    problems = []
    previous: SignedCheckpoint | None = None
    for entry in entries:
        if previous is None and entry.prev != NO_PREVIOUS:
            message = _("%(label)s follows a checkpoint that is gone (earlier checkpoints deleted)")
        elif previous is not None and entry.prev != _link_of(previous):
            message = _(
                "%(label)s does not follow %(previous)s: a checkpoint between them "
                "was deleted or replaced"
            )
        else:
            message = None
        if message:
            labels = {"label": entry.label, "previous": previous.label if previous else ""}
            problems.append(Problem(entry.seq, message % labels))
        previous = entry
    return problems


def _link_of(entry: SignedCheckpoint) -> str | None:
    try:
        return signature_link(entry.signature)
    except (binascii.Error, ValueError):
        return None


def _journal_problems(entries: list[SignedCheckpoint], walk: Walk) -> list[Problem]:
    """Name the first checkpoint the journal no longer matches; later ones follow from it."""
    if not entries:
        return []
    walk.hashes[0] = GENESIS
    intact: SignedCheckpoint | None = None
    broken: list[tuple[SignedCheckpoint, str]] = []
    for entry in entries:
        reason = _mismatch(entry, walk)
        if reason is None and not broken:
            intact = entry
        elif reason is not None:
            broken.append((entry, reason))
    if not broken:
        return []
    first, reason = broken[0]
    message = _(
        "%(label)s no longer matches: %(reason)s — the trail was rewritten before this checkpoint"
    ) % {
        "label": first.label,
        "reason": reason,
    }
    if intact:
        message += " " + _("(and after %(label)s, which still matches)") % {"label": intact.label}
    problems = [Problem(first.seq, message)]
    if len(broken) > 1:
        problems.append(
            Problem(
                broken[-1][0].seq,
                _("%(count)s later checkpoint(s), up to %(label)s, no longer match either")
                % {"count": len(broken) - 1, "label": broken[-1][0].label},
            )
        )
    return problems


def _mismatch(entry: SignedCheckpoint, walk: Walk) -> str | None:
    stored = walk.hashes.get(entry.seq)
    if stored is None:
        return _("event %(seq)s is missing") % {"seq": entry.seq}
    if stored != entry.hash:
        return _("event %(seq)s's hash differs") % {"seq": entry.seq}
    if walk.first_break is not None and walk.first_break <= entry.seq:
        return _("the chain up to event %(seq)s no longer verifies (first at event %(first)s)") % {
            "seq": entry.seq,
            "first": walk.first_break,
        }
    return None


# --- the public file --------------------------------------------------------------------


def public_document() -> dict[str, Any]:
    """Everything an outsider needs to verify the checkpoints without our code."""
    return {
        "format": (
            f"Each signature is Ed25519 (base64) over the UTF-8 JSON, keys sorted, no spaces, "
            f'of {{"hash","made_at","prev","seq","type":"{PAYLOAD_TYPE}"}}; '
            f"prev is the SHA-256 hex of the previous checkpoint's signature bytes "
            f"({NO_PREVIOUS[:8]}… for the first); key_id is the first 16 hex of the SHA-256 "
            f"of the raw 32-byte public key."
        ),
        "public_keys": [
            {"key_id": key.key_id, "public_key": key.base64, "pem": key.pem}
            for key in known_public_keys().values()
        ],
        "checkpoints": [entry.as_json() for entry in stored_checkpoints()],
    }


def read_checkpoints_file(path: Path) -> list[SignedCheckpoint]:
    """Checkpoints from a file as downloaded from the public page (or a bare list)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        message = _("cannot read %(path)s: %(error)s") % {"path": path, "error": error}
        raise ValueError(message) from error
    items = document.get("checkpoints") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ValueError(_("%(path)s has no list of checkpoints") % {"path": path})
    return [SignedCheckpoint.from_json(item) for item in items]


def compare_with_database(entries: Iterable[SignedCheckpoint]) -> list[Problem]:
    """Checkpoints someone kept must still be stored: deleting the newest leaves no gap."""
    stored = {c.seq: c.signature for c in Checkpoint.objects.only("seq", "signature")}
    return [
        Problem(
            entry.seq,
            _("%(label)s from the file is not in the database (deleted or replaced)")
            % {"label": entry.label},
        )
        for entry in entries
        if stored.get(entry.seq) != entry.signature
    ]
