"""Placeholder: replaced by the real views."""

from django.http import Http404


def cycle_list(request, *args, **kwargs):
    raise Http404


def cycle_create(request, *args, **kwargs):
    raise Http404


def cycle_detail(request, *args, **kwargs):
    raise Http404


def cycle_edit(request, *args, **kwargs):
    raise Http404


def cycle_launch(request, *args, **kwargs):
    raise Http404


def launch_progress(request, *args, **kwargs):
    raise Http404


def participants_add(request, *args, **kwargs):
    raise Http404


def phase_move(request, *args, **kwargs):
    raise Http404


def cycle_close(request, *args, **kwargs):
    raise Http404


def nudge(request, *args, **kwargs):
    raise Http404


def export_csv(request, *args, **kwargs):
    raise Http404


def export_xlsx(request, *args, **kwargs):
    raise Http404


def history(request, *args, **kwargs):
    raise Http404
