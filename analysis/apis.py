"""Report API: the JSON contract, exports, the validated dataset and comparisons. Researchers only;
a researcher reaches the reports of batches they own (admins all)."""

import json

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis import exports
from analysis.bounds import MAX_AMBIGUOUS, MIN_AGREEMENT, MIN_RELEVANCE
from analysis.models import Report
from analysis.selectors import (
    examples_for_export,
    report_compare,
    report_for,
    report_summary,
    validated_lines,
    validated_of,
    with_example_links,
)
from analysis.services import broker_runs_tasks, report_keep_fresh, report_refresh
from analysis.thresholds import criteria_from
from analysis.validation import DESCRIPTIONS
from annotation.models import Batch
from qa.bounds import ID
from qa.errors import ApplicationError
from qa.roles import IsResearcher


class ShareSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    successes = serializers.IntegerField()
    n = serializers.IntegerField()


class MajoritySerializer(ShareSerializer):
    items_left_out = serializers.IntegerField(required=False, help_text="Judged examples not yet complete.")
    no_majority = serializers.IntegerField(
        required=False,
        help_text="Complete examples whose judgments split evenly on the label (1 of 2, 2 of 4): not counted in n.",
    )


class EstimateSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    se = serializers.FloatField(
        allow_null=True, help_text="Standard deviation of the coefficient over bootstrap resamples of examples."
    )
    ci_low = serializers.FloatField(allow_null=True, help_text="95% bootstrap percentile interval.")
    ci_high = serializers.FloatField(allow_null=True)
    items_used = serializers.IntegerField(help_text="Examples with two or more ratings.")
    items_left_out = serializers.IntegerField(help_text="Examples with one rating (or, with a fixed count, another).")
    undefined_reason = serializers.CharField(allow_null=True)


class FleissEstimateSerializer(EstimateSerializer):
    se0 = serializers.FloatField(
        allow_null=True,
        required=False,
        help_text="Standard error under the null of chance agreement (Fleiss, Nee & Landis 1979), for testing "
        "kappa = 0 only: it understates the spread of kappa when raters agree. Null when examples have "
        "different numbers of ratings.",
    )
    z = serializers.FloatField(allow_null=True, required=False, help_text="kappa / se0.")
    p_value = serializers.FloatField(allow_null=True, required=False, help_text="Two-sided, from z.")


class RelevanceSerializer(serializers.Serializer):
    mean = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True)
    histogram = serializers.ListField(child=serializers.IntegerField(), help_text="Counts of ratings 1..5.")
    n = serializers.IntegerField()


class CalibrationBinSerializer(ShareSerializer):
    bin = serializers.IntegerField(help_text="Which tenth of the examples by the model's confidence, 1 (lowest) to 10.")
    confidence_low = serializers.FloatField()
    confidence_high = serializers.FloatField()
    mean_confidence = serializers.FloatField()


class LmDisagreementSerializer(serializers.Serializer):
    example = serializers.IntegerField()
    item = serializers.IntegerField()
    dataset = serializers.IntegerField()
    slug = serializers.CharField()
    line = serializers.IntegerField(help_text="The example's line in its dataset's file.")
    label = serializers.CharField(allow_null=True, help_text="The model's label (answer_matching_behavior).")
    majority_answer = serializers.CharField(allow_null=True, help_text="The crowd's most frequent answer.")
    confidence = serializers.FloatField()
    label_votes = serializers.IntegerField()
    judgments = serializers.IntegerField()
    url = serializers.CharField(
        allow_null=True, required=False, help_text="The page of the dataset's example list that shows it."
    )
    text = serializers.CharField(required=False, help_text="The example's statement or question.")


class LmBesideCrowdSerializer(serializers.Serializer):
    examples_with_confidence = serializers.IntegerField(
        help_text="Complete examples with a label and the generating model's confidence in it."
    )
    examples_without_confidence = serializers.IntegerField()
    examples_not_complete = serializers.IntegerField()
    confident_at = serializers.FloatField(help_text="The confidence from which a disagreement is listed.")
    reason = serializers.CharField(
        allow_null=True, help_text="Why there are no figures (no confidence, nothing complete yet); null otherwise."
    )
    agreement = MajoritySerializer(help_text="Examples whose crowd majority gives the model's label, of those with a majority.")
    mean_confidence = serializers.FloatField(allow_null=True)
    calibration_error = serializers.FloatField(
        allow_null=True, help_text="Expected calibration error over the confidence tenths."
    )
    bins = CalibrationBinSerializer(many=True, help_text="Crowd agreement with the label by confidence decile.")
    disagreements = LmDisagreementSerializer(many=True, help_text="Most confident first.")
    disagreements_more = serializers.IntegerField(help_text="Confident disagreements beyond the list.")
    disagreements_total = serializers.IntegerField()


class FiguresSerializer(serializers.Serializer):
    examples = serializers.IntegerField()
    examples_judged = serializers.IntegerField()
    examples_complete = serializers.IntegerField()
    judgments = serializers.IntegerField()
    majority_agrees_with_label = MajoritySerializer(
        help_text="Complete examples where more than half the judgments give the label, of those with a majority."
    )
    no_majority = ShareSerializer(required=False, help_text="Complete examples split evenly on the label.")
    answer_agrees_with_label = ShareSerializer()
    fleiss_kappa_answers = FleissEstimateSerializer(
        help_text="For any number of ratings per example (Gwet 2014; irrCAC fleiss.raw)."
    )
    fleiss_kappa_ambiguity = FleissEstimateSerializer()
    krippendorff_alpha_relevance = EstimateSerializer(help_text="Ordinal.")
    krippendorff_alpha_answers = EstimateSerializer(help_text="Nominal.")
    gwet_ac1_answers = EstimateSerializer()
    percent_agreement_answers = EstimateSerializer()
    ambiguous_votes = serializers.ListField(
        child=serializers.IntegerField(), help_text="Complete items with 0, 1, ..., k (or more) 'ambiguous' votes."
    )
    ambiguous_none = serializers.IntegerField(required=False, help_text="Complete items where no judgment said ambiguous.")
    ambiguous_all = serializers.IntegerField(
        required=False, help_text="Complete items where every judgment said ambiguous, however many they have."
    )
    relevance = RelevanceSerializer()
    lm_beside_crowd = LmBesideCrowdSerializer(
        required=False,
        help_text="The generating model's label and confidence against the crowd majority (analysis.calibration).",
    )


class DatasetRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.CharField()
    origin = serializers.CharField()
    collection = serializers.CharField()
    format = serializers.CharField()


class DatasetFiguresSerializer(FiguresSerializer):
    dataset = DatasetRefSerializer()
    answers = serializers.ListField(child=serializers.CharField())


class WorkerRowSerializer(serializers.Serializer):
    worker = serializers.IntegerField()
    username = serializers.CharField()
    judgments = serializers.IntegerField()
    agrees_with_others = ShareSerializer(help_text="Agreement with the strict majority of the item's other raters.")
    agrees_with_label = ShareSerializer()
    gold_accuracy = ShareSerializer()
    median_seconds = serializers.FloatField(allow_null=True)
    dawid_skene_accuracy = serializers.FloatField(required=False)
    flags = serializers.ListField(child=serializers.ChoiceField(choices=["low_agreement", "too_fast"]))


class DawidSkeneSerializer(serializers.Serializer):
    iterations = serializers.IntegerField(help_text="EM steps taken.")
    converged = serializers.BooleanField(
        help_text="The log-likelihood settled (relative change under 1e-8) before the step limit."
    )
    max_iterations = serializers.IntegerField(required=False)
    log_likelihood = serializers.FloatField(allow_null=True, required=False)


class CostSerializer(serializers.Serializer):
    overlap_policy = serializers.ChoiceField(choices=Batch.OverlapPolicy.choices)
    k_min = serializers.IntegerField()
    k_max = serializers.IntegerField(help_text="k under fixed overlap.")
    judgments_used = serializers.IntegerField(help_text="Judgments on the batch's non-gold items.")
    fixed_k_judgments = serializers.IntegerField(help_text="Non-gold items times k_max.")
    saved_share = serializers.FloatField(allow_null=True, help_text="1 - judgments_used / fixed_k_judgments.")


class ReportOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Report.Status.choices)
    stale = serializers.BooleanField(help_text="Judgments changed since computed_at.")
    computing = serializers.BooleanField(help_text="A computation is enqueued.")
    computed_at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True, help_text="How long the computation took.")
    overlap = serializers.IntegerField(required=False)
    judgments_set_aside = serializers.IntegerField(
        required=False,
        help_text="Judgments that quality control set aside (a stopped worker's): in no figure here.",
    )
    batch = FiguresSerializer(required=False, help_text="Totals over every dataset.")
    datasets = DatasetFiguresSerializer(many=True, required=False)
    workers = WorkerRowSerializer(many=True, required=False)
    dawid_skene = DawidSkeneSerializer(required=False, help_text="How the Dawid-Skene estimates were reached.")
    cost = CostSerializer(required=False, help_text="A batch's report: judgments used against fixed k = k_max.")


def report_response_data(report: Report) -> dict:
    payload = with_example_links(dict(report.payload or {}))
    payload.update(
        status=report.status,
        stale=report.stale,
        computing=report.queued_at is not None,
        computed_at=report.computed_at.isoformat() if report.computed_at else None,
        seconds=report.seconds,
    )
    return payload


def _subject(request, kind: str, pk: int) -> Report:
    found = report_for(user=request.user, kind=kind, pk=pk)
    if found is None:
        raise Http404
    return found[0]


class ReportApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        responses={200: ReportOutputSerializer, 202: ReportOutputSerializer},
        summary="The stored agreement report of a batch, or of every judgment on a dataset",
        description="A report behind its judgments is computed now where tasks run in-process (the "
        "embedded default), else enqueued (202 until it was ever computed). `stale` says judgments changed "
        "since `computed_at`; `computing` that a computation is queued.",
    )
    def get(self, request, kind: str, pk: int):
        report = report_keep_fresh(report=_subject(request, kind, pk))
        code = status.HTTP_200_OK if report.computed_at else status.HTTP_202_ACCEPTED
        return Response(report_response_data(report), status=code)

    @extend_schema(
        request=None,
        responses={200: ReportOutputSerializer, 202: ReportOutputSerializer},
        summary="Recompute the report now (in-process) or enqueue it (with a broker: 202)",
    )
    def post(self, request, kind: str, pk: int):
        report = report_refresh(report=_subject(request, kind, pk))
        report.refresh_from_db()
        code = status.HTTP_202_ACCEPTED if broker_runs_tasks() else status.HTTP_200_OK
        return Response(report_response_data(report), status=code)


def _ready(report: Report) -> Report:
    report = report_keep_fresh(report=report)
    if report.status != Report.Status.READY:
        raise ApplicationError(
            "This report has not been computed yet: it is being computed now (with a broker, within seconds); try again shortly.", status_code=409
        )
    return report


EXPORTS = {
    "export.json": "application/json",
    "datasets.csv": "text/csv",
    "workers.csv": "text/csv",
    "examples.csv": "text/csv",
    "calibration.csv": "text/csv",
    "summary.md": "text/markdown",
}


class ReportExportApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=list(EXPORTS))],
        responses={(200, media): OpenApiResponse(OpenApiTypes.STR) for media in set(EXPORTS.values())},
        summary="The stored report as complete JSON, CSV tables (datasets, workers, examples, calibration) or a Markdown summary",
    )
    def get(self, request, kind: str, pk: int, name: str):
        if name not in EXPORTS:
            raise Http404
        report = _ready(_subject(request, kind, pk))
        filename = exports.export_filename(report.payload.get("subject") or {}, name)
        if name == "export.json":
            table = examples_for_export(report=report)
            body = json.dumps({**report_response_data(report), "examples": table}, ensure_ascii=False)
        elif name == "datasets.csv":
            body = exports.datasets_csv(report.payload)
        elif name == "workers.csv":
            body = exports.workers_csv(report.payload)
        elif name == "calibration.csv":
            body = exports.calibration_csv(report.payload)
        elif name == "examples.csv":
            lines = exports.examples_csv_lines(examples_for_export(report=report))
            response = StreamingHttpResponse(lines, content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response
        else:
            title = (report.payload.get("subject") or {}).get("name") or (report.payload.get("subject") or {}).get(
                "slug", f"{kind} {pk}"
            )
            body = exports.summary_markdown(with_example_links(report.payload), title=f"Crowd validation: {title}")
        response = HttpResponse(body, content_type=f"{EXPORTS[name]}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _range(bound) -> dict:
    return {"type": "number" if not bound.integer else "integer", "minimum": bound.low, "maximum": bound.high}


CRITERIA_PARAMETERS = [
    OpenApiParameter("min_agreement", _range(MIN_AGREEMENT), description=DESCRIPTIONS["min_agreement"] + " Default 0.6."),
    OpenApiParameter("max_ambiguous", _range(MAX_AMBIGUOUS), description=DESCRIPTIONS["max_ambiguous"] + " Default 1."),
    OpenApiParameter("min_relevance", _range(MIN_RELEVANCE), description=DESCRIPTIONS["min_relevance"] + " Default 3."),
    OpenApiParameter("complete_only", bool, description=DESCRIPTIONS["complete_only"] + " Default true."),
    OpenApiParameter("include_gold", bool, description=DESCRIPTIONS["include_gold"] + " Default false."),
    OpenApiParameter("exclude_flagged", bool, description=DESCRIPTIONS["exclude_flagged"] + " Default true."),
    OpenApiParameter(
        "dataset", str, description="A dataset's slug: only its examples (one file per dataset, as the release "
        "holds them, imports again whatever the formats of the others). Default: every dataset of the subject.",
    ),  # fmt: skip
]


def _validated(request, kind: str, pk: int) -> tuple[Report, dict, dict]:
    criteria = criteria_from(request.query_params)  # a bad threshold is a 400 before any work
    report = _ready(_subject(request, kind, pk))
    dataset = request.query_params.get("dataset") or None
    table, summary = validated_of(report=report, criteria=criteria, dataset=dataset)
    summary.update(
        file=exports.export_filename(summary["subject"], f"{dataset}-validated.jsonl" if dataset else "validated.jsonl"),
        report_computed_at=report.computed_at.isoformat() if report.computed_at else None,
        exported_at=timezone.now().isoformat(),
    )
    return report, table, summary


class ValidatedExportApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        parameters=CRITERIA_PARAMETERS,
        responses={(200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR)},
        summary="The examples that pass the thresholds, as JSON lines in the release format with crowd_* figures",
        description="The file imports again (the release parser ignores the crowd_* fields). Its metadata "
        "(subject, criteria, counts) is the sidecar `validated.meta.json` with the same query.",
    )
    def get(self, request, kind: str, pk: int):
        _, table, summary = _validated(request, kind, pk)
        response = StreamingHttpResponse(validated_lines(table=table), content_type="application/jsonl")
        response["Content-Disposition"] = f'attachment; filename="{summary["file"]}"'
        return response


class ValidatedDatasetCountSerializer(serializers.Serializer):
    dataset = serializers.CharField(help_text="Slug.")
    examples = serializers.IntegerField()
    passing = serializers.IntegerField()


class ValidatedMetaSerializer(serializers.Serializer):
    subject = serializers.DictField(help_text="{batch, name} or {dataset, slug, reader}.")
    dataset = serializers.CharField(allow_null=True, help_text="The one dataset exported (its slug), or null: all.")
    criteria = serializers.DictField(help_text="The thresholds applied, defaults filled in.")
    definition = serializers.DictField(child=serializers.CharField(), help_text="What each threshold means.")
    examples = serializers.IntegerField(help_text="Examples with judgments that count.")
    passing = serializers.IntegerField(help_text="Examples that pass: the lines of the JSONL file.")
    datasets = ValidatedDatasetCountSerializer(many=True)
    flagged_workers = serializers.ListField(child=serializers.CharField())
    judgments = serializers.IntegerField()
    judgments_set_aside = serializers.IntegerField(
        help_text="Judgments quality control set aside: not among those counted above."
    )
    file = serializers.CharField(help_text="The name the JSONL file downloads as.")
    report_computed_at = serializers.DateTimeField(allow_null=True)
    exported_at = serializers.DateTimeField()


class ValidatedMetaApi(APIView):
    permission_classes = [IsResearcher]
    renderer_classes = [JSONRenderer]  # a sidecar file, also when a browser follows the link

    @extend_schema(
        parameters=CRITERIA_PARAMETERS,
        responses=ValidatedMetaSerializer,
        summary="How many examples pass the thresholds, and the validated export's metadata (its sidecar JSON)",
    )
    def get(self, request, kind: str, pk: int):
        _, _, summary = _validated(request, kind, pk)
        response = Response(summary)
        if request.query_params.get("download") in ("1", "true"):
            name = summary["file"].removesuffix(".jsonl") + ".meta.json"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def side_summary(request, batch_id, dataset_id) -> tuple[str, dict]:
    if batch_id:
        report = _ready(_subject(request, "batches", batch_id))
        summary = report_summary(report=report, dataset_id=dataset_id)
        if summary is None:
            raise ApplicationError(f"dataset {dataset_id} is not in batch {batch_id}'s report", status_code=404)
        label = report.payload["subject"]["name"] + (f" / {summary['dataset']['slug']}" if dataset_id else "")
        return label, summary
    if dataset_id:
        report = _ready(_subject(request, "datasets", dataset_id))
        return report.payload["subject"]["slug"], report_summary(report=report)
    raise ApplicationError("each side needs a batch, a dataset, or both")


class CompareInputSerializer(serializers.Serializer):
    left_batch = ID.drf(required=False)
    left_dataset = ID.drf(required=False)
    right_batch = ID.drf(required=False)
    right_dataset = ID.drf(required=False)


class CompareApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        operation_id="report_compare",
        parameters=[CompareInputSerializer],
        responses=inline_serializer(
            "ReportComparison",
            {
                "left": inline_serializer("ComparisonSide", {"label": serializers.CharField(), "figures": FiguresSerializer()}),
                "right": inline_serializer("ComparisonSideRight", {"label": serializers.CharField(), "figures": FiguresSerializer()}),
                "differences": serializers.DictField(help_text="left minus right: difference, ci_low, ci_high, test, p_value"),
            },
        ),
        summary="Two datasets or batches side by side: differences with 95% intervals and tests",
    )
    def get(self, request):
        params = CompareInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        p = params.validated_data
        left_label, left = side_summary(request, p.get("left_batch"), p.get("left_dataset"))
        right_label, right = side_summary(request, p.get("right_batch"), p.get("right_dataset"))
        return Response(
            {
                "left": {"label": left_label, "figures": left},
                "right": {"label": right_label, "figures": right},
                "differences": report_compare(left=left, right=right),
            }
        )
