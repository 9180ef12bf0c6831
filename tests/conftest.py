from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from rest_framework.test import APIClient

from .builders import INLINE, client_for, make_member
from .models_queryset import Organization, Team

pytest_plugins = ["tests.jobs.support"]


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def inline():
    """Per-item bulk requests run inline, whatever their size (the tests of
    the background path set their own threshold)."""
    with override_settings(REST_FRAMEWORK_EXTENSIONS=INLINE):
        yield


@pytest.fixture
def world(db):
    """The list-route tests' tenants. alice is staff of acme, bob of globex;
    each sees only their organization's members."""
    alice = User.objects.create_user("alice")
    bob = User.objects.create_user("bob")
    acme = Organization.objects.create(name="acme")
    acme.staff.add(alice)
    globex = Organization.objects.create(name="globex")
    globex.staff.add(bob)
    acme_team = Team.objects.create(organization=acme, name="red")
    globex_team = Team.objects.create(organization=globex, name="blue")
    ann = make_member(acme, "ann", "ann@gmail.com", owner=alice)
    abe = make_member(acme, "abe", "abe@gmail.com", owner=alice)
    amy = make_member(acme, "amy", "amy@yahoo.com", owner=alice)
    gus = make_member(globex, "gus", "gus@gmail.com", owner=bob)
    return SimpleNamespace(
        alice=alice, bob=bob, acme=acme, globex=globex, acme_team=acme_team, globex_team=globex_team,
        ann=ann, abe=abe, amy=amy, gus=gus,
    )


@pytest.fixture
def alice_client(world):
    return client_for(world.alice)
