"""Diversity map API: ask for a map, follow its progress, read its points. Researchers only."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analysis.diversity import selectors, services
from qa.roles import IsResearcher


class MapProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=["none", "queued", "running", "done", "failed"])
    stage = serializers.CharField()
    examples_total = serializers.IntegerField()
    examples_embedded = serializers.IntegerField()
    error = serializers.CharField()
    seconds = serializers.DictField(child=serializers.FloatField())
    points = serializers.IntegerField()
    available = serializers.BooleanField(
        help_text="Whether this installation has the map extra (embedding model, UMAP)."
    )


class MapPointsSerializer(serializers.Serializer):
    id = serializers.ListField(
        child=serializers.IntegerField(), help_text="Example ids; every other list follows their order."
    )
    x = serializers.ListField(child=serializers.FloatField())
    y = serializers.ListField(child=serializers.FloatField())
    label = serializers.ListField(
        child=serializers.CharField(allow_blank=True), help_text="answer_matching_behavior."
    )
    confidence = serializers.ListField(child=serializers.FloatField(allow_null=True))
    text = serializers.ListField(
        child=serializers.CharField(allow_blank=True), help_text="The first 300 characters."
    )
    dataset = serializers.ListField(child=serializers.CharField())
    outcome = serializers.ListField(
        child=serializers.CharField(), allow_null=True,
        help_text="validated / not validated / not judged over the reader's batches; null when none judged the subject.",
    )  # fmt: skip
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True))
    outcomes = serializers.ListField(child=serializers.CharField())


def _subject(kind: str, key: str):
    subject = selectors.map_subject(kind=kind, key=key)
    if subject is None:
        raise Http404("No such dataset or collection.")
    return subject


class MapApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=MapProgressSerializer)
    def get(self, request, kind: str, key: str):
        dataset, collection, _ = _subject(kind, key)
        return Response(
            MapProgressSerializer(
                selectors.map_progress(diversity_map=selectors.map_of(dataset=dataset, collection=collection))
            ).data
        )

    @extend_schema(request=None, responses={202: MapProgressSerializer})
    def post(self, request, kind: str, key: str):
        """Compute the map (again): embeds what is not embedded yet, then projects with UMAP."""
        dataset, collection, _ = _subject(kind, key)
        diversity_map = services.map_request(user=request.user, dataset=dataset, collection=collection)
        diversity_map.refresh_from_db()
        return Response(
            MapProgressSerializer(selectors.map_progress(diversity_map=diversity_map)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class MapPointsApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=MapPointsSerializer)
    def get(self, request, kind: str, key: str):
        dataset, collection, _ = _subject(kind, key)
        diversity_map = selectors.map_of(dataset=dataset, collection=collection)
        if diversity_map is None or not diversity_map.points:
            raise Http404("This map has not been computed yet.")
        return Response(
            MapPointsSerializer(selectors.map_points(user=request.user, diversity_map=diversity_map)).data
        )
