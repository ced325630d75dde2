"""Numbers' texts are kept (models.core.i18n.format_number): each is the text babel gives
that value, in each language, an int and the float equal to it and 0 and -0.0 each their own."""

from __future__ import annotations

import pytest

from models.core import i18n

VALUES = (1, 1.0, 0, 0.0, -0.0, 1234.5, 0.165, 0.155, -3, -2.5, 1e16, 12345678.125, float("nan"))


@pytest.mark.parametrize("locale", ["en", "es"])
def test_kept_texts_are_babels_own(locale) -> None:
    token = i18n.begin_request(locale)
    try:
        for _ in range(2):  # made, then kept
            for value in VALUES:
                for kw, pattern in (
                    ({}, None),
                    ({"digits": 2}, "#,##0.00"),
                    ({"digits": 0}, "#,##0"),
                    ({"max_digits": 2}, "#,##0.##"),
                ):
                    expected = i18n._format_decimal(value, pattern, i18n._babel_locale())
                    assert i18n.format_number(value, **kw) == expected, (value, kw)
    finally:
        i18n.end_request(token)
