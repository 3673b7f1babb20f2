from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import bounds
from generation.pipelines import PIPELINES
from generation.runs import selectors, services
from qa.roles import IsResearcher


class RunProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    stage = serializers.CharField()
    error = serializers.CharField()
    stages = serializers.ListField(child=serializers.DictField())
    funnel = serializers.DictField()
    preview = serializers.ListField(child=serializers.DictField())
    dataset = serializers.IntegerField(allow_null=True)
    dataset_slug = serializers.CharField(allow_null=True)


class RunCreateInputSerializer(serializers.Serializer):
    pipeline = serializers.ChoiceField(choices=PIPELINES)
    behavior = serializers.CharField(max_length=500)
    generator = serializers.CharField(max_length=300)
    discriminator = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    params = serializers.DictField(required=False, default=dict, help_text="Pipeline parameters (per_label, temperature, gold, ...).")
    seed = bounds.SEED.drf(required=False, default=0)
    chunk_size = bounds.CHUNK_SIZE.drf(required=False, default=8)


class RunListCreateApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=RunCreateInputSerializer, responses={202: RunProgressSerializer})
    def post(self, request):
        data = RunCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_create(user=request.user, **data.validated_data)
        services.run_start(run=run)
        return Response(RunProgressSerializer(selectors.run_progress(run=run)).data, status=status.HTTP_202_ACCEPTED)


class RunDetailApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=RunProgressSerializer)
    def get(self, request, id: int):
        run = get_object_or_404(selectors.runs_visible_to(user=request.user), pk=id)
        return Response(RunProgressSerializer(selectors.run_progress(run=run)).data)


class RunCancelApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(request=None, responses=RunProgressSerializer)
    def post(self, request, id: int):
        run = services.run_cancel(run=get_object_or_404(selectors.runs_visible_to(user=request.user), pk=id))
        return Response(RunProgressSerializer(selectors.run_progress(run=run)).data)
