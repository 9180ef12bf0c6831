"""URLs for the hostile-input tests, under ``sec/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("class-members", views.FilterSetClassMemberViewSet, basename="sec-class-member")
router.register("list-members", views.ListFieldsMemberViewSet, basename="sec-list-member")
router.register("search-members", views.SearchMemberViewSet, basename="sec-search-member")
router.register("custom-members", views.CustomBackendMemberViewSet, basename="sec-custom-member")
router.register("declared-members", views.DeclaredCustomBackendMemberViewSet, basename="sec-declared-member")
router.register("self-declared-members", views.SelfDeclaringBackendMemberViewSet, basename="sec-selfdecl-member")
router.register("lenient-members", views.LenientMemberViewSet, basename="sec-lenient-member")
router.register("loose-code-items", views.LooseCodeItemViewSet, basename="sec-loose-code-item")
router.register("unavailable-txns", views.UnavailableTxnViewSet, basename="sec-unavailable-txn")
router.register("gated-txns", views.GatedTxnViewSet, basename="sec-gated-txn")

urlpatterns = [
    path("sec/", include(router.urls)),
]
