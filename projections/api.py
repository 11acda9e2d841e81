"""Read API (DESIGN §8): recent orders, one order, counts per status."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecom_project.access import READER_AUTHENTICATION, MayReadLists, is_staff
from ecom_project.api_errors import ApplicationError
from projections import selectors


class TimelineEntrySerializer(serializers.Serializer):
    type = serializers.CharField()
    eventId = serializers.CharField()  # noqa: N815 (the wire is camelCase)
    at = serializers.DateTimeField()
    detail = serializers.CharField(required=False, help_text="staff only: it may name a payment or a parcel")
    kind = serializers.ChoiceField(choices=["ok", "failed", "compensation", "operator"])


class ProjectionSerializer(serializers.Serializer):
    """The read model of one order (documentation of the answer; the selector builds it)."""

    orderId = serializers.CharField()  # noqa: N815
    status = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())
    total = serializers.CharField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    updatedAt = serializers.DateTimeField()  # noqa: N815
    progressAt = serializers.DateTimeField(help_text="when the saga last moved (dead letters are not progress)")  # noqa: N815
    waitingStep = serializers.CharField(allow_null=True)  # noqa: N815
    overdueStep = serializers.CharField(allow_null=True, help_text="the step past its deadline, if any")  # noqa: N815
    deadLetters = serializers.IntegerField()  # noqa: N815
    timeline = TimelineEntrySerializer(many=True)


class OrderProjectionListApi(APIView):
    authentication_classes = READER_AUTHENTICATION
    permission_classes = [MayReadLists]

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, allow_blank=True)
        limit = serializers.CharField(required=False, default="50")
        cursor = serializers.CharField(required=False, allow_blank=True)
        stuck = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="read_orders_list",
        parameters=[
            OpenApiParameter("status", str, description="only orders in this status"),
            OpenApiParameter("limit", int, description="1-200, default 50"),
            OpenApiParameter("cursor", str, description="nextCursor of the previous page"),
            OpenApiParameter("stuck", bool, description="only orders whose current step is past its deadline"),
        ],
        responses=inline_serializer("ProjectionPage", {
            "items": ProjectionSerializer(many=True), "nextCursor": serializers.CharField(allow_null=True),
        }),
    )
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        page = selectors.order_projection_list(
            status=data.get("status") or None, limit=_limit(data["limit"]), cursor=data.get("cursor") or None,
            stuck=data["stuck"], staff=is_staff(request.user),
        )
        return Response(page)


class OrderProjectionDetailApi(APIView):
    """Open to anyone holding the id; staff see the timeline's details (payment id, tracking)."""

    authentication_classes = READER_AUTHENTICATION

    @extend_schema(responses=ProjectionSerializer)
    def get(self, request: Request, order_id: str) -> Response:
        return Response(selectors.order_projection_get(order_id=order_id, staff=is_staff(request.user)))


class StatusCountsApi(APIView):
    authentication_classes = READER_AUTHENTICATION
    permission_classes = [MayReadLists]

    @extend_schema(responses=OpenApiTypes.OBJECT, description="orders per status in the read model")
    def get(self, request: Request) -> Response:
        return Response(selectors.status_counts())


def _limit(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError("limit must be an integer.", fields={"limit": f"1..{selectors.MAX_LIMIT}"}) from None
