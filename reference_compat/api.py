"""Each class here stands for a view of this project and subclasses it, so authentication,
permissions, throttles, parsers, validation and errors are that view's, and any rule added to
it later applies here too. Only the answer's shape changes where the spec's differs."""
from __future__ import annotations

import functools

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from ecom_project.access import is_staff
from ecom_project.openapi import REFERENCE_TAG
from operations.api import OrderCompensateApi, OrderRetryApi
from orders.api import OrderCreateApi, OrderDetailApi
from projections import selectors as projection_selectors
from projections.api import OrderProjectionListApi, ProjectionSerializer, TimelineEntrySerializer

REFERENCE_LIST_SIZE = 100  # the spec's read model answers its 100 newest projections


@extend_schema(tags=[REFERENCE_TAG], description="The reference spec's POST /orders: POST /api/orders.")
class ReferenceOrderCreateApi(OrderCreateApi):
    pass


class ReferenceOrderListApi(OrderProjectionListApi):
    class StatusFilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, allow_blank=True)

    @extend_schema(
        operation_id="reference_orders_list", tags=[REFERENCE_TAG],
        description="The reference spec's GET /orders: the newest 100 projections of GET /api/read/orders, "
                    "as a plain array.",
        parameters=[OpenApiParameter("status", str, description="only orders in this status")],
        responses=ProjectionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = self.StatusFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = projection_selectors.order_projection_list(
            status=params.validated_data.get("status") or None, limit=REFERENCE_LIST_SIZE, cursor=None,
            staff=is_staff(request.user),
        )
        return Response(page["results"])


class ReferenceOrderSerializer(OrderDetailApi.OutputSerializer):
    timeline = TimelineEntrySerializer(many=True)


class ReferenceOrderDetailApi(OrderDetailApi):
    @extend_schema(
        tags=[REFERENCE_TAG], responses=ReferenceOrderSerializer,
        description="The reference spec's GET /orders/{id}, which its order service answers with the order and "
                    "its read model with the projection: the order of GET /api/orders/{id}, with `status` and "
                    "`timeline` of GET /api/read/orders/{id} (the order's own status and an empty timeline until "
                    "the read model has the order).",
    )
    def get(self, request: Request, order_id: str) -> Response:
        order = super().get(request, order_id).data  # 404 for an unknown id, as /api/orders/{id}
        projection = projection_selectors.order_projection_find(order_id=order_id, staff=is_staff(request.user))
        merged = {**order, "timeline": []}
        if projection is not None:
            merged.update(status=projection["status"], timeline=projection["timeline"])
        return Response(merged)


@extend_schema(tags=[REFERENCE_TAG], description="The reference spec's admin retry: POST /api/admin/orders/{id}/retry.")
class ReferenceOrderRetryApi(OrderRetryApi):
    pass


@extend_schema(tags=[REFERENCE_TAG],
               description="The reference spec's admin compensation: POST /api/admin/orders/{id}/compensate.")
class ReferenceOrderCompensateApi(OrderCompensateApi):
    pass


@extend_schema(tags=[REFERENCE_TAG])
class ReferenceOrderCollectionApi(ReferenceOrderListApi, ReferenceOrderCreateApi):
    """GET and POST /orders, two views on one path (Django routes by path only): a request is
    handed as it came to the view of its method, which applies its own policy, so reading the
    list and placing an order keep their different rules. The inherited methods document them."""

    method_views = {"GET": ReferenceOrderListApi, "HEAD": ReferenceOrderListApi, "POST": ReferenceOrderCreateApi}

    def dispatch(self, request, *args, **kwargs):
        view = self.method_views.get(request.method)
        if view is None:  # OPTIONS that is no CORS preflight, or a method neither view has (405)
            return super().dispatch(request, *args, **kwargs)
        return _view_function(view)(request, *args, **kwargs)


@functools.cache
def _view_function(view: type) -> object:
    return view.as_view()  # once per view: a request should not pay for building it
