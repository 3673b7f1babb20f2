"""Dataset API for researchers: list, detail (PATCH the behaviour), examples, export, imports."""

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors, services
from generation.models import RECORD_FIELDS, Collection, Dataset, Example, ImportJob, Origin
from qa.roles import IsResearcher


def _dataset_or_404(dataset_id: int) -> Dataset:
    try:
        return selectors.dataset_get(dataset_id=dataset_id)
    except Dataset.DoesNotExist:
        raise Http404 from None


class DatasetOutputSerializer(serializers.ModelSerializer):
    rows = serializers.IntegerField(read_only=True)
    label_balance = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Share of ' Yes' / ' (A)' among answer_matching_behavior (0.5 is balanced); null without answers.",
    )
    mean_confidence = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Mean label_confidence."
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "slug",
            "name",
            "collection",
            "origin",
            "format",
            "behavior",
            "rows",
            "label_balance",
            "mean_confidence",
            "source_file",
            "provenance",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DatasetFilterSerializer(serializers.Serializer):
    collection = serializers.ChoiceField(choices=Collection.choices, required=False)
    origin = serializers.ChoiceField(choices=Origin.choices, required=False)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Search slugs, names (file paths) and behaviour descriptions."
    )


class DatasetListApi(ListAPIView):
    """Every dataset of the deployment (datasets are shared among researchers)."""

    permission_classes = [IsResearcher]
    serializer_class = DatasetOutputSerializer

    @extend_schema(parameters=[DatasetFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = DatasetFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        return selectors.dataset_list(
            collection=chosen.get("collection"), origin=chosen.get("origin"), search=chosen.get("q")
        )


class DatasetUpdateInputSerializer(serializers.Serializer):
    behavior = serializers.CharField(
        max_length=2000, required=False, help_text="The behaviour description crowdworkers read."
    )
    collection = serializers.ChoiceField(choices=Collection.choices, required=False)
    origin = serializers.ChoiceField(choices=Origin.choices, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("give at least one of behavior, collection, origin")
        return attrs


class DatasetDetailApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=DatasetOutputSerializer)
    def get(self, request, id: int):
        return Response(DatasetOutputSerializer(_dataset_or_404(id)).data)

    @extend_schema(request=DatasetUpdateInputSerializer, responses=DatasetOutputSerializer)
    def patch(self, request, id: int):
        """Change the behaviour description, the collection or the origin (any of them)."""
        dataset = _dataset_or_404(id)
        data = DatasetUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.dataset_update(dataset=dataset, **data.validated_data)
        return Response(DatasetOutputSerializer(_dataset_or_404(id)).data)


class ExampleOutputSerializer(serializers.ModelSerializer):
    answer_matching_behavior = serializers.JSONField(
        help_text='" Yes", " (A)", ... or a list of them; null if none.'
    )
    answer_not_matching_behavior = serializers.JSONField(help_text="As answer_matching_behavior.")
    pronoun_options = serializers.JSONField(help_text="winogenerated: the pronouns for the blank; else null.")
    extra = serializers.JSONField(help_text="Keys of the record that its format does not name.")
    repeat_lines = serializers.ListField(
        child=serializers.IntegerField(), help_text="Later lines with the same record."
    )
    choices = serializers.SerializerMethodField()

    class Meta:
        model = Example
        fields = ["id", *RECORD_FIELDS, "choices"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_choices(self, example) -> list[str]:
        return selectors.example_choices(dataset=self.context["dataset"], example=example)


class ExampleListApi(ListAPIView):
    """A dataset's examples in file order, with the answers a worker would choose from."""

    permission_classes = [IsResearcher]
    serializer_class = ExampleOutputSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Search question, statement and sentence_with_blank.")
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_dataset(self) -> Dataset:
        if not hasattr(self, "_dataset"):
            self._dataset = _dataset_or_404(self.kwargs["id"])
        return self._dataset

    def get_queryset(self):
        return selectors.example_list(dataset=self.get_dataset(), search=self.request.query_params.get("q"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "dataset": self.get_dataset()}


class JSONLinesRenderer(BaseRenderer):
    """Lets clients ask for application/jsonl; errors on this endpoint still come as JSON text."""

    media_type = "application/jsonl"
    format = "jsonl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class DatasetExportApi(APIView):
    """The dataset as JSON lines in the release's format, streamed; import then export gives the
    same records. Repeated records are written at each of their lines unless unique=true."""

    permission_classes = [IsResearcher]
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        parameters=[OpenApiParameter("unique", bool, description="Write each record once.")],
        responses={
            (200, "application/jsonl"): OpenApiResponse(OpenApiTypes.STR, description="One record per line.")
        },
    )
    def get(self, request, id: int):
        dataset = _dataset_or_404(id)
        unique = request.query_params.get("unique", "").lower() in ("1", "true", "yes")
        response = StreamingHttpResponse(
            selectors.dataset_export_lines(dataset=dataset, unique=unique),
            content_type="application/jsonl; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{dataset.slug}.jsonl"'
        return response


class ImportJobOutputSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    summary = serializers.JSONField(
        help_text="files, datasets, datasets_created, rows_added, rows_present, duplicates_in_file, files_rejected, "
        "errors, notes, dataset_ids; empty until the job has run."
    )
    errors = serializers.ListField(
        child=serializers.CharField(), help_text="'file:line: field: message' each."
    )
    # Blank when the upload left them to be recognised per file, so not the choices' enum.
    collection = serializers.CharField(help_text="The collection chosen for every file; empty: recognised per file.")
    origin = serializers.CharField(help_text="The origin chosen for every file; empty: recognised per file.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "status",
            "files",
            "collection",
            "origin",
            "rows_total",
            "rows_done",
            "summary",
            "errors",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_files(self, job) -> list[str]:
        return [f["name"] for f in job.files]


class ImportCreateInputSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), min_length=1, help_text="JSON-lines files.")
    paths = serializers.ListField(
        child=serializers.CharField(max_length=1000),
        required=False,
        max_length=100_000,
        help_text="For a folder: each file's path relative to it (advanced-ai-risk/human_generated_evals/x.jsonl), "
        "one per file in the same order; they say the collection and origin as import_evals's paths do. "
        "Other than .jsonl/.json files are then skipped.",
    )
    collection = serializers.ChoiceField(choices=Collection.choices, required=False, allow_blank=True)
    origin = serializers.ChoiceField(choices=Origin.choices, required=False, allow_blank=True)


class ImportCreateApi(APIView):
    """Upload files to import; the import runs in the background (poll the job)."""

    permission_classes = [IsResearcher]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ImportCreateInputSerializer, responses={202: ImportJobOutputSerializer})
    def post(self, request):
        data = ImportCreateInputSerializer(
            data={
                "files": request.FILES.getlist("files"),
                "paths": request.data.getlist("paths") if hasattr(request.data, "getlist") else [],
                "collection": request.data.get("collection", ""),
                "origin": request.data.get("origin", ""),
            }
        )
        data.is_valid(raise_exception=True)
        chosen = data.validated_data
        job = services.import_job_create(
            user=request.user,
            files=chosen["files"],
            paths=chosen.get("paths") or None,
            collection=chosen.get("collection", ""),
            origin=chosen.get("origin", ""),
        )
        job.refresh_from_db()  # an eager (embedded) run has finished already
        return Response(ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportDetailApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ImportJobOutputSerializer)
    def get(self, request, id: int):
        try:
            job = selectors.import_job_get(job_id=id, user=request.user)
        except ImportJob.DoesNotExist:
            raise Http404 from None
        return Response(ImportJobOutputSerializer(job).data)
