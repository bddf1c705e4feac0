from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    """Assessment and term reports: above ``courses`` (courses, competencies, the
    émargement) and ``internships`` (a CCF situation in PFMP goes to the tutor)."""

    name = "assessments"
    verbose_name = _("Évaluations et bulletins")

    def ready(self) -> None:
        from school.api import router
        from school.demo import register_seeder

        from .api import register_endpoints
        from .demo import seed_assessments
        from .documents import register_kinds

        register_endpoints(router)
        register_kinds()
        register_seeder(seed_assessments)
