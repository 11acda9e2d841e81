"""Order intake and the order document (DESIGN §8)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ecom_project.access import READER_AUTHENTICATION, is_staff
from ecom_project.api_errors import ApplicationError
from orders import domain, identifiers, selectors, services
from orders.request_input import (
    MoneyField, StrictIntegerField, StrictSerializer, StrictStringField, json_object, require_json_media_type,
    unsafe_key_path,
)

MAX_ADDRESS_KEYS = 20


@extend_schema_field({"type": "object", "properties": {"country": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                      "required": ["country"], "additionalProperties": {"type": "string"}})
class ShippingAddressField(serializers.Field):
    """An object with a 2-letter `country`; its other keys (street, name, ...) are strings
    kept in the orders store only: events carry the country and nothing else of it."""

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be an object.")
        country = data.get("country")
        if not isinstance(country, str) or len(country) != 2 or not country.isascii() or not country.isupper():
            raise serializers.ValidationError({"country": "Must be 2 uppercase letters (ISO 3166-1 alpha-2)."})
        if len(data) > MAX_ADDRESS_KEYS:
            raise serializers.ValidationError(f"At most {MAX_ADDRESS_KEYS} keys.")
        bad = sorted(k for k, v in data.items() if len(k) > 64 or not isinstance(v, str) or len(v) > 200)
        if bad:
            raise serializers.ValidationError({key: "Must be a string of at most 200 characters." for key in bad})
        return dict(data)

    def to_representation(self, value: dict) -> dict:
        return value


@extend_schema_field(OpenApiTypes.UUID)
class ClientOrderIdField(serializers.Field):
    """An orderId the client chose: a UUID (8-4-4-4-12 hex), stored in lowercase."""

    def to_internal_value(self, data: Any) -> str:
        order_id = identifiers.client_order_id(data)
        if order_id is None:
            raise serializers.ValidationError("Must be a UUID such as 3f2b8c1e-5a4d-4e7b-9c2a-1d0e6f7a8b9c.")
        return order_id

    def to_representation(self, value: str) -> str:
        return value


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 200 and all(" " <= c <= "~" for c in key)):
        raise ApplicationError(
            "Idempotency-Key must be 1-200 printable ASCII characters.", code="invalid",
            fields={"Idempotency-Key": "1-200 printable ASCII characters"},
        )
    return key


def _request_body(request: Request) -> bytes:
    try:
        raw = request.body
    except RequestDataTooBig:
        raw = None
    if raw is None or len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        raise ApplicationError(
            f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.", code="payload_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return raw


class OrderCreateApi(APIView):
    """Repeated SKUs are merged into one line (quantities summed); the sum must still be
    at most 10,000. A client-chosen `orderId` (a UUID) makes the request idempotent like an
    `Idempotency-Key`: a repeat with the same body answers 200 with that id, one with another
    body 409."""

    parser_classes: list = []  # the body is read by request_input.json_object (strict numbers)

    @extend_schema_serializer(component_name="OrderCreateInput")
    class InputSerializer(StrictSerializer):
        class LineSerializer(StrictSerializer):
            sku = StrictStringField(r"^[A-Za-z0-9._-]+$", min_length=1, max_length=64)
            qty = StrictIntegerField(min_value=1, max_value=domain.MAX_LINE_QTY)

        items = LineSerializer(many=True, min_length=1, max_length=100)
        total = MoneyField(max_value=Decimal("1000000000"))
        currency = StrictStringField(r"^[A-Z]{3}$", required=False, default="USD")
        shippingAddress = ShippingAddressField(required=False, default=None)
        orderId = ClientOrderIdField(required=False, default=None)

        def validate_items(self, items: list[dict]) -> list[dict]:
            merged = domain.merged_lines(items)
            too_many = [line["sku"] for line in merged if line["qty"] > domain.MAX_LINE_QTY]
            if too_many:
                raise serializers.ValidationError(
                    f"After merging repeated SKUs, qty exceeds {domain.MAX_LINE_QTY} for: {', '.join(too_many)}."
                )
            return merged

    @extend_schema(
        request={"application/json": InputSerializer},  # explicit: the view has no DRF parser to infer it from
        responses={201: inline_serializer("OrderCreated", {"orderId": serializers.CharField()}),
                   200: inline_serializer("OrderRepeated", {"orderId": serializers.CharField()})},
    )
    def post(self, request: Request) -> Response:
        require_json_media_type(request.content_type)
        raw = _request_body(request)
        key = _idempotency_key(request)
        data = json_object(raw)
        unsafe = unsafe_key_path(data)
        if unsafe:
            raise ApplicationError("Keys may not start with '$' or contain '.'.", code="invalid",
                                   fields={unsafe: "forbidden key"})
        serializer = self.InputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        creation = services.order_create(
            items=body["items"], total=body["total"], currency=body["currency"],
            shipping_address=body["shippingAddress"], idempotency_key=key, order_id=body["orderId"],
        )
        code = status.HTTP_201_CREATED if creation.created else status.HTTP_200_OK
        return Response({"orderId": creation.order_id}, status=code)


class OrderDetailApi(APIView):
    """Open to anyone holding the id; the address beyond its country is for staff only."""

    authentication_classes = READER_AUTHENTICATION

    class OutputSerializer(serializers.Serializer):
        class HistorySerializer(serializers.Serializer):
            status = serializers.CharField()
            at = serializers.DateTimeField()
            eventId = serializers.CharField()

        orderId = serializers.CharField()
        status = serializers.CharField()
        items = serializers.ListField(child=serializers.DictField())
        total = serializers.CharField()
        currency = serializers.CharField()
        shippingAddress = serializers.DictField(allow_null=True)
        createdAt = serializers.DateTimeField()
        updatedAt = serializers.DateTimeField()
        statusHistory = HistorySerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, order_id: str) -> Response:
        order = selectors.order_get(order_id=order_id, staff=is_staff(request.user))
        return Response(self.OutputSerializer(order).data)
