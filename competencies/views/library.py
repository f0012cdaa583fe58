"""Placeholder: replaced by the real views."""

from django.http import Http404


def competency_list(request, *args, **kwargs):
    raise Http404


def competency_create(request, *args, **kwargs):
    raise Http404


def competency_detail(request, *args, **kwargs):
    raise Http404


def competency_edit(request, *args, **kwargs):
    raise Http404


def competency_retire(request, *args, **kwargs):
    raise Http404


def scale_list(request, *args, **kwargs):
    raise Http404


def scale_create(request, *args, **kwargs):
    raise Http404


def scale_detail(request, *args, **kwargs):
    raise Http404


def scale_edit(request, *args, **kwargs):
    raise Http404

