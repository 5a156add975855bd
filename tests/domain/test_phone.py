import pytest

from app.domain.phone import normalise, time_zones
from app.domain.refusals import Refused


@pytest.mark.parametrize("raw, region, expected", [
    ("+1 201-555-0123", None, "+12015550123"),
    ("(201) 555-0123", "US", "+12015550123"),
    ("0049 151 12345678", None, "+4915112345678"),
    ("+55 11 98765-4321", None, "+5511987654321"),
])
def test_numbers_are_normalised_to_e164(raw, region, expected):
    assert normalise(raw, region) == expected


@pytest.mark.parametrize("raw, code", [
    ("", "number_missing"),
    ("hello", "number_invalid"),
    ("+1 201", "number_impossible"),
    ("+1 201 555 01234567", "number_impossible"),
    ("+44 7700 900123", "number_invalid"),   # a drama number: possible length, not in any plan
    ("201-555-0123", "number_invalid"),      # national format with no region to read it in
])
def test_bad_numbers_are_refused_in_words(raw, code):
    with pytest.raises(Refused) as caught:
        normalise(raw)
    assert caught.value.code == code
    assert caught.value.reasons[0].message


def test_national_number_without_region_suggests_the_country_code():
    with pytest.raises(Refused) as caught:
        normalise("201-555-0123")
    assert "+" in caught.value.reasons[0].message


def test_time_zones_come_from_the_number():
    assert time_zones("+4915112345678") == ("Europe/Berlin",)
