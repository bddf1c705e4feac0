"""Root URLconf: the site's pages, the admin, the API and its documentation."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views
from .api import MeView, ObtainTokenView, router

admin.site.site_header = _("MétalTech — administration")
admin.site.site_title = "MétalTech"
admin.site.index_title = _("Back-office de l'école")

api_urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path(
        "connexion/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("promotions/", views.cohort_list, name="cohort-list"),
    path("promotions/<int:pk>/", views.cohort_detail, name="cohort-detail"),
    path("apprenants/", views.learner_list, name="learner-list"),
    path("apprenants/<int:pk>/", views.learner_detail, name="learner-detail"),
    path("documents/lots/nouveau/", views.batch_create, name="batch-create"),
    path("documents/lots/<int:pk>/", views.batch_detail, name="batch-detail"),
    path("documents/lots/<int:pk>/zip/", views.batch_zip, name="batch-zip"),
    path("", include("companies.urls")),
    path("", include("courses.urls")),
    path("", include("internships.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # A namespace of its own: the router's "cohort-detail" must not shadow the page's.
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
