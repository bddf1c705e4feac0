from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InternshipsConfig(AppConfig):
    name = "internships"
    verbose_name = _("Stages et PFMP")

    def ready(self) -> None:
        from courses.calendar import register_feed_source
        from courses.rhythm import register_placement_hours
        from courses.scheduling import register_conflict_source
        from school.api import router
        from school.demo import register_seeder
        from school.large import register_part
        from school.models import document_scopes
        from school.portal import (
            register_cohort_section,
            register_learner_section,
            register_section,
        )
        from school.privacy import (
            register_anonymiser,
            register_export,
            register_purge,
            register_retention_hold,
        )

        from . import follow_up, large
        from .api import register_endpoints
        from .calendar import placement_periods
        from .demo import seed_internships
        from .documents import register_kinds
        from .follow_up import cohort_section, learner_section, placement_hours
        from .models import partner_documents
        from .scheduling import placement_conflicts
        from .views import home_section

        register_conflict_source(placement_conflicts)
        register_feed_source(placement_periods)
        register_placement_hours(placement_hours)
        register_learner_section(learner_section)
        register_cohort_section(cohort_section)
        register_endpoints(router)
        register_section(home_section)
        register_seeder(seed_internships)
        register_part(large.PART)
        register_kinds()
        register_export(follow_up.personal_data)
        register_anonymiser(follow_up.anonymise)
        register_retention_hold(follow_up.AGREEMENT_HOLD)
        for purge in follow_up.PURGES:
            register_purge(purge)
        document_scopes.register(partner_documents)
