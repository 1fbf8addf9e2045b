"""Changing an expert's profile: the expert on their page, staff in the admin, one service.

The profile decides whom the draw may pick and whom it must avoid, so every change is
journaled (EXPERT_PROFILE_CHANGED) with the profile before and after.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.identity import normalise_id_number
from accounts.models import Organisation
from accounts.roles import Role, has_role
from accounts.text import check_text
from trail.kinds import EventKind
from trail.services import record

from .experts import ExpertField, ExpertProfile, ExpertRelation

MAX_RELATIONS = 50


def may_edit_profile(by, expert) -> bool:
    """The expert themselves, or bureau staff (the admin)."""
    if by is None or not by.is_authenticated:
        return False
    if by.is_superuser or has_role(by, Role.STAFF):
        return True
    return by.pk == expert.pk and has_role(by, Role.EXPERT)


def profile_of(expert) -> ExpertProfile:
    """The expert's profile as stored, or a new (unsaved) one."""
    return ExpertProfile.objects.filter(user=expert).first() or ExpertProfile(user=expert)


def profile_snapshot(profile: ExpertProfile | None) -> dict:
    if profile is None or profile.pk is None:
        return {}
    return {
        "organisation": profile.organisation.credit_code if profile.organisation else None,
        "fields": list(profile.fields),
        "title": profile.title,
        "phone": profile.phone,
        "email": profile.email,
        "active": profile.active,
        "relations": [
            [r.kind, r.organisation.credit_code if r.organisation else r.id_number, r.name, r.note]
            for r in profile.relations.select_related("organisation")
        ],
    }


def field_problems(fields) -> list[str]:
    if not isinstance(fields, list) or any(f not in ExpertField.values for f in fields):
        return [_("Choose the fields from the list.")]
    if len(set(fields)) != len(fields):
        return [_("A field is listed twice.")]
    return []


def clean_relation(relation: dict) -> ExpertRelation:
    """One declared relation: an organisation, or a person's ID number and name."""
    kind = relation.get("kind")
    if kind not in ExpertRelation.Kind.values:
        raise ValidationError(_("Choose the kind of relation."))
    organisation = relation.get("organisation")
    number = (relation.get("id_number") or "").strip()
    name = (relation.get("name") or "").strip()
    note = (relation.get("note") or "").strip()
    check_text(name, label=_("Name"), max_length=50, multiline=False)
    check_text(note, label=_("Note"), max_length=200, multiline=False)
    if organisation is not None and number:
        raise ValidationError(_("A relation is either an organisation or a person, not both."))
    if organisation is not None:
        if not isinstance(organisation, Organisation) or organisation.pk is None:
            raise ValidationError(_("Choose a registered organisation."))
        return ExpertRelation(kind=kind, organisation=organisation, name="", note=note)
    if not number:
        raise ValidationError(
            _("Give the organisation, or the person's ID number and name, of each relation.")
        )
    number = normalise_id_number(number)
    if not name:
        raise ValidationError(
            _("Give the name of the person with ID number %(n)s.") % {"n": number}
        )
    return ExpertRelation(kind=kind, id_number=number, name=name, note=note)


@transaction.atomic
def save_expert_profile(profile: ExpertProfile, relations: list[dict], by) -> ExpertProfile:
    """Save `profile` (changed in memory) and replace its relations with `relations`."""
    expert = profile.user
    if not may_edit_profile(by, expert):
        raise PermissionDenied(_("Only the expert or bureau staff change an expert profile."))
    if not has_role(expert, Role.EXPERT):
        raise ValidationError(_("%(name)s is not an expert reviewer.") % {"name": expert})
    errors: dict[str, list[str]] = {}
    if problems := field_problems(profile.fields):
        errors["fields"] = problems
    for name, label, limit in (
        ("title", _("Professional title"), 50),
        ("phone", _("Telephone"), 30),
    ):
        try:
            check_text(getattr(profile, name) or "", label=label, max_length=limit, multiline=False)
        except ValidationError as error:
            errors[name] = error.messages
    if profile.email:
        try:
            validate_email(profile.email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if len(relations) > MAX_RELATIONS:
        errors["relations"] = [_("At most %(n)d relations.") % {"n": MAX_RELATIONS}]
    cleaned = []
    for relation in relations[:MAX_RELATIONS]:
        try:
            cleaned.append(clean_relation(relation))
        except ValidationError as error:
            errors.setdefault("relations", []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    stored = ExpertProfile.objects.select_for_update().filter(user=expert).first()
    before = profile_snapshot(stored)
    if stored is not None:
        profile.pk = stored.pk  # one profile per expert, whatever the caller built
    profile.save()
    profile.relations.all().delete()
    for relation in cleaned:
        relation.profile = profile
    ExpertRelation.objects.bulk_create(cleaned)
    after = profile_snapshot(profile)
    if before != after:
        record(
            EventKind.EXPERT_PROFILE_CHANGED,
            profile,
            actor=by,
            before=before,
            after=after,
            data={"new": stored is None},
        )
    return profile
