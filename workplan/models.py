"""The work plan's records: yearly targets, monthly actuals, upward recommendations.

Indicators are data (workplan.indicators), so a row names its indicator by code. Every
row is written by workplan.services, which journals each change in the trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from funding.amounts import yuan
from funding.models import MONEY, ZERO, Project

from .indicators import CODE_MAX, indicator_choices

# numeric(14, 2), as money: every indicator's value fits (indicators.BIG).
VALUE = {"max_digits": 14, "decimal_places": 2}
YEAR_MIN, YEAR_MAX = 2000, 2100


class YearlyTarget(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    indicator = models.CharField(_("indicator"), max_length=CODE_MAX, choices=indicator_choices())
    value = models.DecimalField(_("target"), **VALUE)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"))

    class Meta:
        verbose_name = _("yearly target")
        verbose_name_plural = _("yearly targets")
        constraints = [
            models.UniqueConstraint(fields=["year", "indicator"], name="target_once_a_year"),
            models.CheckConstraint(
                condition=Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX), name="target_year_range"
            ),
        ]


class MonthlyActual(models.Model):
    class Source(models.TextChoices):
        ENTERED = "entered", _("Entered")
        IMPORTED = "imported", _("Imported from Excel")

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    indicator = models.CharField(_("indicator"), max_length=CODE_MAX, choices=indicator_choices())
    value = models.DecimalField(_("value"), **VALUE)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)

    class Meta:
        verbose_name = _("monthly actual")
        verbose_name_plural = _("monthly actuals")
        ordering = ["year", "month", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "indicator"], name="actual_once_a_month"
            ),
            models.CheckConstraint(condition=Q(month__gte=1, month__lte=12), name="actual_month"),
            models.CheckConstraint(
                condition=Q(year__gte=YEAR_MIN, year__lte=YEAR_MAX), name="actual_year_range"
            ),
        ]


class UpwardRecommendation(models.Model):
    """A project recommended to a higher programme (向上推荐), and what it won."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National (国家级)")
        PROVINCE = "province", _("Provincial (省级)")
        CITY = "city", _("City (市级)")

    class Result(models.TextChoices):
        PENDING = "pending", _("Waiting for the result")
        WON = "won", _("Won")
        NOT_WON = "not_won", _("Not won")

    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="upward_recommendations",
    )
    level = models.CharField(_("programme level"), max_length=10, choices=Level.choices)
    programme = models.CharField(_("programme"), max_length=200)
    recommended_on = models.DateField(_("recommended on"))
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recommended by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    result = models.CharField(
        _("result"), max_length=10, choices=Result.choices, default=Result.PENDING
    )
    funds_won = models.DecimalField(_("funds won"), default=ZERO, **MONEY)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("result recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("result recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("upward recommendation")
        verbose_name_plural = _("upward recommendations")
        ordering = ["-recommended_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(funds_won__gte=0), name="upward_funds_nonneg"),
            # Only a won recommendation brings money; a decided one has its day.
            models.CheckConstraint(
                condition=Q(result="won") | Q(funds_won=0), name="upward_funds_only_when_won"
            ),
            models.CheckConstraint(
                condition=Q(result="pending", decided_on__isnull=True)
                | (~Q(result="pending") & Q(decided_on__isnull=False)),
                name="upward_decided_on_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} → {self.programme}"

    @property
    def funds_won_text(self) -> str:
        """1250000 as “1,250,000.00”."""
        return yuan(self.funds_won)
