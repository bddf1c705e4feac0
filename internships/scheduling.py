"""The timetable's conflict check, extended: a learner away on placement has no session.

Registered with ``courses.scheduling`` from ``InternshipsConfig.ready``, it runs inside
every session write, after that check has locked the cohorts involved; a placement write
locks the learner's cohorts too (``services._lock_learner``), so neither races past the
other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.utils.translation import gettext as _

from courses.scheduling import Candidate
from school.models import Learner

from .models import Placement


def placement_conflicts(taking_part: Sequence[tuple[Candidate, tuple[Learner, ...]]]) -> list[str]:
    learner_ids = {learner.pk for _candidate, learners in taking_part for learner in learners}
    if not learner_ids:
        return []
    days = [candidate.day for candidate, _learners in taking_part]
    away: dict[int, list[Placement]] = defaultdict(list)
    for placement in (
        Placement.objects.current()
        .filter(learner__in=learner_ids)
        .overlapping(min(days), max(days))
        .select_related("company")
    ):
        away[placement.learner_id].append(placement)
    problems = []
    for candidate, learners in taking_part:
        for learner in learners:
            for placement in away.get(learner.pk, ()):
                if placement.start_date <= candidate.day <= placement.end_date:
                    problems.append(
                        _("%(learner)s est en stage chez %(company)s du %(start)s au %(end)s.")
                        % {
                            "learner": learner,
                            "company": placement.company,
                            "start": f"{placement.start_date:%d/%m/%Y}",
                            "end": f"{placement.end_date:%d/%m/%Y}",
                        }
                    )
    return problems
