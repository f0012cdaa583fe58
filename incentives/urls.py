"""Incentive pages: HR's plans and payouts, everyone's own payouts, the recognition feed, career pathways."""

from django.urls import path

from incentives.views import pathways, recognition
from incentives.views.plans import approval, components, compute, exports, payouts, setup, targets

app_name = "incentives"
urlpatterns = [
    # Plans and payouts (incentives/views/plans/, a module per page)
    path("plans/", setup.plan_list, name="plan_list"),
    path("plans/new/", setup.plan_create, name="plan_create"),
    path("plans/<int:pk>/", setup.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", setup.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/components/", components.components_edit, name="components_edit"),
    path("plans/<int:pk>/targets/", targets.targets_edit, name="targets_edit"),
    path("plans/<int:pk>/targets/import/", targets.targets_import, name="targets_import"),
    path("plans/<int:pk>/targets/imports/<int:import_pk>/", targets.target_import_detail, name="target_import_detail"),
    path(
        "plans/<int:pk>/targets/imports/<int:import_pk>/resume/",
        targets.target_import_resume,
        name="target_import_resume",
    ),
    path("plans/<int:pk>/compute/", compute.compute, name="compute"),
    path("plans/<int:pk>/compute/progress/", compute.compute_progress, name="compute_progress"),
    path("plans/<int:pk>/compute/resume/", compute.compute_resume, name="compute_resume"),
    path("plans/<int:pk>/payouts/", payouts.payout_list, name="payout_list"),
    path("plans/<int:pk>/approve/", approval.plan_approve, name="plan_approve"),
    path("plans/<int:pk>/publish/", approval.plan_publish, name="plan_publish"),
    path("plans/<int:pk>/export.csv", exports.export_csv, name="export_csv"),
    path("plans/<int:pk>/export.xlsx", exports.export_xlsx, name="export_xlsx"),
    path("payouts/", payouts.my_payouts, name="my_payouts"),
    path("payouts/<int:pk>/", payouts.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/adjust/", payouts.payout_adjust, name="payout_adjust"),
    # Recognition and notifications (incentives/views/recognition.py)
    path("recognition/", recognition.feed, name="feed"),
    path("recognition/new/", recognition.thank, name="thank"),
    path("recognition/<int:pk>/", recognition.post_detail, name="post_detail"),
    path("recognition/<int:pk>/hide/", recognition.post_hide, name="post_hide"),
    path("notifications/", recognition.notifications, name="notifications"),
    path("notifications/read/", recognition.notifications_read, name="notifications_read"),
    # Career pathways (incentives/views/pathways.py)
    path("pathways/", pathways.pathway_list, name="pathway_list"),
    path("pathways/new/", pathways.pathway_create, name="pathway_create"),
    path("pathways/run/", pathways.run_now, name="pathway_run"),
    path("pathways/<int:pk>/", pathways.pathway_detail, name="pathway_detail"),
    path("pathways/<int:pk>/edit/", pathways.pathway_edit, name="pathway_edit"),
    path("pathways/candidates/<int:pk>/confirm/", pathways.candidate_confirm, name="candidate_confirm"),
    path("pathways/candidates/<int:pk>/decline/", pathways.candidate_decline, name="candidate_decline"),
]
