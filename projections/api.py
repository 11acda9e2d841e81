"""Read API (DESIGN §8): recent orders, one order, counts per status."""
from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecom_project.api_errors import ApplicationError
from projections import selectors


class OrderProjectionListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, allow_blank=True)
        limit = serializers.CharField(required=False, default="50")
        cursor = serializers.CharField(required=False, allow_blank=True)

    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        page = selectors.order_projection_list(
            status=data.get("status") or None, limit=_limit(data["limit"]), cursor=data.get("cursor") or None,
        )
        return Response(page)


class OrderProjectionDetailApi(APIView):
    def get(self, request: Request, order_id: str) -> Response:
        return Response(selectors.order_projection_get(order_id=order_id))


class StatusCountsApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(selectors.status_counts())


def _limit(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError("limit must be an integer.", fields={"limit": f"1..{selectors.MAX_LIMIT}"}) from None
