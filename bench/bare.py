"""The yardstick of ``python -m bench.http``: a bare Django REST framework view listing ten
rows from PostgreSQL, behind the same middleware, session authentication and throttles as the
application's API, with a plain ModelSerializer and no access rules."""

from __future__ import annotations

from rest_framework import generics, serializers

from people.models import Department


class BareDepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "parent"]


class BareDepartmentList(generics.ListAPIView):
    serializer_class = BareDepartmentSerializer
    pagination_class = None

    def get_queryset(self):
        return Department.objects.order_by("pk")[:10]
