from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render

from qa.health import health_report
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
    """{"ok", "database": "ok"|"unreachable", "broker": "ok"|"unreachable"|"eager", "vendor"}; 503
    when the database, or a configured broker, is unreachable. Quick: the broker check times out
    after a second."""
    report, healthy = health_report()
    return JsonResponse(report, status=200 if healthy else 503)
