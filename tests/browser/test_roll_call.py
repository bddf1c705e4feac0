"""The trainer's roll call on a tablet: one tap per learner, no page reload."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from courses.models import Attendance, AttendanceStatus
from school.models import Role
from tests.browser.conftest import log_in
from tests.factories import (
    PASSWORD,
    CohortFactory,
    EnrolmentFactory,
    LearnerFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


# The roll call opens shortly before the session: be there at 8:30 that morning.
@time_machine.travel(datetime.datetime(2027, 1, 12, 8, 30, tzinfo=ZoneInfo("Europe/Paris")))
def test_a_trainer_takes_the_roll_call_with_one_tap_per_learner(page: Any) -> None:
    trainer = UserFactory(email="formateur@metaltech.test", role=Role.TRAINER)
    cohort = CohortFactory(head_trainer=trainer)
    lea = LearnerFactory(first_name="Léa", last_name="Morel")
    hugo = LearnerFactory(first_name="Hugo", last_name="Petit")
    for learner in (lea, hugo):
        EnrolmentFactory(learner=learner, cohort=cohort)
    session = SessionFactory(cohort=cohort, trainer=trainer)

    page.set_viewport_size({"width": 1024, "height": 768})  # a workshop tablet
    log_in(page, trainer.email, PASSWORD)
    page.goto(f"/seances/{session.pk}/emargement/")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    lea_row = page.locator(f"#emargement-{lea.pk}")
    lea_row.get_by_role("button", name="Présent").click()
    page.locator(f"#emargement-{lea.pk} .badge.present").wait_for()
    hugo_row = page.locator(f"#emargement-{hugo.pk}")
    hugo_row.get_by_role("button", name="En retard").click()
    page.locator(f"#emargement-{hugo.pk} .badge.late").wait_for()

    assert navigations == []  # htmx swapped the rows in place
    statuses = dict(Attendance.objects.values_list("learner_id", "status"))
    assert statuses == {lea.pk: AttendanceStatus.PRESENT, hugo.pk: AttendanceStatus.LATE}
