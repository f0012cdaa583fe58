"""Competency pages for HR: the library, rating scales, the form builder and assignment rules."""

from django.urls import path

from competencies.views import appraisal_forms, assignment, builder, library

app_name = "competencies"
urlpatterns = [
    # The library and scales (competencies/views/library.py)
    path("", library.competency_list, name="competency_list"),
    path("new/", library.competency_create, name="competency_create"),
    path("<int:pk>/", library.competency_detail, name="competency_detail"),
    path("<int:pk>/edit/", library.competency_edit, name="competency_edit"),
    path("<int:pk>/retire/", library.competency_retire, name="competency_retire"),
    path("scales/", library.scale_list, name="scale_list"),
    path("scales/new/", library.scale_create, name="scale_create"),
    path("scales/<int:pk>/", library.scale_detail, name="scale_detail"),
    path("scales/<int:pk>/edit/", library.scale_edit, name="scale_edit"),
    # Appraisal forms (competencies/views/appraisal_forms.py); the builder of a version (views/builder.py)
    path("forms/", appraisal_forms.form_list, name="form_list"),
    path("forms/new/", appraisal_forms.form_create, name="form_create"),
    path("forms/<int:pk>/", appraisal_forms.form_detail, name="form_detail"),
    path("forms/<int:pk>/new-draft/", appraisal_forms.form_new_draft, name="form_new_draft"),
    path("forms/<int:pk>/versions/<int:number>/", builder.version_builder, name="version_builder"),
    path("forms/<int:pk>/versions/<int:number>/publish/", builder.version_publish, name="version_publish"),
    path("forms/<int:pk>/versions/<int:number>/preview/", appraisal_forms.version_preview, name="version_preview"),
    # Which appraisal form applies to whom (competencies/views/assignment.py)
    path("rules/", assignment.rule_list, name="rule_list"),
]
