"""Viewsets for the hostile-input tests (strict list route, idempotency),
mounted under ``sec/``."""

import threading

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from rest_bulk_ext.mixins import BulkOperationsMixin
from tests.bulk_endpoint.views import TxnViewSet
from tests.list_route.views import MemberViewSet
from tests.testapp.models import CodeItem, Member


class MemberFilterSet(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter()
    score = django_filters.RangeFilter()
    status = django_filters.MultipleChoiceFilter(choices=Member.STATUS_CHOICES)
    domain = django_filters.CharFilter(method="filter_domain")
    order = django_filters.OrderingFilter(fields=["username"])

    class Meta:
        model = Member
        fields = ["email"]

    def filter_domain(self, queryset, name, value):
        return queryset.filter(email__endswith="@" + value)


class FilterSetClassMemberViewSet(MemberViewSet):
    filterset_fields = None
    filterset_class = MemberFilterSet


class ListFieldsMemberViewSet(MemberViewSet):
    filterset_fields = ["email", "is_active"]


class SearchMemberViewSet(MemberViewSet):
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_fields = ["email"]
    search_fields = ["username"]
    ordering_fields = ["username"]
    pagination_class = PageNumberPagination


class TeamNameBackend:
    """A custom backend that cannot say which parameters it reads."""

    def filter_queryset(self, request, queryset, view):
        name = request.query_params.get("team_name")
        return queryset.filter(team__name=name) if name else queryset


class DeclaringTeamNameBackend(TeamNameBackend):
    def get_bulk_query_params(self, request, queryset, view):
        return ["team_name"]


class CustomBackendMemberViewSet(MemberViewSet):
    filter_backends = [DjangoFilterBackend, TeamNameBackend]


class DeclaredCustomBackendMemberViewSet(CustomBackendMemberViewSet):
    bulk_allowed_query_params = ["team_name"]


class SelfDeclaringBackendMemberViewSet(MemberViewSet):
    filter_backends = [DjangoFilterBackend, DeclaringTeamNameBackend]


class LenientMemberViewSet(MemberViewSet):
    bulk_strict_query_params = False


class GatedTxnViewSet(TxnViewSet):
    """Holds each inline write at a gate the test opens, so a second request
    arrives while the first still runs."""

    entered = threading.Event()
    gate = threading.Event()

    def perform_bulk_operation(self, bulk_request):
        type(self).entered.set()
        type(self).gate.wait(timeout=30)
        return super().perform_bulk_operation(bulk_request)


class LooseCodeItemSerializer(serializers.ModelSerializer):
    """No length or range checks: the database has the last word."""

    label = serializers.CharField()
    quantity = serializers.IntegerField()

    class Meta:
        model = CodeItem
        fields = ["code", "label", "quantity"]


class LooseCodeItemViewSet(BulkOperationsMixin, viewsets.ModelViewSet):
    queryset = CodeItem.objects.all()
    serializer_class = LooseCodeItemSerializer


class UnavailableTxnViewSet(TxnViewSet):
    """Answers 503 (as a service that is down would) after running."""

    def get_bulk_response(self, result):
        return Response({"detail": "Try again later."}, status=503, headers={"Retry-After": "1"})
