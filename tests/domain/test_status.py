import pytest

from app.domain.status import advance


@pytest.mark.parametrize("current, incoming, expected", [
    ("accepted", "sent", "sent"),
    ("sent", "delivered", "delivered"),
    ("delivered", "read", "read"),
    ("read", "delivered", "read"),      # out of order: never backwards
    ("read", "sent", "read"),
    ("unknown", "delivered", "delivered"),  # a receipt resolves an unknown outcome
    ("unknown", "failed", "failed"),
    ("sent", "failed", "failed"),
    ("delivered", "failed", "delivered"),  # the customer already has it
    ("failed", "read", "failed"),
    ("sent", "weird", "sent"),
])
def test_status_only_moves_forward(current, incoming, expected):
    assert advance(current, incoming) == expected
