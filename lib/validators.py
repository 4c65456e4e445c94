"""Small input checks the services share: each raises ``DomainError`` naming
the field, so a form or the API can point at it; none of them writes."""

from __future__ import annotations

from typing import Any

from lib.errors import DomainError


def text(value: Any, *, field: str, label: str, max_length: int | None = None, required: bool = True) -> str:
    """Text, stripped: refused if it is not text, empty when required, or
    longer than ``max_length``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DomainError(f"{label} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise DomainError(f"Enter {label.lower()}", field=field, code="required")
    if max_length is not None and len(value) > max_length:
        raise DomainError(f"{label} must be {max_length:,} characters or fewer", field=field, code="max_length")
    return value
