"""The expert pool (专家库): who reviews, in which fields, whom they must avoid, and the
seeded draws of reviewers for a project.

An expert's legal identity is their account's real name and ID number; the profile adds
what the draw needs. Profiles change only through funding.expert_profiles, draws only
through funding.expert_draw.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation

from .models import Project


class ExpertField(models.TextChoices):
    """The fields of the pool, a controlled list (the draw matches on them)."""

    AGRICULTURE = "agriculture", _("Agriculture (农业)")
    MANUFACTURING = "manufacturing", _("Manufacturing (制造)")
    INFORMATION = "information", _("Information technology (信息)")
    BIOMEDICINE = "biomedicine", _("Biomedicine (生物医药)")
    ENVIRONMENT = "environment", _("Resources and environment (资源环境)")
    MATERIALS = "materials", _("Materials (新材料)")
    ENERGY = "energy", _("Energy (能源)")
    SOCIAL = "social", _("Social development (社会发展)")
    MANAGEMENT = "management", _("Management and finance (管理与财务)")


class ExpertProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="expert_profile",
        verbose_name=_("expert"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    # ExpertField values; a list so that one expert may cover several fields.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    title = models.CharField(_("professional title (职称)"), max_length=50, blank=True)
    phone = models.CharField(_("telephone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("active in the pool"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("expert profile")
        verbose_name_plural = _("expert profiles")
        ordering = ["user_id"]

    def __str__(self) -> str:
        return str(self.user)

    def field_labels(self) -> list[str]:
        labels = dict(ExpertField.choices)
        return [str(labels[f]) for f in self.fields if f in labels]


class ExpertRelation(models.Model):
    """A relation the expert declared and the draw avoids: an organisation or a person."""

    class Kind(models.TextChoices):
        FORMER_EMPLOYER = "former_employer", _("Former employer (前工作单位)")
        CO_AUTHOR = "co_author", _("Co-author (合作者)")
        KIN = "kin", _("Kin (亲属)")
        OTHER = "other", _("Other (其他)")

    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(_("relation"), max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("declared relation")
        verbose_name_plural = _("declared relations")
        ordering = ["pk"]
        constraints = [
            # Either an organisation or a person, never both, never neither.
            models.CheckConstraint(
                condition=(Q(organisation__isnull=False) & Q(id_number=""))
                | (Q(organisation__isnull=True) & ~Q(id_number="")),
                name="expert_relation_one_subject",
            )
        ]

    def __str__(self) -> str:
        return str(self.organisation or self.name or self.id_number)


class ReviewDraw(models.Model):
    """A seeded draw of reviewers for one project: repeatable from `seed` over `pool`."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="review_draws", verbose_name=_("project")
    )
    seed = models.CharField(_("seed"), max_length=64)
    fields = models.JSONField(_("fields matched"), default=list, blank=True)
    size = models.PositiveSmallIntegerField(_("experts drawn"))
    # Eligible experts' ids in id order, and who was left out and why ({reason: [ids]}).
    pool = models.JSONField(_("pool"), default=list)
    excluded = models.JSONField(_("left out"), default=dict, blank=True)
    picks = models.JSONField(_("drawn"), default=list)
    # How many replacements were drawn from this pool: the counter seeds the next one.
    replacements = models.PositiveIntegerField(default=0)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review draw")
        ordering = ["drawn_at", "pk"]
