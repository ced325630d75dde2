"""The expression parser of computed indicators: what it reads, what it refuses (everything
that is not arithmetic over codes), and how a formula without a value is answered."""

from __future__ import annotations

import pytest

from models.core.expressions import (
    DIVISION_BY_ZERO,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_NODES,
    OUT_OF_RANGE,
    ExpressionError,
    evaluate,
    parse,
)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("100 * FAFSA_DONE / SENIORS", {"FAFSA_DONE": 30, "SENIORS": 120}, 25.0),
        ("TUTOR_SESSIONS + MENTOR_HOURS", {"TUTOR_SESSIONS": 4, "MENTOR_HOURS": 2.5}, 6.5),
        ("-(A - 2) * 3", {"A": 5}, -9.0),
        ("A - B - C", {"A": 10, "B": 3, "C": 2}, 5.0),  # left to right
        ("A / B / C", {"A": 8, "B": 2, "C": 2}, 2.0),
        ("A + B * C", {"A": 1, "B": 2, "C": 3}, 7.0),  # * before +
        ("max(A, B, 0) - min(A, B)", {"A": -1, "B": 4}, 5.0),
        ("3RD_GRADE / 2", {"3RD_GRADE": 9}, 4.5),  # a code may start with a digit
        ("+A", {"A": 2}, 2.0),
        ("1.5e2 * A", {"A": 2}, 300.0),
    ],
)
def test_arithmetic_over_codes(text, values, expected) -> None:
    expression = parse(text)
    assert expression.codes == frozenset(values)
    assert evaluate(expression, values).value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("A.__class__", "attribute access"),
        ("A.real", "attribute access"),
        ("__import__('os')", "neither a number"),
        ("open(A)", "neither a number"),
        ("eval(A)", "neither a number"),
        ("exec", "neither a number"),
        ("a + b", "neither a number"),  # lower case is no code
        ("A ** 2", "powers"),
        ("2 ** 1000000 * A", "powers"),
        ("9" * 400 + " * A", "numbers are at most"),
        ("1e999 * A", "numbers are at most"),
        ("A ^ 2", "not allowed"),
        ("A < B", "not allowed"),
        ("A if B else C", "neither a number"),
        ("[A][0]", "not allowed"),
        ("A; B", "not allowed"),
        ("'A'", "not allowed"),
        ("A +", "ends too early"),
        ("(A + B", "not closed"),
        ("A B", "unexpected"),
        ("min(A)", "two or more"),
        ("max A", "parentheses"),
        ("2 + 3", "at least one indicator"),
        ("", "empty"),
        ("   ", "empty"),
        ("A" + " + A" * (MAX_NODES // 2 + 1), "at most"),
        ("(" * (MAX_DEPTH + 1) + "A" + ")" * (MAX_DEPTH + 1), "nests"),
        ("-" * (MAX_DEPTH + 1) + "A", "nests"),
        ("A+" * (MAX_LENGTH // 2) + "A", f"at most {MAX_LENGTH} characters"),
        (" + ".join(f"X{i}" for i in range(21)), "at most 20 indicators"),
    ],
)
def test_anything_but_arithmetic_over_codes_is_refused(text, says) -> None:
    with pytest.raises(ExpressionError) as refused:
        parse(text)
    assert says in str(refused.value)


def test_a_refusal_says_where() -> None:
    with pytest.raises(ExpressionError, match=r"at character 5"):
        parse("A + .__class__")


def test_not_text_is_refused() -> None:
    with pytest.raises(ExpressionError):
        parse(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "values", "reason"),
    [
        ("100 * A / B", {"A": 3, "B": 0}, DIVISION_BY_ZERO),
        ("A / (B - B)", {"A": 3, "B": 7}, DIVISION_BY_ZERO),
        ("A * A * A * A", {"A": 1e300}, OUT_OF_RANGE),
        ("A * 1000000000000", {"A": 1e12}, OUT_OF_RANGE),
    ],
)
def test_a_formula_without_a_value_is_no_figure_with_its_reason(text, values, reason) -> None:
    outcome = evaluate(parse(text), values)
    assert (outcome.value, outcome.reason) == (None, reason)
