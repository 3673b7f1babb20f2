"""HTML pages: the worker's labelling page and the researcher's console. Thin: parse, call one
service or selector, render. The labelling page itself talks to the JSON API."""

import base64
import csv
import io

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.core import signing
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from annotation import selectors, services
from annotation.forms import BatchForm, InviteAcceptForm, WorkersForm
from annotation.markdown import markdown_safe
from annotation.models import Batch
from qa.errors import ApplicationError
from qa.roles import researcher_required, worker_required

INVITE_SALT = "annotation.invite"
INVITE_DAYS = 7


# --- workers ------------------------------------------------------------------------------------


@worker_required
def worker_home(request):
    batches = selectors.batches_with_work_for(worker=request.user)
    rows = [(b, selectors.worker_progress(worker=request.user, batch=b)) for b in batches]
    return render(request, "annotation/worker_home.html", {"rows": rows})


@worker_required
def label(request, batch_id):
    batch = get_object_or_404(Batch, pk=batch_id)
    if batch.status != Batch.Status.RUNNING:
        return redirect("worker-done", batch_id=batch.pk)
    progress = selectors.worker_progress(worker=request.user, batch=batch)
    return render(
        request,
        "annotation/label.html",
        {"batch": batch, "progress": progress, "instructions_html": markdown_safe(batch.instructions)},
    )


@worker_required
def label_progress(request, batch_id):
    batch = get_object_or_404(Batch, pk=batch_id)
    return JsonResponse(selectors.worker_progress(worker=request.user, batch=batch))


@worker_required
def worker_done(request, batch_id):
    batch = get_object_or_404(Batch, pk=batch_id)
    from_platform = hasattr(request.user, "worker_profile") and request.user.worker_profile.platform != ""
    progress = selectors.worker_progress(worker=request.user, batch=batch)
    return render(
        request,
        "annotation/worker_done.html",
        {"batch": batch, "progress": progress, "show_code": from_platform or progress["done"] > 0},
    )


def platform_entry(request, token):
    """Crowd-platform link: ?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=..."""
    batch = Batch.objects.filter(entry_token=token).first()
    if batch is None:
        return render(request, "annotation/entry_error.html", {"message": "This study link is not valid."}, status=404)
    try:
        user = services.worker_enter_from_platform(
            batch=batch,
            external_id=request.GET.get("PROLIFIC_PID", ""),
            study_id=request.GET.get("STUDY_ID", ""),
            session_id=request.GET.get("SESSION_ID", ""),
        )
    except ApplicationError as exc:
        return render(request, "annotation/entry_error.html", {"message": exc.message}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if batch.status != Batch.Status.RUNNING:
        return redirect("worker-done", batch_id=batch.pk)
    return redirect("worker-label", batch_id=batch.pk)


def invite_accept(request, signed):
    try:
        inviter_id = signing.loads(signed, salt=INVITE_SALT, max_age=INVITE_DAYS * 86400)["by"]
    except (signing.BadSignature, KeyError, TypeError):
        return render(
            request, "annotation/entry_error.html", {"message": "This invite link is not valid or has expired."}, status=400
        )
    inviter = get_object_or_404(get_user_model(), pk=inviter_id)
    form = InviteAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.worker_create_from_invite(invited_by=inviter, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.extra.get("field"), exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("worker-home")
    return render(request, "annotation/invite_accept.html", {"form": form, "inviter": inviter})


# --- researchers ----------------------------------------------------------------------------------


@researcher_required
def batch_list(request):
    batches = selectors.batch_list_for(user=request.user)
    rows = [(b, selectors.batch_progress(batch=b)) for b in batches]
    return render(request, "annotation/batch_list.html", {"rows": rows})


@researcher_required
def batch_create(request):
    initial = {}
    if ids := request.GET.get("datasets"):
        initial["datasets"] = [int(i) for i in ids.split(",") if i.strip().isdigit()]
    form = BatchForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_create(
                owner=request.user,
                name=data["name"],
                datasets=data["datasets"],
                sample_size=data["sample_size"],
                overlap=data["overlap"],
                lease_seconds=max(1, round(data["lease_minutes"] * 60)),
                instructions=data["instructions"],
                gold_rate=data["gold_rate"],
                seed=data["seed"],
                quota_per_worker=data["quota_per_worker"],
                completion_url=data["completion_url"] or "",
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Batch created as a draft. Launch it to freeze the sample and open it to workers.")
            return redirect("batch-detail", pk=batch.pk)
    return render(request, "annotation/batch_create.html", {"form": form})


def _owned_batch(request, pk) -> Batch:
    return get_object_or_404(selectors.batch_list_for(user=request.user), pk=pk)


@researcher_required
def batch_detail(request, pk):
    batch = _owned_batch(request, pk)
    entry_url = request.build_absolute_uri(reverse("platform-entry", args=[batch.entry_token]))
    return render(
        request,
        "annotation/batch_detail.html",
        {
            "batch": batch,
            "progress": selectors.batch_progress(batch=batch),
            "workers": selectors.batch_worker_table(batch=batch),
            "entry_url": entry_url + "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
            "instructions_html": markdown_safe(batch.instructions),
        },
    )


ACTIONS = {
    "launch": services.batch_launch,
    "pause": services.batch_pause,
    "resume": services.batch_resume,
    "cancel": services.batch_cancel,
}


@researcher_required
@require_POST
def batch_action(request, pk, action):
    batch = _owned_batch(request, pk)
    service = ACTIONS.get(action)
    if service is None:
        messages.error(request, f"Unknown action {action!r}: use launch, pause, resume or cancel.")
    else:
        try:
            batch = service(batch=batch, user=request.user)
            messages.success(request, f"Batch {batch.status}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return redirect("batch-detail", pk=pk)


@researcher_required
def workers_create(request):
    form = WorkersForm(request.POST or None, request.FILES or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = services.workers_bulk_create(
                created_by=request.user,
                count=form.cleaned_data["count"] if not form.cleaned_data["names"] else None,
                usernames=form.cleaned_data["names"] or None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    csv_href = None
    if created:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["username", "password"])
        writer.writerows((c["username"], c["password"]) for c in created)
        csv_href = "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode()).decode()
    invite = signing.dumps({"by": request.user.pk}, salt=INVITE_SALT)
    invite_url = request.build_absolute_uri(reverse("invite-accept", args=[invite]))
    return render(
        request,
        "annotation/workers_create.html",
        {"form": form, "created": created, "csv_href": csv_href, "invite_url": invite_url, "invite_days": INVITE_DAYS},
    )
