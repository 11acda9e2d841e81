"""Admin API (DESIGN §8): staff-only, JWT. Small views; the work is in services/selectors."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

import json

from django.conf import settings

from ecom_project.api_errors import ApplicationError
from ecom_project.events.saga import STATUSES, STEPS
from ecom_project.messaging.deadletters import STATUSES as LETTER_STATUSES
from operations import bulk, redrive, replay, selectors, services
from operations.authentication import StaffJwtApi
from orders.selectors import OrderFilter

LETTER_SUMMARY_FIELDS = ("status", "originalTopic", "originalType", "originalEventId", "orderId", "consumer",
                         "error", "attempts", "failedAt", "lastFailedAt", "failures", "poison")
# The message exactly: `raw` is its text when it is UTF-8 (rawEncoding "utf-8"), else null and only rawBase64.
LETTER_DETAIL_FIELDS = ("payload", "raw", "rawBase64", "rawEncoding", "key", "keyBase64", "keyEncoding",
                        "partition", "offset", "dlqTopic")


def _letter_out(letter: dict, *, full: bool = False) -> dict:
    body = {"id": letter["_id"], **{f: letter.get(f) for f in LETTER_SUMMARY_FIELDS},
            "replayCount": letter.get("replayCount", len(letter.get("replays", []))),
            "maxReplays": settings.DEAD_LETTER_MAX_REPLAYS,
            "replays": [{"at": r["at"], "by": r["by"], "forced": r.get("forced", False), "edited": r.get("edited", False),
                         "redrive": r.get("redrive")} for r in letter.get("replays", [])]}
    if full:
        body.update({f: letter.get(f) for f in LETTER_DETAIL_FIELDS})
        body["history"] = [{k: h.get(k) for k in ("at", "error", "attempts", "source", "afterReplay")}
                           for h in letter.get("history", [])]
        body["edits"] = [{k: e.get(k) for k in ("at", "by", "rawBase64")} for e in letter.get("edits", [])]
    return body


def _redrive_out(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("_id", "owner")}


def _edited_bytes(given: dict) -> bytes | None:
    """The edited message from `payload` (the event as JSON, or its text) or `payloadBase64` (exact bytes)."""
    if "payload" in given and "payloadBase64" in given:
        raise ApplicationError("Give payload or payloadBase64, not both.", fields={"payload": "one of the two"})
    if "payloadBase64" in given:
        return given["payloadBase64"]
    if "payload" not in given:
        return None
    value = given["payload"]
    return value.encode() if isinstance(value, str) else json.dumps(value, separators=(",", ":")).encode()


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
        consumer = serializers.CharField(required=False, max_length=100)
        errorContains = serializers.CharField(required=False, max_length=200)  # noqa: N815
        orderId = serializers.CharField(required=False, max_length=64)  # noqa: N815
        limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_LIMIT, default=50)
        cursor = serializers.CharField(required=False, max_length=1000)

    @extend_schema(operation_id="admin_dead_letters_list", parameters=[FilterSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        page, next_cursor = selectors.dead_letter_list(
            status=given.get("status"), topic=given.get("topic"), order_id=given.get("orderId"),
            consumer=given.get("consumer"), error=given.get("errorContains"), limit=given["limit"], cursor=given.get("cursor"),
        )
        return Response({"items": [_letter_out(letter) for letter in page], "nextCursor": next_cursor})


class DeadLetterDetailApi(StaffJwtApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, dead_letter_id: str) -> Response:
        return Response(_letter_out(selectors.dead_letter_get(dead_letter_id=dead_letter_id), full=True))


class DeadLetterReplayApi(StaffJwtApi):
    """Replays one letter to the consumer that failed it only. 409: poison (unchanged), parked (without
    force), already replayed (without force). An edited payload is validated (400 if not), audited, and
    kept beside the original."""

    @extend_schema_serializer(component_name="DeadLetterReplayInput")
    class InputSerializer(serializers.Serializer):
        force = serializers.BooleanField(required=False, default=False)
        payload = serializers.JSONField(required=False, help_text="the corrected event (the whole envelope), as JSON or text")
        payloadBase64 = serializers.CharField(required=False, max_length=1_400_000)  # noqa: N815

        def validate_payloadBase64(self, value: str) -> bytes:  # noqa: N802
            import base64
            import binascii

            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise serializers.ValidationError("not base64") from None

    @extend_schema(request=InputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, dead_letter_id: str) -> Response:
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        letter = replay.dead_letter_replay(
            dead_letter_id=dead_letter_id, requested_by=self.operator, force=data.validated_data["force"],
            edited=_edited_bytes(data.validated_data),
        )
        return Response(_letter_out(letter), status=status.HTTP_202_ACCEPTED)


class DeadLetterRedriveApi(StaffJwtApi):
    """Bulk redrive by filter: a dry run (the default) says what each letter would get; otherwise the
    redrive starts (202) at `rate` events/s and GET .../redrives/{id} shows its progress."""

    @extend_schema_serializer(component_name="DeadLetterRedriveFilter")
    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=LETTER_STATUSES, required=False, default="pending")
        topic = serializers.CharField(required=False, max_length=249)
        consumer = serializers.CharField(required=False, max_length=100)
        errorContains = serializers.CharField(required=False, max_length=200)  # noqa: N815
        orderId = serializers.CharField(required=False, max_length=64)  # noqa: N815
        olderThanSeconds = serializers.IntegerField(required=False, min_value=1)  # noqa: N815

    @extend_schema_serializer(component_name="DeadLetterRedriveInput")
    class InputSerializer(serializers.Serializer):
        filter = serializers.DictField(required=False, default=dict)
        rate = serializers.FloatField(required=False, min_value=0.1, max_value=1000, help_text="events per second")
        force = serializers.BooleanField(required=False, default=False, help_text="parked and replayed letters too")
        dryRun = serializers.BooleanField(required=False, default=True)  # noqa: N815

    @extend_schema(request=InputSerializer, responses=OpenApiTypes.OBJECT, operation_id="admin_dead_letters_redrive")
    def post(self, request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        where = self.FilterSerializer(data=given["filter"])
        where.is_valid(raise_exception=True)
        letters = letter_filter(where.validated_data)
        if given["dryRun"]:
            return Response(redrive.redrive_preview(where=letters, force=given["force"]))
        doc = redrive.redrive_create(where=letters, rate=given.get("rate") or settings.DEAD_LETTER_REDRIVE_RATE,
                                     force=given["force"], requested_by=self.operator)
        redrive.redrive_in_background(redrive.redrive_claim(doc["_id"], requested_by=self.operator))
        return Response(_redrive_out(redrive.redrive_get(doc["_id"])), status=status.HTTP_202_ACCEPTED)


def letter_filter(given: dict) -> redrive.LetterFilter:
    return redrive.LetterFilter(
        status=given.get("status"), topic=given.get("topic"), consumer=given.get("consumer"),
        error=given.get("errorContains"), order_id=given.get("orderId"), older_than_s=given.get("olderThanSeconds"),
    )


class DeadLetterRedriveListApi(StaffJwtApi):
    @extend_schema(responses=OpenApiTypes.OBJECT, operation_id="admin_dead_letters_redrives")
    def get(self, request) -> Response:
        return Response({"items": [_redrive_out(doc) for doc in redrive.redrive_list()]})


class DeadLetterRedriveDetailApi(StaffJwtApi):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, redrive_id: str) -> Response:
        return Response(_redrive_out(redrive.redrive_get(redrive_id)))


class DeadLetterRedriveResumeApi(StaffJwtApi):
    """Continues an interrupted redrive from its checkpoint (409 while it runs or once it finished)."""

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    def post(self, request, redrive_id: str) -> Response:
        redrive.redrive_in_background(redrive.redrive_claim(redrive_id, requested_by=self.operator))
        return Response(_redrive_out(redrive.redrive_get(redrive_id)), status=status.HTTP_202_ACCEPTED)
