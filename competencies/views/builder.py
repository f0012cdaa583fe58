"""Placeholder: replaced by the real views."""

from django.http import Http404


def form_list(request, *args, **kwargs):
    raise Http404


def form_create(request, *args, **kwargs):
    raise Http404


def form_detail(request, *args, **kwargs):
    raise Http404


def form_new_draft(request, *args, **kwargs):
    raise Http404


def version_builder(request, *args, **kwargs):
    raise Http404


def version_publish(request, *args, **kwargs):
    raise Http404


def version_preview(request, *args, **kwargs):
    raise Http404


def rule_list(request, *args, **kwargs):
    raise Http404

