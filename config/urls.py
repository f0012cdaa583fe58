from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.health import healthz
from core.api import SchemaReadable, docs_page
from home.views import home
from people.forms import SignInForm

urlpatterns = [
    path("", home, name="home"),
    path("people/", include("people.urls")),
    path("history/", include("people.history_urls")),
    path("cascade/", include("cascade.urls")),
    path("competencies/", include("competencies.urls")),
    path("reviews/", include("appraisals.urls")),
    path("incentives/", include("incentives.urls")),
    path("alignment/", include("audits.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_router")),
    # Public in development only (THROUGHLINE_API_DOCS_PUBLIC); in production, for people signed in.
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[SchemaReadable]), name="api-schema"),
    path(
        "api/docs/",
        docs_page(SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[SchemaReadable])),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
]
