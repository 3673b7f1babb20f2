"""REST API of the annotation app. Workflow steps are explicit APIViews; querysets are scoped to
the requesting user in batch_for_request and assignment ownership is checked by the services."""

import io
import json

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import bounds, completion, selectors, services
from annotation.models import Batch, Judgment
from generation.models import Dataset
from qa.bounds import ID
from qa.csvsafe import csv_dict_writer
from qa.errors import ApplicationError
from qa.roles import IsResearcher, IsWorker


def batch_for_request(request, id: int) -> Batch:
    """A batch of the researcher's (annotation.selectors.batch_list_for decides); others get 404."""
    return get_object_or_404(selectors.batch_list_for(user=request.user), pk=id)


class BatchOutputSerializer(serializers.ModelSerializer):
    datasets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    entry_path = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id", "name", "status", "owner", "datasets", "sample_size", "overlap", "overlap_policy", "k_min",
            "k_max", "adapt_on_ambiguity", "lease_seconds",
            "instructions", "gold_rate", "seed", "quota_per_worker", "completion_code", "completion_url",
            "completion_mode", "entry_path", "created_at", "launched_at", "completed_at",
        ]  # fmt: skip

    def get_entry_path(self, batch) -> str:
        return f"/enter/{batch.entry_token}/"


class BatchListCreateApi(APIView):
    permission_classes = [IsResearcher]

    class BatchCreateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        datasets = serializers.ListField(child=ID.drf(), min_length=1, max_length=bounds.DATASETS_PER_BATCH)
        sample_size = bounds.SAMPLE_SIZE.drf(allow_null=True, required=False, default=100)
        overlap = bounds.OVERLAP.drf(default=3, help_text="Judgments per item (fixed k).")
        overlap_policy = serializers.ChoiceField(
            choices=Batch.OverlapPolicy.choices, default=Batch.OverlapPolicy.FIXED,
            help_text="fixed: overlap judgments per item; adaptive: k_min, up to k_max while they disagree.",
        )  # fmt: skip
        k_min = bounds.K_MIN.drf(default=2, help_text="Adaptive: agreeing answers that complete an item.")
        k_max = bounds.K_MAX.drf(default=3, help_text="Adaptive: the most judgments an item gets.")
        adapt_on_ambiguity = serializers.BooleanField(
            default=False, help_text="Adaptive: also ask again while the 'ambiguous' votes split."
        )
        # k_min <= k_max is checked by batch_create, the one rule for the API and the form.
        lease_seconds = bounds.LEASE_SECONDS.drf(default=900)
        instructions = serializers.CharField(allow_blank=True, required=False, default="")
        gold_rate = bounds.GOLD_RATE.drf(default=0.0)
        seed = bounds.SEED.drf(required=False, allow_null=True, default=None)
        completion_url = serializers.URLField(
            required=False, allow_blank=True, default="", help_text=completion.HELP
        )
        completion_code = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=32,
            help_text="The platform's completion code; empty: the URL's cc= value, or one made here.",
        )  # fmt: skip
        completion_mode = serializers.ChoiceField(
            choices=list(completion.MODES.items()), required=False, default=completion.SHARED
        )
        quota_per_worker = bounds.QUOTA_PER_WORKER.drf(required=False, allow_null=True, default=None)
        gold_examples = serializers.ListField(
            child=inline_serializer(
                "GoldExample", {"example": ID.drf(), "answer": serializers.CharField(trim_whitespace=False)}
            ),
            required=False,
            default=list,
            max_length=bounds.GOLD_EXAMPLES_PER_BATCH,
        )

    @extend_schema(responses=BatchOutputSerializer(many=True))
    def get(self, request):
        return Response(BatchOutputSerializer(selectors.batch_list_for(user=request.user), many=True).data)

    @extend_schema(request=BatchCreateInputSerializer, responses={201: BatchOutputSerializer})
    def post(self, request):
        data = self.BatchCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        ids = fields.pop("datasets")
        datasets = list(Dataset.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {d.pk for d in datasets})
        if missing:
            return Response(
                {
                    "error": f"datasets: no dataset with id {', '.join(map(str, missing))}",
                    "extra": {"field": "datasets"},
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        batch = services.batch_create(owner=request.user, datasets=datasets, **fields)
        return Response(BatchOutputSerializer(batch).data, status=status.HTTP_201_CREATED)


class BatchDetailApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=BatchOutputSerializer)
    def get(self, request, id: int):
        return Response(BatchOutputSerializer(batch_for_request(request, id)).data)


def _batch_action(name, service):
    class BatchActionApi(APIView):
        permission_classes = [IsResearcher]

        @extend_schema(request=None, responses=BatchOutputSerializer, operation_id=f"batches_{name}")
        def post(self, request, id: int):
            batch = service(batch=batch_for_request(request, id), user=request.user)
            return Response(BatchOutputSerializer(batch).data)

    BatchActionApi.__name__ = f"Batch{name.title()}Api"
    return BatchActionApi


BatchLaunchApi = _batch_action("launch", services.batch_launch)
BatchPauseApi = _batch_action("pause", services.batch_pause)
BatchResumeApi = _batch_action("resume", services.batch_resume)
BatchCancelApi = _batch_action("cancel", services.batch_cancel)


class ProgressSerializer(serializers.Serializer):
    status = serializers.CharField()
    items_total = serializers.IntegerField()
    items_complete = serializers.IntegerField()
    judgments = serializers.IntegerField(help_text="Judgments that count (not set aside).")
    judgments_set_aside = serializers.IntegerField(help_text="Judgments quality control set aside.")
    overlap_policy = serializers.ChoiceField(choices=Batch.OverlapPolicy.choices)
    judgments_needed = serializers.IntegerField(
        help_text="Judgments the open items still need, at least (adaptive: a disagreement adds one)."
    )
    fixed_k_judgments = serializers.IntegerField(help_text="What k_max judgments for every item would cost.")
    judgments_saved_share = serializers.FloatField(
        allow_null=True,
        help_text="Adaptive: the share of k_max judgments per complete item that were not needed.",
    )
    live_leases = serializers.IntegerField()
    active_workers = serializers.IntegerField()
    median_seconds = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.FloatField(allow_null=True)
    eligible_workers = serializers.IntegerField(allow_null=True)
    at_risk = serializers.BooleanField()


class BatchProgressApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ProgressSerializer)
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        return Response(ProgressSerializer(selectors.batch_progress(batch=batch)).data)


class WorkerTableSerializer(serializers.Serializer):
    worker = serializers.CharField()
    worker_id = serializers.IntegerField()
    judgments = serializers.IntegerField()
    set_aside = serializers.IntegerField(help_text="Their judgments that quality control set aside.")
    median_seconds = serializers.FloatField(allow_null=True)
    gold_judged = serializers.IntegerField()
    gold_accuracy = serializers.FloatField(allow_null=True)
    completion_code = serializers.CharField(
        allow_null=True, help_text="The worker's own code (per-participant codes only)."
    )


class BatchWorkersApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=WorkerTableSerializer(many=True))
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        return Response(WorkerTableSerializer(selectors.batch_worker_table(batch=batch), many=True).data)


JUDGMENT_FIELDS = [
    "judgment", "batch", "item", "example", "dataset", "worker", "relevance", "answer", "ambiguous",
    "comment", "seconds", "submitted_at", "is_gold",
]  # fmt: skip


def _judgment_rows(batch: Batch):
    rows = (
        # Quality control's set-aside judgments are in no export.
        Judgment.objects.filter(batch=batch, set_aside=False)
        .order_by("pk")
        .values_list(
            "pk",
            "batch_id",
            "item_id",
            "item__example_id",
            "item__example__dataset__slug",
            "worker__username",
            "relevance",
            "answer",
            "ambiguous",
            "comment",
            "seconds",
            "submitted_at",
            "item__is_gold",
        )  # fmt: skip
    )
    for row in rows.iterator(chunk_size=2000):
        record = dict(zip(JUDGMENT_FIELDS, row, strict=True))
        record["submitted_at"] = record["submitted_at"].isoformat()
        yield record


def _csv_lines(records):
    buffer = io.StringIO()
    writer = csv_dict_writer(buffer, fieldnames=JUDGMENT_FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(record)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class BatchJudgmentsExportApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["jsonl", "csv"], description="Default jsonl.")],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        fmt = request.query_params.get("format", "jsonl")
        if fmt == "csv":
            response = StreamingHttpResponse(_csv_lines(_judgment_rows(batch)), content_type="text/csv")
        elif fmt == "jsonl":
            lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in _judgment_rows(batch))
            response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
        else:
            return Response(
                {"error": f"format: {fmt!r} is not one of jsonl, csv", "extra": {"field": "format"}},
                status=400,
            )
        response["Content-Disposition"] = f'attachment; filename="batch-{batch.pk}-judgments.{fmt}"'
        return response

    # Streaming bodies skip DRF's content negotiation, so ?format= must not select a renderer.
    def get_format_suffix(self, **kwargs):
        return None

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


@method_decorator(never_cache, name="dispatch")  # the response holds passwords: no cache may keep it
class WorkersCreateApi(APIView):
    permission_classes = [IsResearcher]

    class WorkersCreateInputSerializer(serializers.Serializer):
        count = bounds.WORKER_COUNT.drf(required=False)
        usernames = serializers.ListField(
            child=serializers.CharField(max_length=150),
            required=False,
            min_length=1,
            max_length=bounds.WORKER_COUNT.high,
        )

        def validate(self, attrs):
            if ("count" in attrs) == ("usernames" in attrs):
                raise serializers.ValidationError("Give either count or usernames.")
            return attrs

    class WorkersCreatedSerializer(serializers.Serializer):
        workers = inline_serializer(
            "WorkerCredentials",
            {"username": serializers.CharField(), "password": serializers.CharField()},
            many=True,
        )

    @extend_schema(request=WorkersCreateInputSerializer, responses={201: WorkersCreatedSerializer})
    def post(self, request):
        data = self.WorkersCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workers = services.workers_bulk_create(created_by=request.user, **data.validated_data)
        return Response({"workers": workers}, status=status.HTTP_201_CREATED)


class AssignmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField()
    batch = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    behavior = serializers.CharField()
    question = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField(trim_whitespace=False))
    instructions_html = serializers.CharField()


class AssignmentNextApi(APIView):
    permission_classes = [IsWorker]

    class AssignmentNextInputSerializer(serializers.Serializer):
        batch = ID.drf(required=False, allow_null=True)
        ahead = serializers.BooleanField(
            required=False, default=False, help_text="Fetch the following item while keeping the current one."
        )

    @extend_schema(
        request=AssignmentNextInputSerializer,
        responses={
            200: AssignmentOutputSerializer,
            204: OpenApiResponse(description="No work left for you."),
        },
    )
    def post(self, request):
        data = self.AssignmentNextInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch_id = data.validated_data.get("batch")
        assignment = services.assignment_claim_next(
            worker=request.user, batch=batch_id, ahead=data.validated_data["ahead"]
        )
        if assignment is None:
            # Only now (off the hot path): a batch this worker may not see is a 404, as on the pages.
            if (
                batch_id is not None
                and selectors.worker_batch_or_none(worker=request.user, batch_id=batch_id) is None
            ):
                raise ApplicationError(
                    f"batch: no batch {batch_id} of yours", {"field": "batch"}, status_code=404
                )
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AssignmentOutputSerializer(services.item_payload(assignment=assignment)).data)


class JudgmentOutputSerializer(serializers.Serializer):
    # Declared, not a ModelSerializer: that one introspects the model on every submit.
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    assignment = serializers.IntegerField(source="assignment_id")
    relevance = serializers.IntegerField()
    answer = serializers.CharField(trim_whitespace=False)
    ambiguous = serializers.BooleanField()
    comment = serializers.CharField()
    seconds = serializers.FloatField()
    submitted_at = serializers.DateTimeField()


class JudgmentWithNextSerializer(serializers.Serializer):
    judgment = JudgmentOutputSerializer()
    next = AssignmentOutputSerializer(
        allow_null=True,
        help_text="The worker's next item, handed out with this judgment (at most two live leases: with "
        "one item already fetched ahead, this is the one after it). null when next_status is not 'claimed'.",
    )
    next_status = serializers.ChoiceField(
        choices=services.NEXT_STATUSES,
        help_text="'claimed': next is the item handed out with this judgment; a replay (same idempotency_key) "
        "gives back the same one, never a second. 'none': no work left for you now. On a replay whose item "
        "handed out the first time is no longer yours to work on: 'submitted', 'skipped', 'expired', 'released' "
        "(the batch was paused or cancelled) or 'closed' (the batch no longer runs); ask "
        "POST /api/v1/assignments/next for work.",
    )


class JudgmentSubmitApi(APIView):
    permission_classes = [IsWorker]

    class JudgmentInputSerializer(serializers.Serializer):
        relevance = bounds.RELEVANCE.drf()
        answer = serializers.CharField(trim_whitespace=False, max_length=200)
        ambiguous = serializers.BooleanField()
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        idempotency_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
        next = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Also hand out your next item in the same request: the answer is then "
            "{judgment, next, next_status} instead of the judgment alone.",
        )
        batch = ID.drf(
            required=False,
            allow_null=True,
            help_text="With next: the batch to continue in. Left out: the judged item's batch; null: any batch of yours.",
        )

    @extend_schema(
        request=JudgmentInputSerializer,
        responses={
            201: PolymorphicProxySerializer(
                component_name="JudgmentSubmitted",
                serializers=[JudgmentOutputSerializer, JudgmentWithNextSerializer],
                resource_type_field_name=None,
            ),
        },
        description='The judgment alone; with "next": true, {judgment, next, next_status}.',
    )
    def post(self, request, id: int):
        data = self.JudgmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        with_next = fields.pop("next")
        if not with_next:
            if "batch" in fields:
                raise ApplicationError('batch: only with "next": true', {"field": "batch"})
            judgment = services.judgment_submit(assignment_id=id, worker=request.user, **fields)
            return Response(JudgmentOutputSerializer(judgment).data, status=status.HTTP_201_CREATED)
        batch_id = fields.pop("batch", services.SAME_BATCH)
        if batch_id is None:
            batch_id = services.ANY_BATCH
        elif (
            batch_id != services.SAME_BATCH
            and selectors.worker_batch_or_none(worker=request.user, batch_id=batch_id) is None
        ):
            # Before the judgment is stored: a refused request changes nothing.
            raise ApplicationError(
                f"batch: no batch {batch_id} of yours", {"field": "batch"}, status_code=404
            )
        result = services.judgment_submit_and_claim(
            assignment_id=id, worker=request.user, next_batch=batch_id, **fields
        )
        body = {
            "judgment": result.judgment,
            "next": services.item_payload(assignment=result.next) if result.next is not None else None,
            "next_status": result.next_status,
        }
        return Response(_WITH_NEXT.to_representation(body), status=status.HTTP_201_CREATED)


# Built once: a serializer deep-copies its declared fields on every instantiation, which for this
# nested one cost more CPU than the claim's Python (profiled); to_representation keeps no state.
_WITH_NEXT = JudgmentWithNextSerializer()


class AssignmentSkipApi(APIView):
    permission_classes = [IsWorker]

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Skipped.")})
    def post(self, request, id: int):
        services.assignment_skip(assignment_id=id, worker=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
