"""Placement periods in personal calendar feeds (``courses.calendar``): the learner's,
their guardians', the tutor's and the school referent's, as all-day events."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from courses.calendar import AllDayEvent, Window
from school.models import Learner, Role, User

from .models import Placement


def placement_periods(user: User, window: Window) -> list[AllDayEvent]:
    if user.role in (Role.LEARNER, Role.GUARDIAN):
        mine = Q(learner__in=Learner.objects.visible_to(user))
    elif user.role == Role.PARTNER:
        mine = Q(tutor__user=user)
    elif user.role == Role.TRAINER:
        mine = Q(referent=user)
    else:
        return []
    placements = (
        Placement.objects.current()
        .filter(mine)
        .overlapping(window.first_day, window.last_day)
        .select_related("learner", "company", "tutor")
        .order_by("start_date", "pk")
    )
    return [_event(placement, user) for placement in placements]


def _event(placement: Placement, user: User) -> AllDayEvent:
    company = placement.company
    summary = (
        _("Stage chez %(company)s") % {"company": company.legal_name}
        if user.role == Role.LEARNER
        else _("Stage de %(learner)s chez %(company)s")
        % {"learner": placement.learner, "company": company.legal_name}
    )
    details = [_("Statut : %(status)s") % {"status": placement.get_status_display()}]
    if placement.tutor:
        details.append(
            _("Tuteur : %(name)s")
            % {"name": f"{placement.tutor.first_name} {placement.tutor.last_name}"}
        )
    return AllDayEvent(
        uid=f"placement-{placement.pk}",
        summary=summary,
        first_day=placement.start_date,
        last_day=placement.end_date,
        location=placement.address or f"{company.address}, {company.postal_code} {company.city}",
        description="\n".join(details),
        changed_at=placement.updated_at,
    )
