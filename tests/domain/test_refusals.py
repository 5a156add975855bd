"""Reasons joined for people read as sentences."""

from app.domain.refusals import Reason, Refused, sentences


def test_each_reason_is_a_sentence_of_its_own():
    assert sentences(["The window closed.", "Choose a template", " ", "Send it later;"]) == \
        "The window closed. Choose a template. Send it later."
    assert str(Refused(Reason("a", "One."), Reason("b", "Two?"))) == "One. Two?"
