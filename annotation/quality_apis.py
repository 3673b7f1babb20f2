"""REST API of a batch's quality control, under /api/v1/batches/{id}/quality/: the rules, the stopped
workers (and a researcher's own stop), the action log, reinstating a worker. Only the batch's owner
(or an admin) sees any of it: annotation.apis.batch_for_request scopes the batch, others get 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation import bounds, quality_selectors
from annotation.apis import batch_for_request
from annotation.services import quality
from qa.bounds import ID
from qa.errors import ApplicationError
from qa.roles import IsResearcher


class RulesSerializer(serializers.Serializer):
    gold_accuracy_min = bounds.GOLD_ACCURACY_MIN.drf(
        allow_null=True, required=False, help_text="Stop below this gold accuracy (0-1); null: rule off."
    )
    gold_min_judged = bounds.GOLD_MIN_JUDGED.drf(
        required=False, help_text="Gold items judged before it applies."
    )
    median_seconds_min = bounds.MEDIAN_SECONDS_MIN.drf(
        allow_null=True, required=False, help_text="Stop below this median seconds per item; null: rule off."
    )
    speed_min_judgments = bounds.SPEED_MIN_JUDGMENTS.drf(
        required=False, help_text="Judgments before it applies."
    )
    agreement_alpha = bounds.AGREEMENT_ALPHA.drf(
        allow_null=True,
        required=False,
        help_text="Stop when agreement with the others' majority is below the rest of the crowd's "
        "(one-sided exact binomial test) at this level; null: rule off.",
    )
    agreement_min_judgments = bounds.AGREEMENT_MIN_JUDGMENTS.drf(
        required=False, help_text="Judgments meeting a majority of the others before it applies."
    )
    set_aside = serializers.BooleanField(
        required=False, help_text="Set a stopped worker's judgments aside and reopen their items."
    )


class StopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    worker_id = serializers.IntegerField()
    worker = serializers.CharField()
    rule = serializers.CharField(help_text="gold, speed, agreement or manual.")
    reason = serializers.CharField()
    stopped_by = serializers.CharField(allow_null=True, help_text="null: the automatic rules.")
    stopped_at = serializers.DateTimeField()
    lifted_at = serializers.DateTimeField(allow_null=True)
    lifted_by = serializers.CharField(allow_null=True)
    active = serializers.BooleanField(help_text="Still stopped: no new claims in this batch.")
    judgments_set_aside = serializers.IntegerField()


class ActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="rules, stop, set_aside, reopen or reinstate.")
    worker = serializers.CharField(allow_null=True)
    worker_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    count = serializers.IntegerField(allow_null=True, help_text="Leases, judgments or items it touched.")
    actor = serializers.CharField(allow_null=True, help_text="null: the automatic rules.")


class QualityOverviewSerializer(serializers.Serializer):
    rules = RulesSerializer()
    stops = StopSerializer(many=True)
    log = ActionSerializer(many=True)


class WorkerActionInputSerializer(serializers.Serializer):
    worker = ID.drf(help_text="The worker's id (worker_id in the batch's worker table).")
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=bounds.QUALITY_REASON_LENGTH
    )


class StopInputSerializer(WorkerActionInputSerializer):
    set_aside = serializers.BooleanField(required=False, default=True)


def _rules_data(batch) -> dict:
    rules = quality_selectors.quality_rules_for(batch=batch)
    return {name: getattr(rules, name) for name in RulesSerializer().fields}


def _stop_data(batch, stop) -> dict:
    """The stop as the stops list shows it (with the judgments it set aside)."""
    return StopSerializer(
        next(s for s in quality_selectors.worker_stops_of(batch=batch) if s["id"] == stop.pk)
    ).data


class QualityOverviewApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=QualityOverviewSerializer, summary="A batch's quality rules, stops and log")
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        body = {
            "rules": _rules_data(batch),
            "stops": quality_selectors.worker_stops_of(batch=batch),
            "log": quality_selectors.quality_log_of(batch=batch),
        }
        return Response(QualityOverviewSerializer(body).data)


class QualityRulesApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=RulesSerializer)
    def get(self, request, id: int):
        return Response(RulesSerializer(_rules_data(batch_for_request(request, id))).data)

    @extend_schema(
        request=RulesSerializer,
        responses=RulesSerializer,
        summary="Change the rules (fields left out stay); applied at once to the judgments given",
    )
    def patch(self, request, id: int):
        batch = batch_for_request(request, id)
        # partial: a field left out stays, in a form-encoded body too (there a missing checkbox
        # would otherwise read as false).
        data = RulesSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        unknown = (
            sorted(set(request.data) - set(RulesSerializer().fields)) if hasattr(request.data, "keys") else []
        )
        if unknown:
            raise ApplicationError(
                f"{unknown[0]}: not a rule; the fields are {', '.join(RulesSerializer().fields)}",
                {"field": unknown[0], "allowed": list(RulesSerializer().fields)},
            )
        quality.quality_rules_set(batch=batch, user=request.user, **data.validated_data)
        return Response(RulesSerializer(_rules_data(batch)).data)


class QualityStopsApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=StopSerializer(many=True))
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        return Response(StopSerializer(quality_selectors.worker_stops_of(batch=batch), many=True).data)

    @extend_schema(
        request=StopInputSerializer,
        responses={201: StopSerializer},
        summary="Stop a worker in this batch now (their live leases go back; optionally set their judgments aside)",
    )
    def post(self, request, id: int):
        batch = batch_for_request(request, id)
        data = StopInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        stop = quality.worker_stop(
            batch=batch, worker_id=fields["worker"], reason=fields["reason"], actor=request.user,
            set_aside=fields["set_aside"],
        )  # fmt: skip
        return Response(_stop_data(batch, stop), status=status.HTTP_201_CREATED)


class QualityLogApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(responses=ActionSerializer(many=True), summary="Quality-control actions, newest first")
    def get(self, request, id: int):
        batch = batch_for_request(request, id)
        return Response(ActionSerializer(quality_selectors.quality_log_of(batch=batch), many=True).data)


class QualityReinstateApi(APIView):
    permission_classes = [IsResearcher]

    @extend_schema(
        request=WorkerActionInputSerializer,
        responses=StopSerializer,
        summary="Reinstate a stopped worker: they may claim again and their judgments count again",
    )
    def post(self, request, id: int):
        batch = batch_for_request(request, id)
        data = WorkerActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        stop = quality.worker_reinstate(
            batch=batch, worker_id=fields["worker"], user=request.user, reason=fields["reason"]
        )
        return Response(_stop_data(batch, stop))
