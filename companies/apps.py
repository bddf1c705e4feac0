from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompaniesConfig(AppConfig):
    name = "companies"
    verbose_name = _("Entreprises")

    def ready(self) -> None:
        from school.api import router
        from school.demo import register_seeder
        from school.large import register_part
        from school.portal import register_section

        from . import large
        from .api import register_endpoints
        from .demo import seed_companies
        from .views import home_section

        register_endpoints(router)
        register_section(home_section)
        register_seeder(seed_companies)
        register_part(large.PART)
