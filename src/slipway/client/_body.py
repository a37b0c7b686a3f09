"""Request bodies built from keyword arguments, with pydantic's errors as InvalidInput."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from slipway.errors import InvalidInput
from slipway.operations import describe_validation

M = TypeVar("M", bound=BaseModel)


def body(model: type[M], **fields: Any) -> M:
    """Build a request body, turning pydantic's error into InvalidInput naming the field."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise InvalidInput(describe_validation(exc.errors())) from None
