from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from school.models import EnrolmentStatus, Guardian, Role, User
from school.services import enrolment_change_status, enrolment_create
from tests.factories import (
    CohortFactory,
    EnrolmentFactory,
    GuardianFactory,
    LearnerFactory,
    ProgrammeFactory,
    UserFactory,
)


def test_a_learner_is_minor_until_the_eve_of_their_eighteenth_birthday() -> None:
    learner = LearnerFactory.build(birth_date=datetime.date(2008, 11, 28))
    assert learner.is_minor_on(datetime.date(2026, 11, 27))
    assert not learner.is_minor_on(datetime.date(2026, 11, 28))


def test_a_learner_born_on_29_february_comes_of_age_on_1_march() -> None:
    learner = LearnerFactory.build(birth_date=datetime.date(2008, 2, 29))
    assert learner.is_minor_on(datetime.date(2026, 2, 28))
    assert not learner.is_minor_on(datetime.date(2026, 3, 1))


@pytest.mark.django_db
def test_a_birth_date_in_the_future_is_refused_in_french() -> None:
    learner = LearnerFactory.build(birth_date=datetime.date(2099, 1, 1))
    with pytest.raises(ValidationError) as error:
        learner.full_clean()
    assert error.value.message_dict["birth_date"] == ["La date de naissance est dans le futur."]


@pytest.mark.django_db
def test_a_learner_has_at_most_two_guardians() -> None:
    learner = LearnerFactory()
    GuardianFactory(learner=learner, rank=1)
    GuardianFactory(learner=learner, rank=2)
    third = GuardianFactory.build(learner=learner, rank=2)
    with pytest.raises(ValidationError) as error:
        third.full_clean()
    assert "deux au plus" in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        Guardian.objects.create(learner=learner, rank=3, first_name="A", last_name="B")


@pytest.mark.django_db
def test_one_guardian_account_can_follow_two_children() -> None:
    parent = UserFactory(role=Role.GUARDIAN)
    GuardianFactory(user=parent)
    GuardianFactory(user=parent)
    assert parent.guardianships.count() == 2


@pytest.mark.django_db
def test_a_cohort_must_end_after_it_starts() -> None:
    cohort = CohortFactory.build(
        programme=ProgrammeFactory(),
        head_trainer=None,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2026, 9, 1),
    )
    with pytest.raises(ValidationError, match="La fin de la promotion doit suivre son début"):
        cohort.full_clean()


@pytest.mark.django_db
def test_enrolling_records_the_first_step_of_the_status_history() -> None:
    staff = UserFactory(role=Role.STAFF)
    cohort = CohortFactory(start_date=datetime.date(2026, 9, 1))
    enrolment = enrolment_create(learner=LearnerFactory(), cohort=cohort, by=staff)
    step = enrolment.status_changes.get()
    assert (step.status, step.changed_by) == (EnrolmentStatus.ACTIVE, staff)


@pytest.mark.django_db
def test_a_learner_cannot_be_active_in_two_cohorts() -> None:
    enrolment = EnrolmentFactory()
    with pytest.raises(ValidationError, match="déjà en formation dans une autre promotion"):
        enrolment_create(learner=enrolment.learner, cohort=CohortFactory())


@pytest.mark.django_db
def test_withdrawing_needs_a_reason_and_closes_the_enrolment() -> None:
    enrolment = EnrolmentFactory()
    with pytest.raises(ValidationError) as error:
        enrolment_change_status(enrolment=enrolment, status=EnrolmentStatus.WITHDRAWN)
    assert error.value.message_dict["reason"] == ["Indiquez le motif de ce changement de statut."]

    day = datetime.date(2026, 12, 18)
    enrolment_change_status(
        enrolment=enrolment,
        status=EnrolmentStatus.WITHDRAWN,
        effective_on=day,
        reason="Réorientation",
    )
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.end_date) == (EnrolmentStatus.WITHDRAWN, day)
    assert [c.status for c in enrolment.status_changes.all()] == ["active", "withdrawn"]


@pytest.mark.django_db
def test_a_withdrawn_learner_cannot_be_made_active_again() -> None:
    enrolment = EnrolmentFactory(status=EnrolmentStatus.WITHDRAWN)
    with pytest.raises(ValidationError, match="ne peut pas passer à « En formation »"):
        enrolment_change_status(enrolment=enrolment, status=EnrolmentStatus.ACTIVE)
    assert enrolment.status_changes.count() == 1


@pytest.mark.django_db
def test_a_suspension_can_be_lifted() -> None:
    enrolment = EnrolmentFactory()
    enrolment_change_status(
        enrolment=enrolment, status=EnrolmentStatus.SUSPENDED, reason="Raison médicale"
    )
    enrolment_change_status(enrolment=enrolment, status=EnrolmentStatus.ACTIVE)
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.end_date) == (EnrolmentStatus.ACTIVE, None)


@pytest.mark.django_db
def test_an_e_mail_is_one_account_whatever_its_case() -> None:
    User.objects.create_user("Jean.Dupont@Example.test", "x", role=Role.TRAINER)
    assert User.objects.get_by_natural_key("JEAN.DUPONT@example.test").role == Role.TRAINER
    duplicate = User(email="jean.dupont@EXAMPLE.test", role=Role.STAFF)
    with pytest.raises(ValidationError):
        duplicate.full_clean(exclude=["password"])


@pytest.mark.django_db
def test_the_staff_role_alone_opens_the_back_office() -> None:
    assert UserFactory(role=Role.STAFF).has_perm("school.change_learner")
    trainer = UserFactory(role=Role.TRAINER)
    assert not trainer.is_staff
    assert not trainer.has_perm("school.change_learner")
