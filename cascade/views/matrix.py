"""Placeholder: replaced by the real views."""

from django.http import Http404


def matrix(request, *args, **kwargs):
    raise Http404


def matrix_cell(request, *args, **kwargs):
    raise Http404


def matrix_csv(request, *args, **kwargs):
    raise Http404


def matrix_xlsx(request, *args, **kwargs):
    raise Http404

