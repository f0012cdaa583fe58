"""Alignment pages: the dashboard, findings, audit runs and settings, surveys, correlation analysis."""

from django.urls import path

from audits.views import correlation, dashboard, surveys

app_name = "audits"
urlpatterns = [
    # Dashboard, findings, runs and settings (audits/views/dashboard.py)
    path("", dashboard.dashboard, name="dashboard"),
    path("findings/", dashboard.finding_list, name="finding_list"),
    path("findings/<int:pk>/", dashboard.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/act/", dashboard.finding_act, name="finding_act"),
    path("runs/", dashboard.run_list, name="run_list"),
    path("runs/now/", dashboard.run_now, name="run_now"),
    path("runs/<int:pk>/", dashboard.run_detail, name="run_detail"),
    path("runs/<int:pk>/progress/", dashboard.run_progress, name="run_progress"),
    path("runs/<int:pk>/rerun/", dashboard.run_rerun, name="run_rerun"),
    path("runs/<int:pk>/resume/", dashboard.run_resume, name="run_resume"),
    path("settings/", dashboard.audit_settings, name="settings"),
    path("settings/rules/<str:key>/", dashboard.rule_edit, name="rule_edit"),
    path("settings/schedule/", dashboard.schedule_edit, name="schedule_edit"),
    # Feedback surveys (audits/views/surveys.py)
    path("surveys/", surveys.survey_list, name="survey_list"),
    path("surveys/new/", surveys.survey_create, name="survey_create"),
    path("surveys/<int:pk>/", surveys.survey_detail, name="survey_detail"),
    path("surveys/<int:pk>/edit/", surveys.survey_edit, name="survey_edit"),
    path("surveys/<int:pk>/state/", surveys.survey_state, name="survey_state"),
    path("surveys/<int:pk>/results/", surveys.survey_results, name="survey_results"),
    path("surveys/<int:pk>/answer/", surveys.survey_answer, name="survey_answer"),
    # Metric correlation analysis (audits/views/correlation.py)
    path("correlation/", correlation.correlation, name="correlation"),
]
