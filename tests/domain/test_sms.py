import pytest

from app.domain.sms import GSM7, UCS2, encode


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", GSM7, 0, 0),
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),   # 2 × 153
    ("a" * 307, GSM7, 307, 3),
    ("€" * 80, GSM7, 160, 1),    # extension characters cost two septets
    ("€" * 81, GSM7, 162, 2),
    ("a" * 159 + "€", GSM7, 161, 2),
    ("Ж" * 70, UCS2, 70, 1),
    ("Ж" * 71, UCS2, 71, 2),
    ("Ж" * 134, UCS2, 134, 2),   # 2 × 67
    ("Ж" * 135, UCS2, 135, 3),
    ("😀" * 35, UCS2, 70, 1),    # a surrogate pair is two units
    ("😀" * 36, UCS2, 72, 2),
])
def test_encoding_and_segments_at_every_boundary(text, encoding, units, segments):
    result = encode(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, segments)


def test_an_escape_pair_is_never_split_across_segments():
    # 152 septets then "€" (2): the pair cannot straddle the 153-septet boundary, so it starts segment 2.
    assert encode("a" * 152 + "€" + "a" * 152).segments == 3
    assert encode("a" * 151 + "€" + "a" * 153).segments == 2


def test_a_surrogate_pair_is_never_split_across_segments():
    assert encode("a" * 66 + "😀" + "aaa").segments == 2
    # 66 units + emoji (2) does not fit 67: the emoji moves to segment 2 and pushes the tail to a 3rd
    assert encode("a" * 66 + "😀" + "a" * 66).segments == 3


def test_one_character_outside_gsm_makes_the_whole_message_ucs2():
    result = encode("a" * 100 + "ç")
    assert result.encoding == UCS2 and result.segments == 2
    assert result.non_gsm_characters == ("ç",)


def test_describe_reads_as_words():
    assert encode("hi").describe() == "GSM-7, 2 characters, 1 segment"
    assert encode("😀").describe() == "UCS-2, 2 UCS-2 units, 1 segment"
