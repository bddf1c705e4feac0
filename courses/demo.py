"""Demo competency frameworks, for ``manage.py seed_demo`` (see ``school.demo``).

Référentiel illustratif: these blocks and competencies are written for the demo in
the spirit of the diplomas, not copied from the official frameworks (référentiels)
that the Ministry publishes; a real programme loads its own.
"""

from __future__ import annotations

from django.core.management.base import OutputWrapper
from django.utils.translation import gettext as _

from school.demo import BAC_PRO_TRPM, CAP_CIP
from school.models import Programme

from .models import Competency, CompetencyBlock

Block = tuple[str, str, tuple[tuple[str, str], ...]]

FRAMEWORKS: dict[str, tuple[Block, ...]] = {
    CAP_CIP: (
        (
            "B1",
            "Préparer une production",
            (
                ("C1.1", "Lire et exploiter un dessin technique"),
                ("C1.2", "Préparer le poste de travail et les outillages"),
                ("C1.3", "Appliquer les règles de sécurité et de prévention au poste"),
            ),
        ),
        (
            "B2",
            "Conduire une production",
            (
                ("C2.1", "Réaliser une pièce en tournage"),
                ("C2.2", "Réaliser une pièce en fraisage"),
                ("C2.3", "Conduire une machine à commande numérique (programme, origines)"),
            ),
        ),
        (
            "B3",
            "Contrôler et entretenir",
            (
                ("C3.1", "Contrôler une pièce avec les instruments de métrologie"),
                ("C3.2", "Renseigner les documents de suivi de production"),
                ("C3.3", "Assurer la maintenance de premier niveau"),
            ),
        ),
    ),
    BAC_PRO_TRPM: (
        (
            "B1",
            "Analyser et préparer une réalisation",
            (
                ("C1.1", "Analyser un dessin de définition et un cahier des charges"),
                ("C1.2", "Élaborer un processus d'usinage (gamme)"),
                ("C1.3", "Choisir les outils et les conditions de coupe"),
            ),
        ),
        (
            "B2",
            "Programmer et réaliser",
            (
                ("C2.1", "Programmer une machine à commande numérique (ISO, FAO)"),
                ("C2.2", "Régler et mettre en œuvre un tour à commande numérique"),
                ("C2.3", "Régler et mettre en œuvre un centre d'usinage"),
                ("C2.4", "Travailler en sécurité : prévention des risques, EPI"),
            ),
        ),
        (
            "B3",
            "Contrôler et suivre une production",
            (
                ("C3.1", "Contrôler une pièce et interpréter les mesures"),
                ("C3.2", "Suivre une production et proposer des améliorations"),
                ("C3.3", "Rendre compte à l'équipe et au client"),
            ),
        ),
    ),
}


def seed_courses(stdout: OutputWrapper) -> None:
    for programme_code, blocks in FRAMEWORKS.items():
        programme = Programme.objects.get(code=programme_code)
        for block_code, block_title, competencies in blocks:
            block, _created = CompetencyBlock.objects.get_or_create(
                programme=programme, code=block_code, defaults={"title": block_title}
            )
            for code, title in competencies:
                Competency.objects.get_or_create(block=block, code=code, defaults={"title": title})
    stdout.write(
        _("Formations : %(competencies)d compétences illustratives.")
        % {
            "competencies": sum(
                len(competencies)
                for blocks in FRAMEWORKS.values()
                for _code, _title, competencies in blocks
            )
        }
    )
