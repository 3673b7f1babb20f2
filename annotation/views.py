"""HTML pages: the worker's labelling page and the researcher's console. Thin: parse, call one
service or selector, render. The labelling page itself talks to the JSON API."""

import base64
import io

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from annotation import (
    bounds,
    completion,
    onboarding,
    preview,
    quality_selectors,
    selectors,
    services,
    worker_selectors,
)
from annotation.forms import BatchForm, InviteAcceptForm, QualityRulesForm, WorkersForm
from annotation.markdown import markdown_safe
from annotation.models import Assignment, Batch, Judgment
from qa.csvsafe import csv_writer
from qa.errors import ApplicationError
from qa.roles import researcher_required, worker_required

# --- workers ------------------------------------------------------------------------------------


def _progress(worker, batch: Batch | None) -> dict:
    """worker_progress counts the items still open to this worker, which leaves out the one or two
    they already hold (the item on screen and the one fetched ahead): add those back, so a reload
    does not make "about N left" jump down by two."""
    progress = selectors.worker_progress(worker=worker, batch=batch)
    held = Assignment.objects.filter(
        worker=worker, status=Assignment.Status.ACTIVE, expires_at__gt=timezone.now(), item__is_gold=False
    )
    if batch is not None:
        held = held.filter(batch=batch)
    return {**progress, "left_estimate": progress["left_estimate"] + held.count()}


def _worker_batch(request, batch_id) -> Batch:
    """The batch, if this worker may see it (annotation.selectors decides); else a 404 that names nothing."""
    batch = selectors.worker_batch_or_none(worker=request.user, batch_id=batch_id)
    if batch is None:
        raise Http404("No such batch.")
    return batch


@worker_required
def worker_home(request):
    batches = selectors.batches_with_work_for(worker=request.user)
    rows = [(b, _progress(request.user, b)) for b in batches]
    return render(request, "annotation/worker_home.html", {"rows": rows})


def _label_page(request, batch: Batch | None):
    progress = _progress(request.user, batch)
    return render(
        request,
        "annotation/label.html",
        {
            "batch": batch,
            "progress": progress,
            "instructions_html": markdown_safe(batch.instructions) if batch else "",
            "progress_url": reverse("worker-progress", args=[batch.pk])
            if batch
            else reverse("worker-progress-all"),
            "done_url": reverse("worker-done", args=[batch.pk]) if batch else reverse("worker-home"),
        },
    )


@worker_required
def label(request, batch_id):
    batch = _worker_batch(request, batch_id)
    if batch.status != Batch.Status.RUNNING or selectors.quota_reached(worker=request.user, batch=batch):
        return redirect("worker-done", batch_id=batch.pk)
    return _label_page(request, batch)


@worker_required
def label_any(request):
    """Items from every running batch, closest to completion first (no gold controls: those are
    mixed in per batch)."""
    return _label_page(request, None)


@worker_required
def label_progress(request, batch_id):
    batch = _worker_batch(request, batch_id)
    return JsonResponse(_progress(request.user, batch))


@worker_required
def label_progress_all(request):
    return JsonResponse(_progress(request.user, None))


@worker_required
def worker_done(request, batch_id):
    """The end of a worker's session in a batch. The completion code is shown only to a worker who
    gave at least one judgment and has nothing more to do here (quota reached, no item left, or the
    batch finished or was cancelled): a platform participant cannot fetch it by typing the URL."""
    batch = _worker_batch(request, batch_id)
    progress = _progress(request.user, batch)
    given = Judgment.objects.filter(batch=batch, worker=request.user).count()
    quota_reached = selectors.quota_reached(worker=request.user, batch=batch, given=given)
    closed = batch.status in (Batch.Status.COMPLETED, Batch.Status.CANCELLED)
    running = batch.status == Batch.Status.RUNNING
    more_to_do = running and not quota_reached and progress["left_estimate"] > 0
    finished = given > 0 and (closed or (running and (quota_reached or progress["left_estimate"] == 0)))
    code = completion.completion_code_for(batch=batch, worker=request.user) if finished else ""
    return render(
        request,
        "annotation/worker_done.html",
        {
            "batch": batch,
            "progress": progress,
            "show_code": finished,
            "completion_code": code,
            "completion_redirect": completion.completion_redirect(batch=batch, code=code) if finished else "",
            "more_to_do": more_to_do,
            "quota_reached": quota_reached,
            # A platform participant's session ends here: the code, and no way on to other work.
            "participant": selectors.worker_is_participant(worker=request.user),
        },
    )


PARTICIPANT_COOKIE = "qa_participant"
PARTICIPANT_COOKIE_SALT = "annotation.platform_entry"
PARTICIPANT_COOKIE_AGE = 90 * 24 * 3600


@never_cache
def platform_entry(request, token):
    """Crowd-platform link: ?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...

    Re-entry proves it is the same participant with a signed cookie set here at first entry (or the
    session still logged in as them), or the SESSION_ID of their first entry into this batch: see
    services.worker_enter_from_platform. The response redirects to a URL without the id, so that
    it is in no later request line; Django's own request log writes paths without query strings."""
    batch = Batch.objects.filter(entry_token=token).first()
    if batch is None:
        return render(
            request, "annotation/entry_error.html", {"message": "This study link is not valid."}, status=404
        )
    proven = request.get_signed_cookie(PARTICIPANT_COOKIE, default=None, salt=PARTICIPANT_COOKIE_SALT)
    if proven is None and request.user.is_authenticated:
        proven = str(request.user.pk)
    try:
        user = services.worker_enter_from_platform(
            batch=batch,
            external_id=request.GET.get("PROLIFIC_PID", ""),
            study_id=request.GET.get("STUDY_ID", ""),
            session_id=request.GET.get("SESSION_ID", ""),
            proven_user_id=int(proven) if proven and proven.isdigit() else None,
        )
    except ApplicationError as exc:
        return render(
            request, "annotation/entry_error.html", {"message": exc.message}, status=exc.status_code
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    target = "worker-done" if batch.status != Batch.Status.RUNNING else "worker-label"
    response = redirect(target, batch_id=batch.pk)
    response.set_signed_cookie(
        PARTICIPANT_COOKIE, str(user.pk), salt=PARTICIPANT_COOKIE_SALT, max_age=PARTICIPANT_COOKIE_AGE,
        httponly=True, samesite="Lax", secure=request.is_secure(),
    )  # fmt: skip
    return response


def invite_accept(request, signed):
    """A one-time invite: the person chooses a name and password and becomes a worker."""
    try:
        inviter, _ = onboarding.invite_read(signed)
    except ApplicationError as exc:
        return render(
            request, "annotation/entry_error.html", {"message": exc.message, "invite": True}, status=400
        )
    form = InviteAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = onboarding.invite_accept(signed=signed, **form.cleaned_data)
        except ApplicationError as exc:
            field = exc.extra.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
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
        initial["datasets"] = [
            int(i) for i in ids.split(",") if i.strip().isascii() and i.strip().isdecimal()
        ]
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
                overlap_policy=data["overlap_policy"] or Batch.OverlapPolicy.FIXED,
                k_min=2 if data["k_min"] is None else data["k_min"],
                k_max=3 if data["k_max"] is None else data["k_max"],
                adapt_on_ambiguity=data["adapt_on_ambiguity"],
                lease_seconds=max(1, round(data["lease_minutes"] * 60)),
                instructions=data["instructions"],
                gold_rate=data["gold_rate"],
                seed=data["seed"],
                quota_per_worker=data["quota_per_worker"],
                gold_examples=data["gold"] or None,
                completion_url=data["completion_url"] or "",
                completion_code=data["completion_code"],
                completion_mode=data["completion_mode"],
            )
        except ApplicationError as exc:
            field = exc.extra.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(
                request, "Batch created as a draft. Launch it to freeze the sample and open it to workers."
            )
            return redirect("batch-detail", pk=batch.pk)
    return render(request, "annotation/batch_create.html", {"form": form})


def _owned_batch(request, pk) -> Batch:
    return get_object_or_404(selectors.batch_list_for(user=request.user), pk=pk)


def _quality_context(batch: Batch, form: QualityRulesForm | None = None) -> dict:
    if form is None:
        rules = quality_selectors.quality_rules_for(batch=batch)
        form = QualityRulesForm(initial={name: getattr(rules, name) for name in QualityRulesForm.base_fields})
    return {
        "quality_form": form,
        "stops": quality_selectors.worker_stops_of(batch=batch),
        "quality_log": quality_selectors.quality_log_of(batch=batch),
    }


@researcher_required
def batch_detail(request, pk, quality_form: QualityRulesForm | None = None):
    batch = _owned_batch(request, pk)
    entry_url = request.build_absolute_uri(reverse("platform-entry", args=[batch.entry_token]))
    return render(
        request,
        "annotation/batch_detail.html",
        {
            "batch": batch,
            "progress": selectors.batch_progress(batch=batch),
            "workers": selectors.batch_worker_table(batch=batch),
            "entry_url": entry_url
            + "?PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}",
            "instructions_html": markdown_safe(batch.instructions),
            "completion_example": completion.completion_redirect(
                batch=batch,
                code=batch.completion_code if batch.completion_mode == completion.SHARED else "<their code>",
            ),
            **_quality_context(batch, quality_form),
        },
        status=400 if quality_form is not None else 200,
    )


@researcher_required
@require_POST
def batch_quality_rules(request, pk):
    """The console's rules form: the same service as PATCH /api/v1/batches/{id}/quality/rules."""
    batch = _owned_batch(request, pk)
    form = QualityRulesForm(request.POST)
    if form.is_valid():
        try:
            services.quality_rules_set(batch=batch, user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            field = exc.extra.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, "Quality-control rules saved and applied to the judgments given.")
            return redirect(reverse("batch-detail", args=[pk]) + "#quality")
    return batch_detail(request, pk, quality_form=form)


def _worker_id(request) -> int | None:
    raw = request.POST.get("worker", "")
    return int(raw) if raw.isascii() and raw.isdecimal() and 0 < len(raw) < 19 else None


@researcher_required
@require_POST
def batch_quality_worker(request, pk, action):
    """Stop or reinstate a worker in the batch from its console."""
    batch = _owned_batch(request, pk)
    worker_id = _worker_id(request)
    reason = request.POST.get("reason", "")[: bounds.QUALITY_REASON_LENGTH]
    if action not in ("stop", "reinstate"):
        raise Http404("Unknown action: use stop or reinstate.")
    if worker_id is None:
        messages.error(request, "worker: choose a worker")
        return redirect(reverse("batch-detail", args=[pk]) + "#quality")
    try:
        if action == "stop":
            services.worker_stop(
                batch=batch, worker_id=worker_id, reason=reason, actor=request.user,
                set_aside=request.POST.get("set_aside") == "on",
            )  # fmt: skip
            messages.success(
                request, "Worker stopped in this batch; the items they held went back to the pool"
            )
        else:
            services.worker_reinstate(batch=batch, worker_id=worker_id, user=request.user, reason=reason)
            messages.success(
                request, "Worker reinstated: they may claim again and their judgments count again"
            )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("batch-detail", args=[pk]) + "#quality")


@never_cache
@researcher_required
def batch_preview(request, pk):
    """The labelling page as a worker sees it, with the batch's real items and keys; nothing is
    stored: the page's script (preview.js) answers the claim, submit and skip calls itself."""
    batch = _owned_batch(request, pk)
    items = preview.batch_preview_items(batch=batch)
    return render(
        request,
        "annotation/label.html",
        {
            "batch": batch,
            "preview": True,
            "preview_items": items,
            "progress": {"done": 0, "left_estimate": len(items)},
            "instructions_html": markdown_safe(batch.instructions),
            "progress_url": reverse("batch-preview", args=[batch.pk]) + "#progress",
            "done_url": reverse("batch-detail", args=[batch.pk]),
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


CREATED_KEY = "annotation.workers_created"  # session key: credentials waiting to be shown once
RESET_KEY = "annotation.password_reset"


@never_cache  # the response can hold passwords: keep it out of every cache and the back button
@researcher_required
def workers_list(request):
    """Every worker account of the researcher's, with what they did; a password just reset is shown
    here once (post-redirect-get: a reload shows it no more and changes nothing)."""
    return render(
        request,
        "annotation/workers_list.html",
        {
            "rows": worker_selectors.workers_page_rows(researcher=request.user),
            "reset": request.session.pop(RESET_KEY, None),
        },
    )


WORKER_ACTIONS = {
    "deactivate": services.worker_deactivate,
    "reactivate": services.worker_reactivate,
    "password": services.worker_password_reset,
}


@researcher_required
@require_POST
def worker_action(request, pk, action):
    service = WORKER_ACTIONS.get(action)
    if service is None:
        raise Http404(f"Unknown action {action!r}: use deactivate, reactivate or password.")
    try:
        result = service(researcher=request.user, worker_id=pk)
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        return redirect("workers-list")
    if action == "password":
        request.session[RESET_KEY] = result
    elif action == "deactivate":
        messages.success(
            request, f"{result.username} deactivated; the items they held went back to the pool."
        )
    else:
        messages.success(request, f"{result.username} can log in again.")
    return redirect("workers-list")


def _credentials_csv_href(created: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["username", "password"])
    writer.writerows((c["username"], c["password"]) for c in created)
    return "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


@never_cache  # the response can hold passwords: keep it out of every cache and the back button
@researcher_required
def workers_create(request):
    """Post-redirect-get: the POST creates the accounts and keeps their credentials in the session
    until the GET it redirects to shows them, once; reloading that page creates nothing."""
    form = WorkersForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.workers_bulk_create(
                created_by=request.user,
                count=form.cleaned_data["count"] if not form.cleaned_data["names"] else None,
                usernames=form.cleaned_data["names"] or None,
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[CREATED_KEY] = created
            return redirect("workers-create")
    created = request.session.pop(CREATED_KEY, None) if request.method == "GET" else None
    try:
        n_invites = min(bounds.INVITES.high, max(bounds.INVITES.low, int(request.GET.get("invites", 1))))
    except ValueError:
        n_invites = 1
    invite_urls = [
        request.build_absolute_uri(
            reverse("invite-accept", args=[onboarding.invite_make(inviter=request.user)])
        )
        for _ in range(n_invites)
    ]
    return render(
        request,
        "annotation/workers_create.html",
        {
            "form": form,
            "created": created,
            "csv_href": _credentials_csv_href(created) if created else None,
            "invite_urls": invite_urls,
            "invite_days": onboarding.INVITE_DAYS,
        },
    )
