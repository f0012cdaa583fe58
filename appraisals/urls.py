"""Review-cycle pages: HR's cycle set-up and dashboards, and everyone's own records."""

from django.urls import path

from appraisals.views import appraisal, checkin, cycle_dashboard, cycle_results, cycle_setup, plan, reviews

app_name = "appraisals"
urlpatterns = [
    # HR: cycles (appraisals/views/cycle_setup.py, cycle_dashboard.py, cycle_results.py)
    path("cycles/", cycle_setup.cycle_list, name="cycle_list"),
    path("cycles/new/", cycle_setup.cycle_create, name="cycle_create"),
    path("cycles/<int:pk>/", cycle_dashboard.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/edit/", cycle_setup.cycle_edit, name="cycle_edit"),
    path("cycles/<int:pk>/launch/", cycle_dashboard.cycle_launch, name="cycle_launch"),
    path("cycles/<int:pk>/launch/progress/", cycle_dashboard.launch_progress, name="launch_progress"),
    path("cycles/<int:pk>/launch/resume/", cycle_dashboard.launch_resume, name="launch_resume"),
    path("cycles/<int:pk>/participants/add/", cycle_setup.participants_add, name="participants_add"),
    path("cycles/<int:pk>/phase/", cycle_dashboard.phase_move, name="phase_move"),
    path("cycles/<int:pk>/close/", cycle_dashboard.cycle_close, name="cycle_close"),
    path("cycles/<int:pk>/nudge/", cycle_dashboard.nudge, name="nudge"),
    path("cycles/<int:pk>/export.csv", cycle_results.export_csv, name="export_csv"),
    path("cycles/<int:pk>/export.xlsx", cycle_results.export_xlsx, name="export_xlsx"),
    path("cycles/<int:pk>/history/", cycle_results.history, name="history"),
    # Everyone's own records (appraisals/views/reviews.py, appraisal.py, checkin.py, plan.py)
    path("", reviews.my_reviews, name="my_reviews"),
    path("team/", reviews.team_reviews, name="team_reviews"),
    path("todo/", reviews.todo_list, name="todo_list"),
    path("appraisals/<int:pk>/", appraisal.appraisal_detail, name="appraisal_detail"),
    path("appraisals/<int:pk>/save/", appraisal.appraisal_save, name="appraisal_save"),
    path("appraisals/<int:pk>/action/", appraisal.appraisal_action, name="appraisal_action"),
    path("appraisals/<int:pk>/print/", appraisal.appraisal_print, name="appraisal_print"),
    path("check-ins/<int:pk>/", checkin.checkin_detail, name="checkin_detail"),
    path("development-plans/<int:pk>/", plan.plan_detail, name="plan_detail"),
]
