"""Model fields Polaris needs and Django does not ship."""

from django.core.exceptions import ValidationError
from django.db import models

UINT64_MAX = 2**64 - 1


class Uint64Field(models.CharField):
    """An unsigned 64-bit integer (a Stellar ID memo or muxed-account id), stored as decimal text.

    Why text: ``PositiveBigIntegerField`` is a signed int64 on PostgreSQL, so ids above 2**63-1 do not fit,
    and SQLite's NUMERIC affinity turns integers above int64 into floats, silently losing digits. Canonical
    decimal text (no sign, no leading zeros) is exact on every backend and keeps equality lookups and
    indexes working. Python code sees an ``int``; ordering in SQL is textual, which no query needs.
    """

    description = "Unsigned 64-bit integer stored as decimal text"

    def __init__(self, *args, **kwargs):
        kwargs["max_length"] = 20
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"]
        return name, path, args, kwargs

    def to_python(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            raise ValidationError("a memo id must be an integer, not a boolean")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{value!r} is not an unsigned 64-bit integer") from None
        if isinstance(value, str) and value.strip() != str(number):
            raise ValidationError(f"{value!r} is not in canonical decimal form")
        if not 0 <= number <= UINT64_MAX:
            raise ValidationError(f"{value!r} is outside 0..2**64-1")
        return number

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value)

    def get_prep_value(self, value):
        number = self.to_python(value)
        return None if number is None else str(number)

    def formfield(self, **kwargs):
        from django import forms

        return forms.IntegerField(min_value=0, max_value=UINT64_MAX, required=not self.blank, **kwargs)
