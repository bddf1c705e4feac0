from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Formations et atelier")

    def ready(self) -> None:
        from school.demo import register_seeder

        from .demo import seed_courses

        register_seeder(seed_courses)
