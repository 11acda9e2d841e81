"""Admin API (DESIGN §8): staff-only, JWT. Small views; the work is in services/selectors."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from ecom_project.events.saga import STATUSES, STEPS
from operations import bulk, selectors, services
from operations.authentication import StaffJwtApi
from orders.selectors import OrderFilter

LETTER_SUMMARY_FIELDS = ("status", "originalTopic", "originalType", "originalEventId", "orderId", "consumer",
                         "error", "attempts", "failedAt")


def _letter_out(letter: dict, *, full: bool = False) -> dict:
    body = {"id": letter["_id"], **{f: letter.get(f) for f in LETTER_SUMMARY_FIELDS},
            "replays": [{"at": r["at"], "by": r["by"], "forced": r.get("forced", False)} for r in letter.get("replays", [])]}
    if full:
        body.update({f: letter.get(f) for f in ("payload", "raw", "key", "partition", "offset", "dlqTopic")})
    return body


class OrderRetryApi(StaffJwtApi):
    @extend_schema_serializer(component_name="OrderRetryInput")
    class InputSerializer(serializers.Serializer):
        step = serializers.CharField(max_length=32)

    @extend_schema(request=InputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, order_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event_id = services.admin_order_retry(order_id=order_id, step=data.validated_data["step"], requested_by=self.operator)
        return Response({"eventId": event_id}, status=status.HTTP_202_ACCEPTED)


class OrderCompensateApi(StaffJwtApi):
    @extend_schema_serializer(component_name="OrderCompensateInput")
    class InputSerializer(serializers.Serializer):
        action = serializers.CharField(max_length=32)

    @extend_schema(request=InputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, order_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event_id = services.admin_order_compensate(
            order_id=order_id, action=data.validated_data["action"], requested_by=self.operator,
        )
        return Response({"eventId": event_id}, status=status.HTTP_202_ACCEPTED)


class OrderBulkApi(StaffJwtApi):
    """Retry or compensate the orders a filter selects: a dry run (the default) lists what would be
    done; at most BULK_ACTION_MAX_ORDERS per request; one audit entry per order."""

    @extend_schema_serializer(component_name="OrderBulkFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=STATUSES, required=False)
        step = serializers.ChoiceField(choices=STEPS, required=False, help_text="the step the order waits for")
        stuck = serializers.BooleanField(required=False, default=False, help_text="only orders past the step's deadline")
        olderThanSeconds = serializers.IntegerField(required=False, min_value=1)  # noqa: N815
        errorContains = serializers.CharField(required=False, max_length=200)  # noqa: N815

    @extend_schema_serializer(component_name="OrderBulkInput")
    class InputSerializer(serializers.Serializer):
        filter = serializers.DictField(required=False, default=dict)
        action = serializers.ChoiceField(choices=bulk.BULK_ACTIONS)
        step = serializers.ChoiceField(choices=services.STEPS, required=False,
                                       help_text="retry only; default: the step each order waits for")
        dryRun = serializers.BooleanField(required=False, default=True)  # noqa: N815
        limit = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(request=InputSerializer, responses=OpenApiTypes.OBJECT, operation_id="admin_orders_bulk")
    def post(self, request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        where = self.FilterSerializer(data=given["filter"])
        where.is_valid(raise_exception=True)
        w = where.validated_data
        answer = bulk.orders_bulk_action(
            where=OrderFilter(status=w.get("status"), step=w.get("step"), stuck=w["stuck"],
                              older_than_s=w.get("olderThanSeconds"), error=w.get("errorContains")),
            action=given["action"], step=given.get("step"), dry_run=given["dryRun"], limit=given.get("limit"),
            requested_by=self.operator,
        )
        return Response(answer, status=status.HTTP_200_OK if given["dryRun"] else status.HTTP_202_ACCEPTED)


class DeadLetterListApi(StaffJwtApi):
    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, max_length=32)
        topic = serializers.CharField(required=False, max_length=249)
        orderId = serializers.CharField(required=False, max_length=64)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_LIMIT, default=50)
        cursor = serializers.CharField(required=False, max_length=1000)

    @extend_schema(operation_id="admin_dead_letters_list", parameters=[FilterSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        page, next_cursor = selectors.dead_letter_list(
            status=given.get("status"), topic=given.get("topic"), order_id=given.get("orderId"),
            limit=given["limit"], cursor=given.get("cursor"),
        )
        return Response({"items": [_letter_out(letter) for letter in page], "nextCursor": next_cursor})


class DeadLetterDetailApi(StaffJwtApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, dead_letter_id: str) -> Response:
        return Response(_letter_out(selectors.dead_letter_get(dead_letter_id=dead_letter_id), full=True))


class DeadLetterReplayApi(StaffJwtApi):
    @extend_schema_serializer(component_name="DeadLetterReplayInput")
    class InputSerializer(serializers.Serializer):
        force = serializers.BooleanField(required=False, default=False)

    @extend_schema(request=InputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, dead_letter_id: str) -> Response:
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        letter = services.dead_letter_replay(
            dead_letter_id=dead_letter_id, requested_by=self.operator, force=data.validated_data["force"],
        )
        return Response(_letter_out(letter), status=status.HTTP_202_ACCEPTED)
