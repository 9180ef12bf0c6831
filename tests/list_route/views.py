"""Viewsets for the queryset-level (list route) tests, mounted under ``qs/``."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError

from rest_bulk_ext.mixins import BulkOperationsMixin, ListDestroyModelMixin, ListUpdateModelMixin
from tests.testapp.models import Member, Organization, Project, Team


def scoped_organizations(request):
    """The tenancy rule: a user sees the organizations they are staff of."""
    if not request.user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(staff=request.user)


def no_example_dot_com(value):
    if value.endswith("@example.com"):
        raise ValidationError("example.com addresses are not allowed.")


class MemberSerializer(serializers.ModelSerializer):
    # source: the API calls the `nickname` column `display_name`; no max_length
    # here, so a too-long value reaches the database.
    display_name = serializers.CharField(source="nickname", required=False, allow_blank=True)
    email = serializers.EmailField(required=False, validators=[no_example_dot_com])
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())
    # Writable without a serializer-side check, so the database has the last word.
    team_id = serializers.IntegerField(required=False, allow_null=True, write_only=True)
    # A dotted source: one UPDATE of members cannot write it.
    organization_name = serializers.CharField(source="organization.name", required=False)

    class Meta:
        model = Member
        fields = [
            "id", "username", "email", "is_active", "status", "team", "team_id", "display_name",
            "score", "owner", "updated_at", "organization", "organization_name",
        ]
        read_only_fields = ["organization", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["team"].queryset = Team.objects.filter(organization__in=scoped_organizations(request))

    def validate_score(self, value):
        if value % 2:
            raise ValidationError("Score must be even.")
        return value

    def validate_email(self, value):
        return value.lower()

    def validate(self, attrs):
        # Whole-object rule: a bulk update does not run it (documented).
        if attrs.get("status") == "archived" and attrs.get("is_active", True):
            raise ValidationError("Deactivate a member before archiving it.")
        return attrs


class MemberViewSet(ListUpdateModelMixin, ListDestroyModelMixin, viewsets.ModelViewSet):
    serializer_class = MemberSerializer
    filterset_fields = {"email": ["exact", "endswith"], "is_active": ["exact"], "status": ["exact"]}

    def get_queryset(self):
        return Member.objects.filter(organization__in=scoped_organizations(self.request))

    def perform_create(self, serializer):
        serializer.save(organization=scoped_organizations(self.request).first())


class IsOwner(permissions.BasePermission):
    def has_object_permission(self, request, view, obj):
        return obj.owner_id == request.user.pk


class OwnedMemberViewSet(MemberViewSet):
    permission_classes = [permissions.IsAuthenticated, IsOwner]


class UncheckedOwnedMemberViewSet(OwnedMemberViewSet):
    bulk_check_object_permissions = False


class ModelPermissionMemberViewSet(MemberViewSet):
    permission_classes = [permissions.DjangoModelPermissions]


class HookedMemberViewSet(MemberViewSet):
    """Records what the hooks see; ``?fail=pre|post`` makes a hook raise,
    ``?sneak`` inserts a matching row just before the UPDATE."""

    calls = []
    # Test switches, not filters: declared so the strict list route takes them.
    bulk_allowed_query_params = ["fail", "sneak"]

    def pre_save_bulk(self, queryset, update_bulk_dict):
        self._maybe_fail("pre")
        update_bulk_dict["nickname"] = "hooked"
        if "sneak" in self.request.query_params:
            # Stands in for a concurrent insert between the COUNT and the UPDATE.
            Member.objects.create(
                organization=scoped_organizations(self.request).first(), username="sneaky", email="s@gmail.com"
            )

    def post_save_bulk(self, queryset, update_bulk_dict):
        self.calls.append(("post_save_bulk", sorted(queryset.values_list("username", "status"))))
        self._maybe_fail("post")

    def pre_delete_bulk(self, queryset):
        self._maybe_fail("pre")

    def post_delete_bulk(self, queryset):
        self.calls.append(("post_delete_bulk", queryset.count(), sorted(self.bulk_pinned_pks)))
        self._maybe_fail("post")

    def _maybe_fail(self, when):
        if self.request.query_params.get("fail") == when:
            raise DjangoPermissionDenied(f"{when} hook refused")


class ProjectSerializer(serializers.ModelSerializer):
    tasks = serializers.StringRelatedField(many=True, read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "labels", "tasks", "organization"]


class NestedTaskSerializer(serializers.Serializer):
    title = serializers.CharField()


class ProjectNestedSerializer(ProjectSerializer):
    new_tasks = NestedTaskSerializer(many=True, required=False, source="tasks")

    class Meta(ProjectSerializer.Meta):
        fields = ProjectSerializer.Meta.fields + ["new_tasks"]


class ProjectViewSet(ListUpdateModelMixin, ListDestroyModelMixin, viewsets.ModelViewSet):
    serializer_class = ProjectNestedSerializer
    filterset_fields = ["name"]

    def get_queryset(self):
        return Project.objects.filter(organization__in=scoped_organizations(self.request))



# --- schema tests -------------------------------------------------------------


class DocumentedDjangoFilterBackend(DjangoFilterBackend):
    """django-filter 25.1+ dropped the hook DRF's schema generator calls on
    list views; this is the workaround docs/schema.md recommends."""

    def get_schema_operation_parameters(self, view):
        try:
            queryset = view.get_queryset()
        except Exception:
            queryset = None
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return []
        return [
            {"name": name, "in": "query", "required": bool(field.extra.get("required")), "schema": {"type": "string"}}
            for name, field in filterset_class.base_filters.items()
        ]


class SchemaMemberViewSet(ListUpdateModelMixin, ListDestroyModelMixin, BulkOperationsMixin, viewsets.ModelViewSet):
    """Members, with every bulk route."""

    queryset = Member.objects.all()
    serializer_class = MemberSerializer
    filter_backends = [DocumentedDjangoFilterBackend]
    filterset_fields = ["email", "is_active"]


class SchemaProjectViewSet(ListDestroyModelMixin, viewsets.ModelViewSet):
    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    filter_backends = [DocumentedDjangoFilterBackend]
    filterset_fields = ["name"]
