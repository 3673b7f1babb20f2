from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render

from qa.roles import is_researcher, is_worker


@login_required
def home(request):
    """Send each role to its own start page."""
    if is_researcher(request.user):
        return redirect("dataset-list")
    if is_worker(request.user):
        return redirect("worker-home")
    return render(request, "qa/no_role.html")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True, "database": connection.vendor})
