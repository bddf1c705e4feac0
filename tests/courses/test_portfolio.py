"""The portfolio: current level from the latest evidence, gaps, the livret de
compétences built from it, and the placement form suggesting the gaps."""

from __future__ import annotations

import datetime
import html
import io

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from courses.models import CompetencyEvidence
from courses.portfolio import portfolio_of
from school import services
from school.models import Role
from tests.clients import Client
from tests.conftest import World
from tests.factories import (
    CompetencyBlockFactory,
    CompetencyFactory,
    LearnerFactory,
    PlacementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def observe(learner, competency, level: str, day: datetime.date, source: str = "assessment"):
    return CompetencyEvidence.objects.create(
        learner=learner,
        competency=competency,
        level=level,
        source=source,
        reference="Commande BR-12" if source == "order" else "",
        assessor_name="Marc Aubertin",
        date=day,
    )


@pytest.fixture
def three(world: World):
    block = CompetencyBlockFactory(programme=world.cohort.programme, code="B2")
    return [
        CompetencyFactory(block=block, code="C2.1", title="Conduire un tour CN"),
        CompetencyFactory(block=block, code="C2.2", title="Conduire une fraiseuse CN"),
        CompetencyFactory(block=block, code="C2.3", title="Modifier un programme ISO"),
    ]


def test_the_current_level_is_the_latest_and_gaps_are_what_is_not_secured(
    world: World, three
) -> None:
    turning, milling, _iso = three
    observe(world.learner, turning, "in_progress", datetime.date(2026, 9, 20), "order")
    observe(world.learner, turning, "acquired", datetime.date(2026, 11, 5))
    observe(world.learner, milling, "acquired", datetime.date(2026, 9, 1))
    observe(world.learner, milling, "in_progress", datetime.date(2026, 10, 1))
    book = portfolio_of(world.learner)
    assert [(row.competency.code, row.level) for row in book.rows] == [
        ("C2.1", "acquired"),
        ("C2.2", "in_progress"),
        ("C2.3", None),
    ]
    assert [c.code for c in book.gaps] == ["C2.2", "C2.3"]
    assert book.secured == 1


def test_the_livret_de_competences_lists_every_competency_with_level_evidence_and_dates(
    world: World, three
) -> None:
    turning, milling, _iso = three
    observe(world.learner, turning, "acquired", datetime.date(2026, 11, 5), "order")
    observe(world.learner, milling, "in_progress", datetime.date(2026, 10, 1))
    document = services.document_issue(
        kind="livret_competences", subject=world.learner, by=UserFactory(role=Role.STAFF)
    )
    with document.file.open("rb") as pdf:
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages).split()
        )
    for mention in [
        "Livret de compétences",
        world.learner.full_name,
        world.cohort.programme.title,
        "C2.1 — Conduire un tour CN",
        "Acquis",
        "05/11/2026",
        "commande de l'atelier (Commande BR-12)",
        "C2.2 — Conduire une fraiseuse CN",
        "01/10/2026",
        "C2.3 — Modifier un programme ISO",
        "non évaluée",
        "Compétences acquises ou maîtrisées : 1 sur 3",
    ]:
        assert mention in text, mention


def test_no_livret_without_a_programme() -> None:
    with pytest.raises(ValidationError, match="aucune formation"):
        services.document_issue(kind="livret_competences", subject=LearnerFactory())


def test_the_placement_form_suggests_the_gaps_as_its_annexe(world: World, three) -> None:
    turning, milling, iso = three
    observe(world.learner, turning, "mastered", datetime.date(2026, 11, 5))
    placement = PlacementFactory(learner=world.learner)
    client = Client()
    client.force_login(world.staff)
    response = client.get(f"/stages/{placement.pk}/modifier/")
    page = " ".join(html.unescape(response.content.decode()).split())
    assert "proposées pour l'annexe pédagogique) : C2.2, C2.3" in page
    assert list(response.context["form"]["competencies"].value()) == [milling.pk, iso.pk]
