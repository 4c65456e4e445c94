"""The error every domain service raises on bad input or a refused action."""

from __future__ import annotations


class DomainError(Exception):
    """A rule was broken. ``field`` names the input at fault, when one is.

    Views turn it into a form error, the API into a 400 with field detail.
    Nothing has been written when it is raised: services validate before
    they write, and write in one transaction.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}
