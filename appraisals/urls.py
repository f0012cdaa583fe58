"""Review-cycle pages: HR's cycle set-up and dashboards, and everyone's own records."""

from django.urls import path

from appraisals.views import cycles, records

app_name = "appraisals"
urlpatterns = [
    # HR: cycles (appraisals/views/cycles.py)
    path("cycles/", cycles.cycle_list, name="cycle_list"),
    path("cycles/new/", cycles.cycle_create, name="cycle_create"),
    path("cycles/<int:pk>/", cycles.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/edit/", cycles.cycle_edit, name="cycle_edit"),
    path("cycles/<int:pk>/launch/", cycles.cycle_launch, name="cycle_launch"),
    path("cycles/<int:pk>/launch/progress/", cycles.launch_progress, name="launch_progress"),
    path("cycles/<int:pk>/launch/resume/", cycles.launch_resume, name="launch_resume"),
    path("cycles/<int:pk>/participants/add/", cycles.participants_add, name="participants_add"),
    path("cycles/<int:pk>/phase/", cycles.phase_move, name="phase_move"),
    path("cycles/<int:pk>/close/", cycles.cycle_close, name="cycle_close"),
    path("cycles/<int:pk>/nudge/", cycles.nudge, name="nudge"),
    path("cycles/<int:pk>/export.csv", cycles.export_csv, name="export_csv"),
    path("cycles/<int:pk>/export.xlsx", cycles.export_xlsx, name="export_xlsx"),
    path("cycles/<int:pk>/history/", cycles.history, name="history"),
    # Everyone's own records (appraisals/views/records.py)
    path("", records.my_reviews, name="my_reviews"),
    path("team/", records.team_reviews, name="team_reviews"),
    path("todo/", records.todo_list, name="todo_list"),
    path("appraisals/<int:pk>/", records.appraisal_detail, name="appraisal_detail"),
    path("appraisals/<int:pk>/save/", records.appraisal_save, name="appraisal_save"),
    path("appraisals/<int:pk>/action/", records.appraisal_action, name="appraisal_action"),
    path("appraisals/<int:pk>/print/", records.appraisal_print, name="appraisal_print"),
    path("check-ins/<int:pk>/", records.checkin_detail, name="checkin_detail"),
    path("development-plans/<int:pk>/", records.plan_detail, name="plan_detail"),
]
