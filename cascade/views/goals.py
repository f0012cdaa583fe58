"""Placeholder: replaced by the real views."""

from django.http import Http404


def my_goals(request, *args, **kwargs):
    raise Http404


def team_goals(request, *args, **kwargs):
    raise Http404


def goal_create(request, *args, **kwargs):
    raise Http404


def goal_import(request, *args, **kwargs):
    raise Http404


def set_submit(request, *args, **kwargs):
    raise Http404


def set_approve(request, *args, **kwargs):
    raise Http404


def set_return(request, *args, **kwargs):
    raise Http404


def goal_detail(request, *args, **kwargs):
    raise Http404


def goal_edit(request, *args, **kwargs):
    raise Http404


def goal_reopen(request, *args, **kwargs):
    raise Http404


def goal_progress(request, *args, **kwargs):
    raise Http404


def department_goals(request, *args, **kwargs):
    raise Http404


def team_feed(request, *args, **kwargs):
    raise Http404

