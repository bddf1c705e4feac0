"""Root URLconf: the site's pages, the admin, the API and its documentation."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import two_factor, views
from .api import MeView, ObtainTokenView, RevokeTokenView, router
from .throttle import limited

admin.site.site_header = _("MétalTech — administration")
admin.site.site_title = "MétalTech"
admin.site.index_title = _("Back-office de l'école")

api_urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    path("auth/logout/", RevokeTokenView.as_view(), name="logout"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]

urlpatterns = [
    # A namespace of its own: the router's "cohort-detail" must not shadow the page's.
    # Listed first, so that an API request is not matched against every page's pattern
    # (the includes under "" are each searched in full) before its own.
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path(
        "connexion/",
        limited("login")(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("connexion/double-facteur/", two_factor.enrol, name="two-factor-enrol"),
    path("connexion/code/", two_factor.verify, name="two-factor-verify"),
    path("deconnexion/", two_factor.exempt(auth_views.LogoutView.as_view()), name="logout"),
    path(
        "mot-de-passe/oubli/",
        limited("password_reset")(
            auth_views.PasswordResetView.as_view(
                template_name="school/password/form.html",
                email_template_name="school/password/email.txt",
                subject_template_name="school/password/subject.txt",
            )
        ),
        name="password_reset",
    ),
    path(
        "mot-de-passe/oubli/envoye/",
        auth_views.PasswordResetDoneView.as_view(template_name="school/password/done.html"),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/nouveau/fait/",
        auth_views.PasswordResetCompleteView.as_view(template_name="school/password/complete.html"),
        name="password_reset_complete",
    ),
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
    path("", include("billing.urls")),
    path("", include("assessments.urls")),
    # Choosing a language is allowed before the second factor (its page has the switch).
    path("i18n/setlang/", two_factor.exempt(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]

handler404 = "school.views.not_found"
