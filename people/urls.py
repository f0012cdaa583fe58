from django.urls import path

from people.views import pages as views
from people.views import sign_in_locks

app_name = "people"
urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("departments/", views.departments, name="departments"),
    path("import/", views.import_upload, name="import"),
    path("import/template.csv", views.import_template_csv, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/resume/", views.import_resume, name="import_resume"),
    path("import/<int:pk>/errors.csv", views.import_errors_csv, name="import_errors"),
    path("sign-in-locks/", sign_in_locks.sign_in_locks, name="sign_in_locks"),
    path("sign-in-locks/unlock/", sign_in_locks.sign_in_unlock, name="sign_in_unlock"),
]
