"""One rule per bounded number: its allowed range, written once and read by the serializers, the
forms and the services, so that a limit cannot drift between the API, the pages and the writes.

A Bound knows its range and how to say it ("must be from 1 to 50"); `drf()` and `form()` build the
input fields that enforce it, `check()` enforces it inside a service. Every range must fit the
database column the number lands in (the column limits are below); the test
tests/qa/test_bounds_everywhere.py walks every API request schema and every form and fails on an
integer or number field without both limits.
"""

import math
from dataclasses import dataclass

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import serializers

# Column limits: PositiveSmallIntegerField, PositiveIntegerField/IntegerField, BigIntegerField.
SMALL_MAX = 2**15 - 1
INT_MAX = 2**31 - 1
BIG_MAX = 2**63 - 1
# Primary keys are BigAutoFields: any id a client names fits here.
ID_MAX = BIG_MAX


@dataclass(frozen=True)
class Bound:
    low: int | float
    high: int | float
    integer: bool = True

    @property
    def allowed(self) -> str:
        return f"from {self.low} to {self.high}"

    def message(self, field: str) -> str:
        return f"{field}: must be a {'whole ' if self.integer else ''}number {self.allowed}"

    def _error_messages(self) -> dict:
        text = f"Must be {self.allowed}."
        return {"min_value": text, "max_value": text}

    def drf(self, **kwargs) -> serializers.Field:
        field = serializers.IntegerField if self.integer else serializers.FloatField
        kwargs.setdefault("error_messages", self._error_messages())
        return field(min_value=self.low, max_value=self.high, **kwargs)

    def form(self, **kwargs) -> forms.Field:
        field = forms.IntegerField if self.integer else forms.FloatField
        kwargs.setdefault("error_messages", self._error_messages())
        return field(min_value=self.low, max_value=self.high, **kwargs)

    def validators(self) -> list:
        return [MinValueValidator(self.low), MaxValueValidator(self.high)]

    def check(self, field: str, value):
        """The value, if it is a number of the right kind within the range; else a 400 naming field."""
        # Imported here: models import their bounds, and qa.errors imports DRF's views, whose settings
        # import the authentication class, which reads annotation's models.
        from qa.errors import ApplicationError

        kinds = (int,) if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ApplicationError(self.message(field), {"field": field})
        if not self.integer and not math.isfinite(value):
            raise ApplicationError(self.message(field), {"field": field})
        if not self.low <= value <= self.high:
            raise ApplicationError(self.message(field), {"field": field})
        return value


ID = Bound(1, ID_MAX)
