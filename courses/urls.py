from __future__ import annotations

from django.urls import path

from . import calendar, views

urlpatterns = [
    path("emploi-du-temps/", views.my_week, name="my-week"),
    path("absences/", views.excuse_list, name="excuse-list"),
    path("absences/<int:pk>/reponse/", views.excuse_decide, name="excuse-decide"),
    path("emploi-du-temps/<str:kind>/<int:pk>/", views.week, name="week"),
    path("seances/<int:pk>/emargement/", views.roll_call, name="roll-call"),
    path(
        "seances/<int:pk>/emargement/<int:learner_pk>/",
        views.mark_attendance,
        name="mark-attendance",
    ),
    path(
        "seances/<int:pk>/emargement/valider/",
        views.validate_attendance,
        name="validate-attendance",
    ),
    path("emargement/signer/", views.sign_presence, name="sign-presence"),
    path("autorisations-machines/", views.cover_expiring, name="cover-expiring"),
    path("commandes/", views.order_list, name="order-list"),
    path("commandes/nouvelle/", views.order_create, name="order-create"),
    path("commandes/<int:pk>/", views.order_detail, name="order-detail"),
    path("commandes/<int:pk>/<str:action>/", views.order_action, name="order-action"),
    path("apprenants/<int:pk>/competences/", views.portfolio, name="portfolio"),
    path("calendar/<str:token>.ics", calendar.feed, name="calendar-feed"),
    path("agenda/nouveau-lien/", calendar.rotate, name="calendar-rotate"),
]
