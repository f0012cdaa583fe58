"""Placeholder: replaced by the real views."""

from django.http import Http404


def priority_list(request, *args, **kwargs):
    raise Http404


def priority_create(request, *args, **kwargs):
    raise Http404


def priority_detail(request, *args, **kwargs):
    raise Http404


def priority_edit(request, *args, **kwargs):
    raise Http404


def priority_tree(request, *args, **kwargs):
    raise Http404


def measure_create(request, *args, **kwargs):
    raise Http404


def measure_detail(request, *args, **kwargs):
    raise Http404


def measure_edit(request, *args, **kwargs):
    raise Http404


def observation_add(request, *args, **kwargs):
    raise Http404


def observation_import(request, *args, **kwargs):
    raise Http404


def import_detail(request, *args, **kwargs):
    raise Http404

