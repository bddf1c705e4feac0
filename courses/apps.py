from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Formations et atelier")

    def ready(self) -> None:
        from school.api import router
        from school.demo import register_seeder
        from school.large import register_part
        from school.models import document_scopes
        from school.portal import (
            register_cohort_section,
            register_learner_section,
            register_section,
        )
        from school.privacy import register_anonymiser, register_export
        from school.services import register_enrolment_check

        from . import large, portfolio
        from .api import register_endpoints
        from .demo import seed_courses
        from .demo_orders import seed_orders
        from .demo_timetable import seed_timetable
        from .documents import anonymise_sign_in_sheets, register_kinds
        from .models import customer_documents
        from .scheduling import cover_problems_on_joining
        from .views import cohort_section, learner_section, today_section

        register_endpoints(router)
        register_enrolment_check(cover_problems_on_joining)
        register_seeder(seed_courses)
        register_seeder(seed_timetable)
        register_seeder(seed_orders)
        register_part(large.PART)
        register_kinds()
        register_export(portfolio.personal_data)
        register_anonymiser(portfolio.anonymise)
        register_anonymiser(anonymise_sign_in_sheets)
        register_section(today_section)
        register_learner_section(learner_section)
        register_cohort_section(cohort_section)
        document_scopes.register(customer_documents)
