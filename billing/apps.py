from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    """The workshop's sales: above ``courses`` (where orders live), below nothing."""

    name = "billing"
    verbose_name = _("Ventes de l'atelier")

    def ready(self) -> None:
        from courses.models import order_sections
        from school.api import router
        from school.demo import register_seeder
        from school.models import document_scopes
        from school.portal import register_section

        from .api import register_endpoints
        from .demo import seed_sales
        from .documents import customer_papers, register_kinds
        from .views import order_section, overdue_section

        register_endpoints(router)
        register_kinds()
        document_scopes.register(customer_papers)
        order_sections.register(order_section)
        register_section(overdue_section)
        register_seeder(seed_sales)
