"""Strict reading of a JSON request body: what DRF's lenient defaults would let through.

DRF's JSON parser turns `1e309` into inf and accepts NaN; its IntegerField takes "5" and
5.0, its CharField takes 123. Order intake must reject all of these, so it reads the body
with these pieces instead.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ecom_project.api_errors import ApplicationError


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a valid JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def require_json_media_type(content_type: str | None) -> None:
    """415 unless the body is declared JSON. A cross-site HTML form can send only text/plain,
    urlencoded or multipart without a CORS preflight: refusing them means no other site can make
    a visitor's browser place orders."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise ApplicationError(
            "The body must be JSON, sent with Content-Type: application/json.", code="unsupported_media_type",
            status_code=415, fields={"Content-Type": "application/json"},
        )


def json_object(raw: bytes) -> dict:
    """The body as a JSON object (floats as Decimal); 400 for anything else."""
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApplicationError(f"The body is not valid JSON: {str(exc)[:200]}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ApplicationError("The body must be a JSON object.", code="invalid_json")
    return data


def unsafe_key_path(data: Any) -> str | None:
    """Path of the first key starting with `$` or containing `.` (MongoDB operator injection)."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else key
                if key.startswith("$") or "." in key:
                    return child_path
                stack.append((child_path, child))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(value))
    return None


class StrictSerializer(serializers.Serializer):
    """Unknown keys are an error, not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: "Unknown field." for key in unknown})
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class StrictIntegerField(serializers.Field):
    """A JSON integer: no bools, no 1.5 or 5.0, no strings."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_value, self.max_value = min_value, max_value

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            raise serializers.ValidationError("Must be a JSON integer.")
        if not self.min_value <= data <= self.max_value:
            raise serializers.ValidationError(f"Must be between {self.min_value} and {self.max_value}.")
        return data

    def to_representation(self, value: int) -> int:
        return value


class StrictStringField(serializers.RegexField):
    """A JSON string only (DRF's CharField would turn 123 into "123")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)


@extend_schema_field({"type": "number", "minimum": 0, "multipleOf": 0.01})
class MoneyField(serializers.Field):
    """A JSON number >= 0 with at most 2 decimals, up to `max_value`; a Decimal inside."""

    def __init__(self, *, max_value: Decimal, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value = max_value

    def to_internal_value(self, data: Any) -> Decimal:
        if type(data) is not int and not isinstance(data, Decimal):
            raise serializers.ValidationError("Must be a JSON number.")
        amount = Decimal(data)
        if not amount.is_finite() or not 0 <= amount <= self.max_value:
            raise serializers.ValidationError(f"Must be between 0 and {self.max_value}.")
        if amount != amount.quantize(Decimal("0.01")):
            raise serializers.ValidationError("At most 2 decimal places.")
        return amount.quantize(Decimal("0.01"))

    def to_representation(self, value: Any) -> str:
        return f"{Decimal(value):.2f}"
