"""One router for /api/v1/, so that its root lists every app's resources.

Each app's ``api/urls.py`` offers ``register(router)`` and any extra paths.
"""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from appraisals.api import urls as appraisals_api
from audits.api import urls as audits_api
from cascade.api import urls as cascade_api
from competencies.api import urls as competencies_api
from incentives.api import urls as incentives_api
from people.api import urls as people_api

router = DefaultRouter()
for app in (people_api, cascade_api, competencies_api, appraisals_api, incentives_api, audits_api):
    app.register(router)

urlpatterns = [
    path("", include(people_api.urlpatterns)),
    path("", include(cascade_api.urlpatterns)),
    *router.urls,
]
