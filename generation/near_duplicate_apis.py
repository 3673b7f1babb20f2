"""Near duplicates of a dataset, from its stored embeddings (generation.vectors). Researchers only."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import bounds
from generation.embeddings import MINILM
from generation.models import Dataset
from generation.vectors import dataset_near_duplicates
from qa.roles import IsResearcher


class NearDuplicatesInputSerializer(serializers.Serializer):
    threshold = bounds.NEAR_DUPLICATE_THRESHOLD.drf(
        required=False, default=bounds.NEAR_DUPLICATE_DEFAULT, help_text="Least cosine similarity of a pair."
    )


class _ExampleRef(serializers.Serializer):
    id = serializers.IntegerField()
    line = serializers.IntegerField()
    text = serializers.CharField()


class _Pair(serializers.Serializer):
    a = _ExampleRef()
    b = _ExampleRef()
    cosine = serializers.FloatField()


class NearDuplicatesSerializer(serializers.Serializer):
    threshold = serializers.FloatField()
    model = serializers.CharField()
    examples = serializers.IntegerField()
    embedded = serializers.IntegerField(
        help_text="Examples with an embedding: pairs are found among these (compute the dataset's map to embed the rest)."
    )
    count = serializers.IntegerField(help_text="Pairs at or above the threshold.")
    pairs = _Pair(many=True, help_text="The 200 most similar pairs.")


class NearDuplicatesApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(parameters=[NearDuplicatesInputSerializer], responses=NearDuplicatesSerializer)
    def get(self, request, id: int):
        dataset = Dataset.objects.filter(pk=id).first()
        if dataset is None:
            raise Http404
        query = NearDuplicatesInputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = dataset_near_duplicates(
            dataset=dataset, threshold=query.validated_data["threshold"], model=MINILM
        )
        return Response(NearDuplicatesSerializer(result).data)
