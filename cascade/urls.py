"""Cascade pages. Views are split by page: priorities and measures, each goal page, periods, the matrix."""

from django.urls import path

from cascade.views import (
    department,
    goal_detail,
    goal_form,
    goal_import,
    goal_sets,
    matrix,
    my_goals,
    periods,
    priorities,
    team,
)

app_name = "cascade"
urlpatterns = [
    # Priorities and measures (cascade/views/priorities.py)
    path("priorities/", priorities.priority_list, name="priority_list"),
    path("priorities/new/", priorities.priority_create, name="priority_create"),
    path("priorities/<int:pk>/", priorities.priority_detail, name="priority_detail"),
    path("priorities/<int:pk>/edit/", priorities.priority_edit, name="priority_edit"),
    path("priorities/<int:pk>/tree/", priorities.priority_tree, name="priority_tree"),
    path("priorities/<int:pk>/tree/level/", priorities.priority_tree_level, name="priority_tree_level"),
    path("measures/new/", priorities.measure_create, name="measure_create"),
    path("measures/<int:pk>/", priorities.measure_detail, name="measure_detail"),
    path("measures/<int:pk>/edit/", priorities.measure_edit, name="measure_edit"),
    path("measures/<int:pk>/observations/", priorities.observation_add, name="observation_add"),
    path("measures/<int:pk>/observations/import/", priorities.observation_import, name="observation_import"),
    path("measures/<int:pk>/change-points/", priorities.change_point_add, name="change_point_add"),
    path(
        "measures/<int:pk>/change-points/<int:change_point_pk>/remove/",
        priorities.change_point_remove,
        name="change_point_remove",
    ),
    path("imports/<int:pk>/", priorities.import_detail, name="import_detail"),
    path("imports/<int:pk>/resume/", priorities.import_resume, name="import_resume"),
    # Goals, a module per page (cascade/views/my_goals.py, team.py, goal_detail.py, goal_form.py,
    # goal_sets.py, department.py, goal_import.py)
    path("goals/mine/", my_goals.my_goals, name="my_goals"),
    path("goals/team/", team.team_goals, name="team_goals"),
    path("goals/new/", goal_form.goal_create, name="goal_create"),
    path("goals/import/", goal_import.goal_import, name="goal_import"),
    path("goals/sets/submit/", goal_sets.set_submit, name="set_submit"),
    path("goals/sets/approve/", goal_sets.set_approve, name="set_approve"),
    path("goals/sets/return/", goal_sets.set_return, name="set_return"),
    path("goals/<int:pk>/", goal_detail.goal_detail, name="goal_detail"),
    path("goals/<int:pk>/edit/", goal_form.goal_edit, name="goal_edit"),
    path("goals/<int:pk>/reopen/", goal_detail.goal_reopen, name="goal_reopen"),
    path("goals/<int:pk>/cancel/", goal_detail.goal_cancel, name="goal_cancel"),
    path("goals/<int:pk>/cancel/ask/", goal_detail.goal_cancel_request, name="goal_cancel_request"),
    path("goals/<int:pk>/cancel/keep/", goal_detail.goal_cancel_keep, name="goal_cancel_keep"),
    path("goals/<int:pk>/close/ask/", goal_detail.goal_close_request, name="goal_close_request"),
    path("goals/<int:pk>/close/sign-off/", goal_detail.goal_sign_off, name="goal_sign_off"),
    path("goals/<int:pk>/close/decline/", goal_detail.goal_close_decline, name="goal_close_decline"),
    path("goals/<int:pk>/close/by-measure/", goal_detail.goal_close_by_measure, name="goal_close_by_measure"),
    path("goals/<int:pk>/close/reopen/", goal_detail.goal_reopen_result, name="goal_reopen_result"),
    path("goals/<int:pk>/progress/", goal_detail.goal_progress, name="goal_progress"),
    path("departments/<int:pk>/goals/", department.department_goals, name="department_goals"),
    path("feed/", team.team_feed, name="team_feed"),
    # Goal periods and the default one, for HR (cascade/views/periods.py)
    path("periods/", periods.period_list, name="period_list"),
    path("periods/<int:pk>/default/", periods.period_make_default, name="period_make_default"),
    # The goal-linkage matrix (cascade/views/matrix.py)
    path("matrix/", matrix.matrix, name="matrix"),
    path("matrix/cell/", matrix.matrix_cell, name="matrix_cell"),
    path("matrix/export.csv", matrix.matrix_csv, name="matrix_csv"),
    path("matrix/export.xlsx", matrix.matrix_xlsx, name="matrix_xlsx"),
]
