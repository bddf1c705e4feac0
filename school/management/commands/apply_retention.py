"""Daily (cron): the retention policy of personal data (docs/privacy.md). Each category
whose delay has passed is purged; then the learners whose time is up are anonymised,
each in its own transaction (one failure is reported and the others go on).
``--dry-run`` says what would be done and changes nothing; a second run the same day
finds nothing to do. The command exits in error, after its summary, if a learner could
not be anonymised."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from school.privacy import RetentionReport, retention_apply


class Command(BaseCommand):
    help = (
        "Applique la politique de conservation des données personnelles : anonymise les "
        "apprenants partis depuis le délai fixé et purge les données dont le délai est passé."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="affiche ce qui serait fait, sans rien modifier",
        )

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        report = retention_apply(dry_run=dry_run)
        for line in summary(report):
            self.stdout.write(line)
        if report.failed:
            raise CommandError(
                _("%(count)s apprenant(s) n'ont pas pu être anonymisés.")
                % {"count": len(report.failed)}
            )


def summary(report: RetentionReport) -> list[str]:
    """The run in French, for the cron's mail: learners by number only (no names in logs)."""
    lines = [
        _("Conservation des données personnelles au %(day)s") % {"day": f"{report.day:%d/%m/%Y}"}
        + (_(" — simulation, rien n'est modifié") if report.dry_run else "")
    ]
    learners = report.due if report.dry_run else report.anonymised
    numbers = ", ".join(f"n° {pk}" for pk in learners)
    lines.append(
        (
            _("Apprenants à anonymiser : %(count)s")
            if report.dry_run
            else _("Apprenants anonymisés : %(count)s")
        )
        % {"count": len(learners)}
        + (f" ({numbers})" if numbers else "")
    )
    lines += [
        _("  échec pour l'apprenant n° %(pk)s : %(error)s") % {"pk": pk, "error": error}
        for pk, error in report.failed
    ]
    lines += [
        _("Apprenants gardés plus longtemps (%(reason)s) : %(count)s")
        % {"reason": reason, "count": count}
        for reason, count in report.held
        if count
    ]
    if report.left_open:
        lines.append(
            _(
                "Attention : %(count)s apprenant(s) encore inscrits dans une promotion terminée "
                "depuis plus de %(days)s jours. Enregistrez leur sortie ou leur fin de parcours "
                "pour que la conservation s'applique."
            )
            % {"count": report.left_open, "days": settings.RETENTION_DAYS["learner"]}
        )
    lines.append(_("Données à purger :") if report.dry_run else _("Données purgées :"))
    lines += [f"  {label} : {count}" for label, count in report.purged]
    return lines
