"""Cleaning the plain values a service is given (text, a choice from a
vocabulary), the same way for every service: a bad value is a
``DomainError`` naming the field, before anything is written."""

from __future__ import annotations

from typing import Any

from lib.errors import DomainError


def text(value: Any, *, field: str, label: str, max_length: int | None = None, required: bool = True) -> str:
    """Text, stripped; empty only when not ``required``; at most ``max_length``."""
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


def choice(value: Any, choices, *, field: str, label: str) -> str:
    """One of a ``TextChoices`` vocabulary's values."""
    if value not in choices.values:
        raise DomainError(f"Choose a valid {label.lower()}", field=field, code="invalid_choice")
    return str(value)
