"""The pages: the grid typed and saved in one go, the conseil de classe, the jury's
export, and what a family sees."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments import services
from assessments.models import Result, Scale, Situation, TermComment
from assessments.services import Entry
from school.models import Role
from tests.clients import signed_in
from tests.factories import GuardianFactory, UserFactory

from .world import a_class, levels

pytestmark = pytest.mark.django_db


def _typed(world, situation, marks: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {}
    for learner, mark in zip(world.learners, marks, strict=True):
        data[f"status-{learner.pk}"] = "assessed"
        data[f"mark-{learner.pk}"] = mark
        for competency in world.competencies:
            data[f"level-{learner.pk}-{competency.pk}"] = "acquired"
    return data


def test_the_trainer_types_a_class_of_twelve_and_saves_it_in_one_go() -> None:
    world = a_class(12)
    situation = world.situation()
    client = signed_in(world.trainer)
    page = client.get(reverse("situation-grid", args=[situation.pk]))
    assert page.status_code == 200
    # A mark and two levels per learner, in the keyboard's order.
    assert page.content.decode().count('inputmode="decimal"') == 12
    marks = [f"{8 + n},5" for n in range(12)]
    answer = client.post(
        reverse("situation-grid", args=[situation.pk]), _typed(world, situation, marks)
    )
    assert answer.status_code == 302, answer.content.decode()
    assert Result.objects.filter(situation=situation).count() == 12
    assert str(Result.objects.get(learner=world.learners[0]).mark) == "8.50"


def test_a_mark_above_the_scale_shows_the_grid_again_with_the_error_and_saves_nothing() -> None:
    world = a_class(2)
    situation = world.situation()
    client = signed_in(world.trainer)
    answer = client.post(
        reverse("situation-grid", args=[situation.pk]), _typed(world, situation, ["12", "21"])
    )
    assert answer.status_code == 400
    assert "entre 0 et 20" in answer.content.decode()
    assert 'value="21"' in answer.content.decode()  # what was typed is kept
    assert not Result.objects.exists()


def test_publishing_from_the_grid_shows_the_results_to_the_family() -> None:
    world = a_class(1)
    situation = world.situation(title="Contrôle arbre épaulé")
    parent = UserFactory(role=Role.GUARDIAN)
    GuardianFactory(learner=world.learners[0], user=parent)
    services.results_record(
        situation=situation,
        entries=[
            Entry(
                learner=world.learners[0].pk,
                mark="14",
                levels=levels(world, "acquired", "mastered"),
            )
        ],
        by=world.trainer,
    )
    family = signed_in(parent)
    assert "Contrôle arbre épaulé" not in family.get(reverse("my-results")).content.decode()
    trainer = signed_in(world.trainer)
    trainer.post(
        reverse("situation-grid", args=[situation.pk]),
        {**_typed(world, situation, ["14"]), "publish": "1"},
    )
    page = family.get(reverse("my-results")).content.decode()
    assert "Contrôle arbre épaulé" in page
    assert "14,00" in page or "14.00" in page


def test_the_conseil_de_classe_saves_the_comments_each_may_write() -> None:
    world = a_class(2)
    situation = world.situation(scale=Scale.MARK, weights={})
    services.results_record(
        situation=situation,
        entries=[Entry(learner=learner.pk, mark="12") for learner in world.learners],
        by=world.trainer,
    )
    learner = world.learners[0]
    trainer = signed_in(world.trainer)
    page = trainer.get(reverse("council", args=[world.term.pk])).content.decode()
    assert f'name="comment-{learner.pk}-{world.course.pk}"' in page
    assert f'name="comment-{learner.pk}-all"' not in page  # the head trainer's
    trainer.post(
        reverse("council", args=[world.term.pk]),
        {f"comment-{learner.pk}-{world.course.pk}": "Bon travail."},
    )
    assert TermComment.objects.get().text == "Bon travail."


def test_the_jury_export_lists_each_learners_proposed_mark() -> None:
    world = a_class(2)
    situation = world.ccf(scale=Scale.MARK, weights={})
    services.results_record(
        situation=situation,
        entries=[
            Entry(learner=world.learners[0].pk, mark="13.5"),
            Entry(learner=world.learners[1].pk, status="excused"),
        ],
        by=world.trainer,
    )
    answer = signed_in(world.staff).get(reverse("jury", args=[world.cohort.pk]), {"format": "csv"})
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Nom;Prénom;EP2 (coef. 9)"
    assert lines[1].endswith(";13,5")
    assert lines[2].endswith(";incomplète")


def test_a_learner_sees_no_grid() -> None:
    world = a_class(1)
    situation = world.situation()
    learner_user = UserFactory(role=Role.LEARNER)
    world.learners[0].user = learner_user
    world.learners[0].save()
    assert (
        signed_in(learner_user).get(reverse("situation-grid", args=[situation.pk])).status_code
        == 404
    )


def _situation_form(world, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {
        "title": "Contrôle de fraisage",
        "date": "2026-11-23",
        "kind": "summative",
        "course": str(world.course.pk),
        "scale": Scale.BOTH,
        "max_mark": "20",
        "coefficient": "2",
        f"weight_{world.competencies[0].pk}": "70",
        f"weight_{world.competencies[1].pk}": "30",
    }
    data.update(extra)
    return data


def test_a_trainer_writes_a_new_situation_for_a_cohort_they_teach() -> None:
    world = a_class(2)
    elsewhere = a_class(1)
    client = signed_in(world.trainer)
    chooser = client.get(reverse("situation-create")).content.decode()
    assert world.cohort.name in chooser and elsewhere.cohort.name not in chooser
    url = reverse("situation-create") + f"?promotion={world.cohort.pk}"
    page = client.get(url).content.decode()
    assert "C2.1" in page and "Tournage" in page
    assert (
        client.get(reverse("situation-create") + f"?promotion={elsewhere.cohort.pk}").status_code
        == 404
    )
    answer = client.post(url, _situation_form(world))
    situation = Situation.objects.get(title="Contrôle de fraisage")
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "situation-grid", args=[situation.pk]
    )
    assert situation.cohort == world.cohort and situation.coefficient == 2
    assert {w.competency_id: w.weight for w in situation.weights.all()} == {
        world.competencies[0].pk: 70,
        world.competencies[1].pk: 30,
    }
    assert list(situation.assessors.all()) == [world.trainer]


def test_weights_that_do_not_make_a_hundred_are_refused_and_nothing_is_written() -> None:
    world = a_class(1)
    client = signed_in(world.trainer)
    url = reverse("situation-create") + f"?promotion={world.cohort.pk}"
    answer = client.post(
        url, _situation_form(world, **{f"weight_{world.competencies[1].pk}": "20"})
    )
    assert answer.status_code == 400
    assert "font 90 %, pas 100 %" in answer.content.decode()
    assert not Situation.objects.exists()
    # A CCF situation needs its unit: the model's rule, said on the form.
    answer = client.post(url, _situation_form(world, kind="ccf"))
    assert answer.status_code == 400 and "unité certificative" in answer.content.decode()
    assert not Situation.objects.exists()


def test_the_assessor_changes_a_situation_and_another_trainer_may_not() -> None:
    world = a_class(1)
    situation = world.situation()
    url = reverse("situation-edit", args=[situation.pk])
    client = signed_in(world.trainer)
    assert "Contrôle tournage" in client.get(url).content.decode()
    assert (
        client.post(
            url, _situation_form(world, title="Contrôle décalé", date="2026-11-30")
        ).status_code
        == 302
    )
    situation.refresh_from_db()
    assert situation.title == "Contrôle décalé" and str(situation.date) == "2026-11-30"
    stranger = signed_in(UserFactory(role=Role.TRAINER))
    assert stranger.get(url).status_code == 404
    assert signed_in(UserFactory(role=Role.LEARNER)).get(url).status_code == 404
