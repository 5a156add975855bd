import pytest

from app.domain.optout import keyword


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop. ", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT",
                                  "REVOKE", "OPTOUT", "opt out"])
def test_opt_out_keywords(text):
    assert keyword(text) == "out"


@pytest.mark.parametrize("text", ["START", "yes", "UNSTOP"])
def test_opt_in_keywords(text):
    assert keyword(text) == "in"


@pytest.mark.parametrize("text", ["please stop calling me at work", "Yes please, tomorrow", "", "STOPP"])
def test_sentences_are_not_keywords(text):
    assert keyword(text) is None
