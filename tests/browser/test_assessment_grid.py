"""The trainer types a class's results on the grid with the keyboard alone: Tab from
cell to cell, the mark's digits, one letter per level, Enter to save."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from assessments.models import Result
from tests.assessments.world import a_class
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_class_of_twelve_is_typed_and_saved_from_the_keyboard_alone(page: Any) -> None:
    world = a_class(12)
    situation = world.situation()
    page.set_viewport_size({"width": 1024, "height": 768})  # a workshop tablet
    log_in(page, world.trainer.email, PASSWORD)
    page.goto(f"/evaluations/{situation.pk}/")
    first = world.learners[0]
    # The first cell is tapped once; from there on, only keys.
    page.locator(f"[name='status-{first.pk}']").focus()
    keyboard = page.keyboard
    for n, _learner in enumerate(world.learners):
        keyboard.press("Tab")  # status stays « évalué »
        keyboard.type(f"{8 + n},5")
        keyboard.press("Tab")
        keyboard.press("A")  # C2.1: acquis
        keyboard.press("Tab")
        keyboard.press("M")  # C2.2: maîtrisé
        keyboard.press("Tab")  # the comment, left empty
        if n < len(world.learners) - 1:
            keyboard.press("Tab")  # the next learner's status
    keyboard.press("Enter")  # in the comment box: the form's first button, « Enregistrer »
    page.get_by_text("Résultats enregistrés.").wait_for()

    results = Result.objects.filter(situation=situation).prefetch_related("levels")
    assert results.count() == 12
    marks = sorted(result.mark for result in results)
    assert marks == [Decimal(8 + n) + Decimal("0.5") for n in range(12)]
    assert {
        (line.competency_id, line.level) for result in results for line in result.levels.all()
    } == {(world.competencies[0].pk, "acquired"), (world.competencies[1].pk, "mastered")}
