"""
Models for the queryset-level (list route) tests.

``Member`` is the "user" of the headline requests. Nothing points at it, so
Django deletes it with one fast DELETE; it carries an email, a flag, a
choices field, a tenant-scoped foreign key (``team``), an owner for object
permissions and an ``auto_now`` timestamp. ``Project`` has the relations a
bulk write cannot follow (many-to-many, cascaded and protected children).
"""

from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100, unique=True)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="organizations")

    def __str__(self):
        return self.name


class Team(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Member(models.Model):
    STATUS_CHOICES = [("draft", "Draft"), ("published", "Published"), ("archived", "Archived")]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="members")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    username = models.CharField(max_length=30, unique=True)
    email = models.EmailField(max_length=254)
    is_active = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default="draft")
    nickname = models.CharField(max_length=20, blank=True, default="")
    score = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.username


class Label(models.Model):
    name = models.CharField(max_length=50)


class Project(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=100)
    labels = models.ManyToManyField(Label, blank=True, related_name="projects")

    class Meta:
        ordering = ["id"]


class Task(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=100)


class Contract(models.Model):
    """Keeps its project from being deleted (``PROTECT``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="contracts")
