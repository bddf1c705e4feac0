from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("entreprises/", views.company_list, name="company-list"),
    path("entreprises/<int:pk>/", views.company_detail, name="company-detail"),
]
