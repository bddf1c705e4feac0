from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("offres/", views.offer_list, name="offer-list"),
    path("offres/nouvelle/", views.offer_edit, name="offer-create"),
    path("offres/<int:pk>/", views.offer_detail, name="offer-detail"),
    path("offres/<int:pk>/modifier/", views.offer_edit, name="offer-edit"),
    path("offres/<int:pk>/publier/", views.offer_publish, name="offer-publish"),
    path("offres/<int:pk>/candidater/", views.offer_apply, name="offer-apply"),
    path("candidatures/", views.application_list, name="application-list"),
    path("candidatures/<int:pk>/", views.application_detail, name="application-detail"),
    path(
        "candidatures/<int:pk>/<str:decision>/",
        views.application_decide,
        name="application-decide",
    ),
    path("stages/", views.placement_list, name="placement-list"),
    path("stages/suivi/", views.placement_follow_up, name="placement-follow-up"),
    path("stages/<int:pk>/", views.placement_detail, name="placement-detail"),
    path("stages/<int:pk>/modifier/", views.placement_edit, name="placement-edit"),
    path("stages/<int:pk>/evaluation/", views.evaluation_from_account, name="placement-evaluate"),
    path("stages/<int:pk>/signer/<int:signature_pk>/", views.placement_sign, name="placement-sign"),
    path("stages/<int:pk>/<str:action>/", views.placement_action, name="placement-action"),
    path("signer/<str:token>/", views.sign_link, name="sign-link"),
    path("evaluation/<str:token>/", views.evaluation_link, name="evaluation-link"),
    path("signer/<str:token>/convention.pdf", views.sign_link_pdf, name="sign-link-pdf"),
]
