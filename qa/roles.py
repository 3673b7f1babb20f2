"""Roles. A user is a researcher or a worker by membership of the Django group of that name;
an admin is a superuser (sees and manages everything). Groups keep roles visible and editable in
the Django admin, and a person may hold both roles (a researcher trying the worker page).
"""

from django.contrib.auth.models import Group
from rest_framework.permissions import BasePermission

RESEARCHER = "researcher"
WORKER = "worker"
ROLES = (RESEARCHER, WORKER)


def has_role(user, role: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    cache = getattr(user, "_role_cache", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._role_cache = cache
    return role in cache


def is_researcher(user) -> bool:
    return has_role(user, RESEARCHER)


def is_worker(user) -> bool:
    return has_role(user, WORKER)


def role_group(role: str) -> Group:
    group, _ = Group.objects.get_or_create(name=role)
    return group


def user_add_role(*, user, role: str) -> None:
    user.groups.add(role_group(role))
    user.__dict__.pop("_role_cache", None)


class IsResearcher(BasePermission):
    message = "This needs a researcher account."

    def has_permission(self, request, view):
        return is_researcher(request.user)


class IsWorker(BasePermission):
    message = "This needs a worker account."

    def has_permission(self, request, view):
        return is_worker(request.user)


def roles_context(request):
    user = getattr(request, "user", None)
    return {"is_researcher": is_researcher(user), "is_worker": is_worker(user)}


def researcher_required(view):
    """For HTML views: log in first; a signed-in non-researcher gets 403."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_researcher(request.user):
            raise PermissionDenied("This page is for researchers.")
        return view(request, *args, **kwargs)

    return wrapped


def worker_required(view):
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_worker(request.user):
            raise PermissionDenied("This page is for workers.")
        return view(request, *args, **kwargs)

    return wrapped
