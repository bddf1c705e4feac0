from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("ventes/", views.invoice_list, name="invoice-list"),
    path("ventes/gains/", views.earnings_page, name="earnings"),
    path("ventes/entreprises/<int:pk>/", views.company_earnings, name="company-earnings"),
    path("commandes/<int:pk>/ventes/<str:action>/", views.billing_action, name="billing-action"),
    path(
        "commandes/<int:pk>/ventes/<str:action>/<int:item>/",
        views.billing_action,
        name="billing-item-action",
    ),
]
