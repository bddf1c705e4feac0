from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("evaluations/", views.situation_list, name="situation-list"),
    path("evaluations/nouvelle/", views.situation_edit, name="situation-create"),
    path("evaluations/<int:pk>/", views.situation_grid, name="situation-grid"),
    path("evaluations/<int:pk>/modifier/", views.situation_edit, name="situation-edit"),
    path("evaluations/<int:pk>/verrouiller/", views.situation_lock, name="situation-lock"),
    path(
        "evaluations/<int:pk>/grilles/envoyer/",
        views.placement_grids_send,
        name="placement-grids-send",
    ),
    path("evaluations/grilles/", views.placement_grid_list, name="placement-grid-list"),
    path(
        "evaluations/grilles/<int:pk>/", views.placement_grid_detail, name="placement-grid-detail"
    ),
    path("evaluations/grille/<str:token>/", views.placement_grid_link, name="placement-grid-link"),
    path("evaluations/periodes/<int:pk>/", views.council, name="council"),
    path(
        "evaluations/periodes/<int:pk>/bulletins/",
        views.council_bulletins,
        name="council-bulletins",
    ),
    path("evaluations/promotions/<int:pk>/ccf/", views.jury, name="jury"),
    path("evaluations/promotions/<int:pk>/ccf/pdf/", views.jury_issue, name="jury-issue"),
    path("mes-resultats/", views.my_results, name="my-results"),
]
