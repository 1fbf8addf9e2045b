"""Forms of the expert pool and the reviews: the expert's profile, the draw, declaring no
conflict, declining, the review per criterion, the opinions released to the applicant,
and a replacement picked by hand."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.identity import normalise_credit_code, normalise_id_number
from accounts.models import Organisation
from accounts.text import BoundedFormMixin
from funding.expert_draw import MAX_DRAW, SEED_MAX, default_fields
from funding.experts import ExpertField, ExpertProfile, ExpertRelation
from funding.reviews import criteria_of, submitted_reviews

from .forms import experts

RELATION_HELP = _(
    "One per line: “relation, organisation (name or credit code), note” or “relation, "
    "ID number, name, note”. Relations: 前工作单位 (former employer), 合作者 (co-author), "
    "亲属 (kin), 其他 (other)."
)


def _kind_words() -> dict[str, str]:
    """Every way to write a kind of relation: its value, its label and each half of it."""
    words = {}
    for value, label in ExpertRelation.Kind.choices:
        label = str(label)
        parts = {value, value.replace("_", " "), value.replace("_", "-"), label}
        if "(" in label:
            parts |= {label[: label.find("(")].strip(), label[label.find("(") + 1 : -1]}
        words.update({p.casefold(): value for p in parts if p})
    return words


def _organisation(text: str) -> Organisation | None:
    try:
        found = Organisation.objects.filter(credit_code=normalise_credit_code(text)).first()
    except ValidationError:
        found = None
    return found or Organisation.objects.filter(name=text).first()


def parse_relations(text: str) -> list[dict]:
    relations, errors, words = [], [], _kind_words()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        kind = words.get(parts[0].casefold())
        if len(parts) < 2 or not parts[1]:
            errors.append(_("Line %(n)d: write the relation and whom it is with.") % {"n": n})
        elif kind is None:
            errors.append(
                _("Line %(n)d: the relation is 前工作单位, 合作者, 亲属 or 其他.") % {"n": n}
            )
        elif _looks_like_person(parts[1]):
            try:
                number = normalise_id_number(parts[1])
            except ValidationError as error:
                errors.append(_("Line %(n)d: %(e)s") % {"n": n, "e": " ".join(error.messages)})
                continue
            name = parts[2] if len(parts) > 2 else ""
            note = ",".join(parts[3:])
            relations.append({"kind": kind, "id_number": number, "name": name, "note": note})
        elif (organisation := _organisation(parts[1])) is not None:
            note = ",".join(parts[2:])
            relations.append({"kind": kind, "organisation": organisation, "note": note})
        else:
            errors.append(
                _("Line %(n)d: no registered organisation is called or coded “%(t)s”.")
                % {"n": n, "t": parts[1][:50]}
            )
    if errors:
        raise ValidationError(errors)
    return relations


def _looks_like_person(text: str) -> bool:
    # 17 digits and a check character (any script's digits are normalised later).
    return len(text) == 18 and sum(c.isdigit() for c in text) >= 17


def relations_text(profile: ExpertProfile) -> str:
    lines = []
    for r in profile.relations.select_related("organisation") if profile.pk else []:
        who = [r.organisation.name] if r.organisation else [r.id_number, r.name]
        lines.append(", ".join([r.get_kind_display(), *who, *([r.note] if r.note else [])]))
    return "\n".join(lines)


class ExpertProfileForm(BoundedFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.exclude(kind=Organisation.Kind.AUDIT_FIRM),
        required=False,
    )
    expert_fields = forms.MultipleChoiceField(
        label=_("Fields"), choices=ExpertField.choices, widget=forms.CheckboxSelectMultiple
    )
    title = forms.CharField(label=_("Professional title (职称)"), max_length=50, required=False)
    phone = forms.CharField(label=_("Telephone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    active = forms.BooleanField(
        label=_("Available for reviews (active in the pool)"), required=False
    )
    relations = forms.CharField(
        label=_("Relations to avoid (回避)"),
        help_text=RELATION_HELP,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    @classmethod
    def initial_from(cls, profile: ExpertProfile) -> dict:
        if profile.pk is None:
            return {"active": True}
        return {
            "organisation": profile.organisation_id,
            "expert_fields": profile.fields,
            "title": profile.title,
            "phone": profile.phone,
            "email": profile.email,
            "active": profile.active,
            "relations": relations_text(profile),
        }

    def clean_relations(self) -> list[dict]:
        return parse_relations(self.cleaned_data["relations"])

    def apply_to(self, profile: ExpertProfile) -> list[dict]:
        """Set the profile's fields from the form; returns the relations."""
        data = self.cleaned_data
        profile.organisation = data["organisation"]
        profile.fields = list(data["expert_fields"])
        for name in ("title", "phone", "email", "active"):
            setattr(profile, name, data[name])
        return data["relations"]


class DrawForm(BoundedFormMixin, forms.Form):
    expert_fields = forms.MultipleChoiceField(
        label=_("Fields to match (none ticked: any field)"),
        choices=ExpertField.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    size = forms.IntegerField(label=_("Experts to draw"), min_value=1, max_value=MAX_DRAW)
    seed = forms.CharField(
        label=_("Seed (empty: a random one, kept with the draw)"),
        required=False,
        max_length=SEED_MAX,
    )

    def __init__(self, *args, project=None, **kwargs):
        kwargs.setdefault("prefix", "draw")
        super().__init__(*args, **kwargs)
        self.fields["size"].initial = settings.MIN_REVIEW_EXPERTS
        if project is not None:
            self.fields["expert_fields"].initial = default_fields(project)


class DeclareForm(BoundedFormMixin, forms.Form):
    no_conflict = forms.BooleanField(
        label=_(
            "I declare that I have no conflict of interest with this application: I do not "
            "work for the applicant or a partner, and I am not related to the PI or the team "
            "(回避声明)."
        ),
        error_messages={"required": _("Tick the declaration, or decline the review.")},
    )


class DeclineForm(BoundedFormMixin, forms.Form):
    conflict = forms.BooleanField(
        label=_("I have a conflict of interest with this application"), required=False
    )
    reason = forms.CharField(
        label=_("Reason for declining (or the conflict)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class ReviewForm(BoundedFormMixin, forms.Form):
    """A score per criterion of the call (with its guidance), or one score when the call
    has none, and the opinion. The service computes the weighted total."""

    def __init__(self, *args, project=None, declared: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria_of(project) if project is not None else []
        if not declared:  # the declaration may come with the review (one step, as before)
            self.fields["no_conflict"] = forms.BooleanField(
                label=DeclareForm.base_fields["no_conflict"].label, required=False
            )
        for n, criterion in enumerate(self.criteria, start=1):
            self.fields[f"criterion_{n}"] = forms.IntegerField(
                label=_("%(name)s (weight %(weight)s), 0–100")
                % {"name": criterion["name"], "weight": criterion["weight"]},
                help_text=criterion.get("guidance", ""),
                min_value=0,
                max_value=100,
            )
        if not self.criteria:
            self.fields["score"] = forms.IntegerField(
                label=_("Score (0-100)"), min_value=0, max_value=100
            )
        self.fields["opinion"] = forms.CharField(
            label=_("Opinion"), widget=forms.Textarea(attrs={"rows": 4})
        )

    def review_kwargs(self, declared: bool) -> dict:
        data = self.cleaned_data
        scores = {c["name"]: data[f"criterion_{n}"] for n, c in enumerate(self.criteria, start=1)}
        return {
            "score": data.get("score"),
            "scores": scores or None,
            "opinion": data["opinion"],
            "no_conflict": declared or bool(data.get("no_conflict")),
        }


class ReleaseForm(BoundedFormMixin, forms.Form):
    """Per review: whether to release it, and the anonymised text the applicant reads."""

    def __init__(self, *args, project=None, **kwargs):
        kwargs.setdefault("prefix", "release")
        super().__init__(*args, **kwargs)
        self.reviews = list(submitted_reviews(project)) if project is not None else []
        for number, review in enumerate(self.reviews, start=1):
            self.fields[f"release_{review.pk}"] = forms.BooleanField(
                label=_("Release the opinion of expert %(n)d") % {"n": number},
                required=False,
                initial=bool(review.released_at),
            )
            self.fields[f"text_{review.pk}"] = forms.CharField(
                label=_("Text shown to the applicant (no names, no scores)"),
                required=False,
                initial=review.released_opinion or review.opinion,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean(self):
        cleaned = super().clean()
        for review in self.reviews:
            release = cleaned.get(f"release_{review.pk}")
            if release and not (cleaned.get(f"text_{review.pk}") or "").strip():
                self.add_error(f"text_{review.pk}", _("Write the text to release, or untick it."))
        return cleaned

    def texts(self) -> dict[int, str]:
        data = self.cleaned_data
        return {
            r.pk: (data[f"text_{r.pk}"] if data[f"release_{r.pk}"] else "") for r in self.reviews
        }


class PickReplacementForm(BoundedFormMixin, forms.Form):
    expert = forms.ModelChoiceField(label=_("Expert"), queryset=experts())
    reason = forms.CharField(
        label=_("Reason for picking by hand"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "pick")
        super().__init__(*args, **kwargs)
