"""Placeholder: replaced by the real views."""

from django.http import Http404


def my_reviews(request, *args, **kwargs):
    raise Http404


def team_reviews(request, *args, **kwargs):
    raise Http404


def todo_list(request, *args, **kwargs):
    raise Http404


def appraisal_detail(request, *args, **kwargs):
    raise Http404


def appraisal_save(request, *args, **kwargs):
    raise Http404


def appraisal_action(request, *args, **kwargs):
    raise Http404


def appraisal_print(request, *args, **kwargs):
    raise Http404


def checkin_detail(request, *args, **kwargs):
    raise Http404


def plan_detail(request, *args, **kwargs):
    raise Http404
