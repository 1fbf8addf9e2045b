from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .identity import normalise_credit_code, normalise_id_number


class Organisation(models.Model):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        UNIVERSITY = "university", _("University")
        INSTITUTE = "institute", _("Research institute")
        BUREAU = "bureau", _("Bureau")
        AUDIT_FIRM = "audit_firm", _("Audit firm")

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.credit_code = normalise_credit_code(self.credit_code)


class User(AbstractUser):
    real_name = models.CharField(_("real name"), max_length=50, blank=True)
    # Not unique: one person may hold several accounts; the integrity register keys on this.
    id_number = models.CharField(_("ID number"), max_length=18, blank=True, db_index=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.real_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.id_number:
            self.id_number = normalise_id_number(self.id_number)


from .api_tokens import ApiToken  # noqa: E402, F401  (its own module; registered here)
