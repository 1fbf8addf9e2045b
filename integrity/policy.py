"""The one-vote veto: the single policy function every gate calls."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Gate, Sanction, SubjectKind, VetoCheck


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    identity: str  # normalised ID number or credit code
    name: str
    capacity: str  # why they are checked: "PI", "team member", "applicant organisation"…


@dataclass
class Verdict:
    gate: Gate
    subjects: list[Subject]
    consulted: list[int]
    blocking: list[Sanction] = field(default_factory=list)
    # Subjects with no ID number or credit code: nobody acts at a gate unidentified.
    unidentified: list[Subject] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.blocking and not self.unidentified

    def reasons(self) -> list[str]:
        names = {s.identity: s for s in self.subjects}
        lines = [
            (
                _("%(capacity)s %(name)s has no ID number on record")
                if s.kind == SubjectKind.PERSON
                else _("%(capacity)s %(name)s has no unified social credit code on record")
            )
            % {"capacity": s.capacity, "name": s.name}
            for s in self.unidentified
        ]
        for sanction in self.blocking:
            subject = names.get(sanction.subject_id)
            until = sanction.ends_on.isoformat() if sanction.ends_on else _("permanently")
            lines.append(
                _("%(capacity)s %(name)s is barred until %(until)s by decision %(decision)s")
                % {
                    "capacity": subject.capacity if subject else "",
                    "name": sanction.subject_name,
                    "until": until,
                    "decision": sanction.decision_no,
                }
            )
        return lines


class NothingToVeto(ValidationError):
    """The veto was asked for, but no effective sanction bars the project."""

    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        super().__init__(_("No effective sanction bars this project."))


class VetoRefused(Exception):
    """A gate refused: a subject is under an effective sanction, or has no identity.

    `obj` is what the check was about (a project, an inspection draw); the refusal is
    recorded against it after the action's rollback (`integrity.gates.keep_refusal`).
    """

    def __init__(self, verdict: Verdict, obj: models.Model | None = None):
        self.verdict = verdict
        self.obj = obj
        if verdict.blocking:
            message = _("One-vote veto: %(reasons)s")
        else:
            message = _(
                "Identity check refused: %(reasons)s. A verified ID number (or credit code) "
                "must be on the account before this can go ahead."
            )
        super().__init__(message % {"reasons": "; ".join(verdict.reasons())})


def check_veto(
    subjects: list[Subject], gate: Gate, on_date: datetime.date | None = None
) -> Verdict:
    """Find effective sanctions that bar any of `subjects` from `gate` on `on_date`."""
    on_date = on_date or timezone.localdate()
    keys = {(s.kind.value, s.identity) for s in subjects if s.identity}
    unidentified = [s for s in subjects if not s.identity]
    consulted: list[int] = []
    blocking: list[Sanction] = []
    if keys:
        for sanction in Sanction.objects.filter(subject_id__in={i for _k, i in keys}):
            if (sanction.subject_kind, sanction.subject_id) not in keys:
                continue  # same characters, other kind of subject
            consulted.append(sanction.pk)
            if (
                sanction.status == Sanction.Status.EFFECTIVE
                and gate.value in sanction.gates
                and sanction.starts_on <= on_date
                and (sanction.ends_on is None or sanction.ends_on >= on_date)
            ):
                blocking.append(sanction)
    return Verdict(
        gate=gate,
        subjects=list(subjects),
        consulted=consulted,
        blocking=blocking,
        unidentified=unidentified,
    )


def record_check(verdict: Verdict, obj: models.Model, checked_by, overrides=()) -> VetoCheck:
    check = VetoCheck.objects.create(
        gate=verdict.gate.value,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        subjects=[
            {"kind": s.kind.value, "id": s.identity, "name": s.name, "as": s.capacity}
            for s in verdict.subjects
        ],
        consulted=verdict.consulted,
        blocking=[s.pk for s in verdict.blocking],
        unidentified=[
            {"kind": s.kind.value, "name": s.name, "as": s.capacity} for s in verdict.unidentified
        ],
        passed=verdict.passed,
        checked_by=checked_by if getattr(checked_by, "pk", None) else None,
    )
    if overrides:
        check.overrides.add(*overrides)
    return check


def effective_sanctions_q(on_date: datetime.date) -> Q:
    return Q(status=Sanction.Status.EFFECTIVE, starts_on__lte=on_date) & (
        Q(ends_on__isnull=True) | Q(ends_on__gte=on_date)
    )
