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


def test_moves_from_lists_exactly_the_statuses_an_incoming_report_replaces():
    from app.domain.status import LABELS, advance, moves_from

    for incoming in LABELS:
        for current in LABELS:
            assert (current in moves_from(incoming)) == (advance(current, incoming) != current), (current, incoming)
    assert "delivered" not in moves_from("sent") and "sent" in moves_from("delivered")
