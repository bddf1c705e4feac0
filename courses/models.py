"""Competency frameworks; the timetable, attendance and workshop orders come next."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from school.models import Programme


class CompetencyBlock(models.Model):
    """A block of a programme's framework (bloc de compétences)."""

    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="competency_blocks",
        verbose_name=_("formation"),
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("intitulé"), max_length=255)

    class Meta:
        verbose_name = _("bloc de compétences")
        verbose_name_plural = _("blocs de compétences")
        ordering = ["programme", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "code"],
                name="competency_block_code_unique_per_programme",
                violation_error_message=_("Cette formation a déjà un bloc avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"


class Competency(models.Model):
    block = models.ForeignKey(
        CompetencyBlock,
        on_delete=models.CASCADE,
        related_name="competencies",
        verbose_name=_("bloc"),
    )
    code = models.CharField(_("code"), max_length=20)
    title = models.CharField(_("intitulé"), max_length=255)

    class Meta:
        verbose_name = _("compétence")
        verbose_name_plural = _("compétences")
        ordering = ["block", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "code"],
                name="competency_code_unique_per_block",
                violation_error_message=_("Ce bloc a déjà une compétence avec ce code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.title}"
