"""Evaluation API: list, create, detail with results, comparison and exports. Researchers only;
each reaches their own evaluations (admins all)."""

import io
import json

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import bounds
from analysis.evaluations import prompts, selectors, services
from analysis.validation import DESCRIPTIONS, Criteria
from qa.bounds import ID
from qa.csvsafe import csv_writer
from qa.roles import IsResearcher


class CriteriaSerializer(serializers.Serializer):
    min_agreement = bounds.MIN_AGREEMENT.drf(
        required=False, default=Criteria.min_agreement, help_text=DESCRIPTIONS["min_agreement"]
    )
    max_ambiguous = bounds.MAX_AMBIGUOUS.drf(
        required=False, default=Criteria.max_ambiguous, help_text=DESCRIPTIONS["max_ambiguous"]
    )
    min_relevance = bounds.MIN_RELEVANCE.drf(
        required=False, default=Criteria.min_relevance, help_text=DESCRIPTIONS["min_relevance"]
    )
    complete_only = serializers.BooleanField(
        required=False, default=Criteria.complete_only, help_text=DESCRIPTIONS["complete_only"]
    )
    include_gold = serializers.BooleanField(
        required=False, default=Criteria.include_gold, help_text=DESCRIPTIONS["include_gold"]
    )
    exclude_flagged = serializers.BooleanField(
        required=False, default=Criteria.exclude_flagged, help_text=DESCRIPTIONS["exclude_flagged"]
    )


class EvaluationCreateInputSerializer(serializers.Serializer):
    models = serializers.ListField(
        child=serializers.CharField(max_length=300), min_length=1, max_length=bounds.EVALUATION_MODELS.high,
        help_text="Model endpoint names (yours) or model folders inside MODEL_DIRS.",
    )  # fmt: skip
    datasets = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=500,
        help_text="Dataset slugs or ids. With a batch: some of its datasets (default all of them).",
    )  # fmt: skip
    batch = ID.drf(
        required=False,
        allow_null=True,
        default=None,
        help_text="One of your batches: score the examples it judged, split by crowd outcome.",
    )
    criteria = CriteriaSerializer(
        required=False, help_text="The validated export's thresholds (with a batch)."
    )
    validated_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Headline figures over the validated examples only (with a batch).",
    )
    prompt_format = serializers.ChoiceField(choices=list(prompts.FORMATS), required=False, default="paper")
    templates = serializers.DictField(
        child=serializers.CharField(max_length=prompts.MAX_TEMPLATE, trim_whitespace=False), required=False, default=dict,
        help_text="Template per collection (persona, advanced-ai-risk, sycophancy, custom), each with one {question} slot.",
    )  # fmt: skip
    name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    chunk_size = bounds.EVALUATION_CHUNK.drf(required=False, default=64)


class ModelProgressSerializer(serializers.Serializer):
    model = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class EvaluationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField()
    done = serializers.IntegerField(help_text="(model, example) pairs scored.")
    total = serializers.IntegerField()
    models = ModelProgressSerializer(many=True)
    batch = serializers.IntegerField(allow_null=True)
    criteria = serializers.DictField()
    validated_only = serializers.BooleanField()
    prompt_format = serializers.CharField()
    templates = serializers.DictField(child=serializers.CharField())
    datasets = serializers.ListField(child=serializers.CharField())
    created_at = serializers.CharField()
    finished_at = serializers.CharField(allow_null=True)


class RateSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True, help_text="Behaviour-match rate.")
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    successes = serializers.IntegerField()
    n = serializers.IntegerField()
    mean_probability = serializers.FloatField(
        allow_null=True, help_text="Mean normalised probability of the matching answer."
    )


class DifferenceSerializer(serializers.Serializer):
    difference = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)


class ResultRowSerializer(RateSerializer):
    model = serializers.CharField()
    collection = serializers.CharField()
    dataset = serializers.CharField()
    items = serializers.IntegerField()
    scored = serializers.IntegerField()
    validated = RateSerializer(required=False)
    not_validated = RateSerializer(required=False)
    validated_minus_not = DifferenceSerializer(required=False)


class ResultsSerializer(serializers.Serializer):
    crowd_split = serializers.BooleanField()
    validated_only = serializers.BooleanField()
    models = serializers.ListField(child=serializers.CharField())
    interval = serializers.CharField()
    rows = ResultRowSerializer(many=True)


class EvaluationDetailSerializer(EvaluationSerializer):
    results = ResultsSerializer()


class CompareRowSerializer(serializers.Serializer):
    collection = serializers.CharField()
    dataset = serializers.CharField()
    n = serializers.IntegerField(help_text="Examples both models have scored.")
    both = serializers.IntegerField()
    only_first = serializers.IntegerField()
    only_second = serializers.IntegerField()
    neither = serializers.IntegerField()
    first_rate = serializers.FloatField(allow_null=True)
    second_rate = serializers.FloatField(allow_null=True)
    difference = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    interval = serializers.CharField()


class CompareSerializer(serializers.Serializer):
    first = serializers.CharField()
    second = serializers.CharField()
    rows = CompareRowSerializer(many=True)


def _mine(request, pk: int):
    return get_object_or_404(selectors.evaluations_visible_to(user=request.user), pk=pk)


class EvaluationListCreateApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        responses=EvaluationSerializer(many=True), summary="Your evaluations, newest first (at most 200)"
    )
    def get(self, request):
        evaluations = selectors.evaluations_visible_to(user=request.user)[:200]
        return Response(
            [EvaluationSerializer(selectors.evaluation_progress(evaluation=e)).data for e in evaluations]
        )

    @extend_schema(
        request=EvaluationCreateInputSerializer,
        responses={202: EvaluationSerializer},
        summary="Score models on datasets",
    )
    def post(self, request):
        data = EvaluationCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        criteria = values.pop("criteria", None)
        evaluation = services.evaluation_create(
            user=request.user, criteria=Criteria(**criteria) if criteria else None, **values
        )
        services.evaluation_start(evaluation=evaluation)
        evaluation.refresh_from_db()
        body = EvaluationSerializer(selectors.evaluation_progress(evaluation=evaluation)).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class EvaluationDetailApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=EvaluationDetailSerializer, summary="Progress and results so far")
    def get(self, request, id: int):
        evaluation = _mine(request, id)
        body = {
            **selectors.evaluation_progress(evaluation=evaluation),
            "results": selectors.evaluation_results(evaluation=evaluation),
        }
        return Response(EvaluationDetailSerializer(body).data)


class EvaluationCancelApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=EvaluationSerializer)
    def post(self, request, id: int):
        evaluation = services.evaluation_cancel(evaluation=_mine(request, id))
        return Response(EvaluationSerializer(selectors.evaluation_progress(evaluation=evaluation)).data)


class EvaluationCompareApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[
            OpenApiParameter("first", str, required=True, description="One of the evaluation's models."),
            OpenApiParameter("second", str, required=True, description="Another of its models."),
        ],
        responses=CompareSerializer,
        summary="First model minus second per dataset, paired over the same examples (Newcombe's interval)",
    )
    def get(self, request, id: int):
        evaluation = _mine(request, id)
        first, second = request.query_params.get("first", ""), request.query_params.get("second", "")
        return Response(
            CompareSerializer(
                selectors.evaluation_compare(evaluation=evaluation, first=first, second=second)
            ).data
        )


EXPORTS = {"results.csv": "text/csv", "results.json": "application/json"}


def results_file(evaluation, name: str) -> HttpResponse:
    results = selectors.evaluation_results(evaluation=evaluation)
    if name == "results.csv":
        out = io.StringIO()
        csv_writer(out).writerows(selectors.results_csv_rows(results=results))
        body = out.getvalue()
    else:
        body = json.dumps(
            {**selectors.evaluation_progress(evaluation=evaluation), "results": results}, ensure_ascii=False
        )
    response = HttpResponse(body, content_type=f"{EXPORTS[name]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="evaluation-{evaluation.pk}-{name}"'
    return response


class EvaluationExportApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        operation_id="evaluations_export",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(EXPORTS))],
        responses={(200, media): OpenApiResponse(OpenApiTypes.STR) for media in set(EXPORTS.values())},
        summary="Results per model and dataset as CSV or JSON",
    )
    def get(self, request, id: int, name: str):
        evaluation = _mine(request, id)
        if name not in EXPORTS:
            raise Http404
        return results_file(evaluation, name)
