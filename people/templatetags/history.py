"""``{% history_url obj %}``: the address of one record's history in HR's action log."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.db.models import Model
from django.urls import reverse

from people.selectors.history import kind_of

register = template.Library()


@register.simple_tag
def history_url(obj: Model) -> str:
    return f"{reverse('history:list')}?{urlencode({'kind': kind_of(obj), 'object': obj.pk})}"


@register.filter
def verbose_name_of(obj: Model) -> str:
    """The record's kind in words ("goal", "incentive plan")."""
    return str(obj._meta.verbose_name)
