"""CCF in PFMP: the grid e-mailed to the tutor by a single-use link, filled from a phone
(or from the tutor's partner account), which becomes the learner's result; what the
partner sees of it, and what the school follows."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from assessments import services
from assessments.models import PlacementGrid, Result, ResultStatus, Scale
from courses.models import CompetencyEvidence, EvidenceSource
from internships.models import Placement, PlacementStatus
from school.models import Role
from tests.clients import Client, signed_in
from tests.factories import ContactFactory, PlacementFactory, UserFactory

from .world import DAY, Class, a_class

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/evaluations/grille/([A-Za-z0-9_-]+)/")


def in_placement(world: Class, learner_index: int = 0, **fields) -> Placement:  # type: ignore[no-untyped-def]
    """The learner's placement under way around the situation's date."""
    values = {
        "learner": world.learners[learner_index],
        "status": PlacementStatus.IN_PROGRESS,
        "start_date": DAY - datetime.timedelta(days=7),
        "end_date": DAY + datetime.timedelta(days=11),
        "company__legal_name": "Forges de la Traire",
        "tutor__email": "karim@forges.test",
    }
    values.update(fields)
    return PlacementFactory(**values)


def sent(world: Class, placement: Placement, situation, capture) -> str:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        services.placement_grid_send(situation=situation, placement=placement, by=world.trainer)
    return LINK.findall(mail.outbox[-1].body)[-1]


def filled(world: Class, level: str = "acquired", **extra: str) -> dict[str, str]:
    data = {"status": ResultStatus.ASSESSED, "tutor_name": "Karim Djebbar", "comment": "Soigné"}
    for competency in world.competencies:
        data[f"level_{competency.pk}"] = level
    data.update(extra)
    return data


@pytest.fixture
def world() -> Class:
    return a_class(2)


@pytest.fixture
def ccf(world: Class):  # type: ignore[no-untyped-def]
    return world.ccf(title="Usinage en entreprise", in_placement=True, scale=Scale.LEVELS)


def test_the_tutor_gets_a_link_that_opens_the_grid_of_the_situation(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    token = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    message = mail.outbox[-1]
    assert message.to == ["karim@forges.test"]
    assert "Usinage en entreprise" in message.subject
    grid = PlacementGrid.objects.get(situation=ccf, placement=placement)
    assert grid.token_hash and token not in grid.token_hash  # only its hash is kept
    page = Client().get(reverse("placement-grid-link", args=[token]))
    assert page.status_code == 200
    text = page.content.decode()
    assert world.learners[0].last_name in text
    assert "C2.1" in text and "(60 %)" in text


def test_the_filled_grid_becomes_the_learners_result_and_the_link_dies(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    token = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    url = reverse("placement-grid-link", args=[token])
    answer = Client().post(url, filled(world, "mastered"))
    assert answer.status_code == 200
    assert "transmise à l'école" in answer.content.decode()
    result = Result.objects.get(situation=ccf, learner=world.learners[0])
    assert result.assessor_name == "Karim Djebbar" and result.assessor is None
    assert {line.level for line in result.levels.all()} == {"mastered"}
    grid = PlacementGrid.objects.get(pk=placement.ccf_grids.get().pk)
    assert grid.result == result and grid.submitted_at and grid.tutor_name == "Karim Djebbar"
    assert Client().get(url).status_code == 404
    assert Client().post(url, filled(world)).status_code == 404


def test_once_published_the_tutors_levels_are_portfolio_evidence_under_the_tutors_name(
    world: Class, django_capture_on_commit_callbacks
) -> None:
    ccf = world.ccf(in_placement=True, scale=Scale.LEVELS)
    other = in_placement(world, 1, tutor__email="ines@usinage.test")
    services.results_record(
        situation=ccf,
        entries=[services.Entry(learner=world.learners[1].pk, status=ResultStatus.ABSENT)],
        by=world.trainer,
    )
    services.situation_publish(situation=ccf, by=world.trainer)
    placement = in_placement(world)
    token = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    answer = Client().post(reverse("placement-grid-link", args=[token]), filled(world))
    assert answer.status_code == 200
    evidence = CompetencyEvidence.objects.filter(learner=world.learners[0])
    assert evidence.count() == 2
    assert {(e.source, e.assessor_name) for e in evidence} == {
        (EvidenceSource.ASSESSMENT, "Karim Djebbar")
    }
    assert other.ccf_grids.count() == 0


def test_a_grid_with_a_level_missing_is_refused_and_leaves_the_link_open(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    token = sent(world, in_placement(world), ccf, django_capture_on_commit_callbacks)
    data = filled(world)
    del data[f"level_{world.competencies[1].pk}"]
    answer = Client().post(reverse("placement-grid-link", args=[token]), data)
    assert answer.status_code == 400
    assert "pour chaque compétence" in answer.content.decode()
    assert not Result.objects.exists()
    assert PlacementGrid.objects.get().is_open


def test_an_absent_learner_is_recorded_without_levels(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    token = sent(world, in_placement(world), ccf, django_capture_on_commit_callbacks)
    answer = Client().post(
        reverse("placement-grid-link", args=[token]),
        {"status": ResultStatus.ABSENT, "tutor_name": "Karim Djebbar"},
    )
    assert answer.status_code == 200
    result = Result.objects.get()
    assert result.status == ResultStatus.ABSENT and not result.levels.exists()


def test_a_mark_above_the_scale_is_refused_on_a_marked_situation(
    world: Class, django_capture_on_commit_callbacks
) -> None:
    ccf = world.ccf(in_placement=True, scale=Scale.BOTH)
    token = sent(world, in_placement(world), ccf, django_capture_on_commit_callbacks)
    url = reverse("placement-grid-link", args=[token])
    refused = Client().post(url, filled(world, mark="21"))
    assert refused.status_code == 400
    assert "entre 0 et 20" in refused.content.decode()
    assert not Result.objects.exists()
    assert Client().post(url, filled(world, mark="15,5")).status_code == 200
    assert Result.objects.get().mark == Decimal("15.5")


def test_sending_again_voids_the_link_sent_before(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    first = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    second = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    assert Client().get(reverse("placement-grid-link", args=[first])).status_code == 404
    assert Client().get(reverse("placement-grid-link", args=[second])).status_code == 200
    assert PlacementGrid.objects.count() == 1


def test_an_expired_link_is_not_found(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    token = sent(world, in_placement(world), ccf, django_capture_on_commit_callbacks)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=31)):
        assert Client().get(reverse("placement-grid-link", args=[token])).status_code == 404


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not in placement", "ne s'évalue pas en PFMP"),
        ("placement elsewhere in time", "ne couvre pas le 16/11/2026"),
        ("convention not signed", "ne couvre pas le 16/11/2026"),
        ("tutor without address", "pas de tuteur avec une adresse"),
        ("locked", "verrouillée"),
    ],
)
def test_a_grid_is_sent_only_for_a_ccf_in_placement_held_in_a_signed_placement(
    world: Class, case: str, message: str
) -> None:
    situation = world.ccf(in_placement=case != "not in placement", scale=Scale.LEVELS)
    fields = {
        "placement elsewhere in time": {
            "start_date": datetime.date(2027, 3, 8),
            "end_date": datetime.date(2027, 3, 26),
        },
        "convention not signed": {"status": PlacementStatus.READY_TO_SIGN},
        "tutor without address": {"tutor__email": ""},
    }.get(case, {})
    placement = in_placement(world, **fields)
    if case == "locked":
        services.situation_lock(situation=situation, by=world.staff)
    with pytest.raises(ValidationError, match=message):
        services.placement_grid_send(situation=situation, placement=placement, by=world.trainer)
    assert not PlacementGrid.objects.exists()
    assert not mail.outbox


def test_a_filled_grid_is_not_sent_again(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    token = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    Client().post(reverse("placement-grid-link", args=[token]), filled(world))
    with pytest.raises(ValidationError, match="déjà rempli"):
        services.placement_grid_send(situation=ccf, placement=placement, by=world.trainer)


def test_a_tutor_cannot_fill_a_grid_once_the_situation_is_locked(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    token = sent(world, in_placement(world), ccf, django_capture_on_commit_callbacks)
    services.situation_lock(situation=ccf, by=world.staff)
    answer = Client().post(reverse("placement-grid-link", args=[token]), filled(world))
    assert answer.status_code == 400
    assert "verrouillée" in answer.content.decode()
    assert not Result.objects.exists()


def test_only_the_situations_assessors_send_grids(world: Class, ccf) -> None:
    placement = in_placement(world)
    stranger = UserFactory(role=Role.TRAINER)
    with pytest.raises(Exception, match="n'évaluez pas"):
        services.placement_grid_send(situation=ccf, placement=placement, by=stranger)


def test_the_grid_page_sends_to_every_tutor_not_yet_asked_and_says_who_could_not_be(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    in_placement(world, 0)
    in_placement(world, 1, tutor__email="")
    client = signed_in(world.trainer)
    page = client.get(reverse("situation-grid", args=[ccf.pk]))
    assert "Grilles des tuteurs" in page.content.decode()
    assert page.content.decode().count("pas envoyée") == 2
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("placement-grids-send", args=[ccf.pk]), follow=True)
    text = answer.content.decode()
    assert "Grilles envoyées : 1." in text
    assert "pas de tuteur avec une adresse" in text
    assert len(mail.outbox) == 1
    assert "envoyée le" in client.get(reverse("situation-grid", args=[ccf.pk])).content.decode()


def test_the_tutors_partner_account_fills_the_grid_without_the_link(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    tutor = placement.tutor
    tutor.user = UserFactory(role=Role.PARTNER, email="karim@forges.test")
    tutor.save()
    sent(world, placement, ccf, django_capture_on_commit_callbacks)
    grid = PlacementGrid.objects.get()
    client = signed_in(tutor.user)
    url = reverse("placement-grid-detail", args=[grid.pk])
    assert "Envoyer la grille" in client.get(url).content.decode()
    assert client.post(url, filled(world)).status_code == 200
    result = Result.objects.get()
    assert result.history.first().history_user == tutor.user
    # Filled, the page shows what the tutor gave.
    shown = client.get(url).content.decode()
    assert "Remplie le" in shown and "Acquis" in shown


def test_partners_see_their_companys_grids_only_and_families_none(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    token = sent(world, placement, ccf, django_capture_on_commit_callbacks)
    Client().post(reverse("placement-grid-link", args=[token]), filled(world))
    grid = PlacementGrid.objects.get()
    ours = ContactFactory(company=placement.company, user=UserFactory(role=Role.PARTNER)).user
    theirs = ContactFactory(user=UserFactory(role=Role.PARTNER)).user
    mine = signed_in(ours)
    listed = mine.get(reverse("placement-grid-list")).content.decode()
    assert world.learners[0].full_name in listed and "Karim Djebbar" in listed
    assert mine.get(reverse("placement-grid-detail", args=[grid.pk])).status_code == 200
    assert mine.get(reverse("api:result-detail", args=[grid.result_id])).status_code == 200
    other = signed_in(theirs)
    assert (
        world.learners[0].full_name
        not in other.get(reverse("placement-grid-list")).content.decode()
    )
    assert other.get(reverse("placement-grid-detail", args=[grid.pk])).status_code == 404
    assert other.get(reverse("api:result-detail", args=[grid.result_id])).status_code == 404
    learner = signed_in(UserFactory(role=Role.LEARNER))
    assert learner.get(reverse("placement-grid-list")).status_code == 404


def test_the_api_sends_the_grids_and_lists_them(
    world: Class, ccf, django_capture_on_commit_callbacks
) -> None:
    placement = in_placement(world)
    client = signed_in(world.trainer)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("api:situation-send-grids", args=[ccf.pk]),
            {"placement": placement.pk},
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"sent": 1, "refusals": []}
    assert len(mail.outbox) == 1
    listed = client.get(reverse("api:placement-grid-list")).json()["results"]
    assert [row["placement"] for row in listed] == [placement.pk]
    assert listed[0]["submitted_at"] is None
    outside = client.post(
        reverse("api:situation-send-grids", args=[ccf.pk]),
        {"placement": 999999},
        content_type="application/json",
    )
    assert outside.status_code == 404


def test_sending_to_all_on_a_locked_situation_says_why_once(world: Class, ccf) -> None:
    in_placement(world, 0)
    in_placement(world, 1)
    services.situation_lock(situation=ccf, by=world.staff)
    sent, refusals = services.placement_grids_send(situation=ccf, by=world.staff)
    assert sent == 0
    assert len(refusals) == 1 and "verrouillée" in refusals[0]
    assert not PlacementGrid.objects.exists()
