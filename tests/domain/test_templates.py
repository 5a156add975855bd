import pytest

from app.domain.refusals import Refused
from app.domain.templates import (Button, Currency, DateTimeValue, TemplateSpec, bind_positional, choose,
                                  clean_parameter, prefill, render, status_after_event, suggest_value)

ORDER = TemplateSpec(name="order_shipped", language="en_US", channel="whatsapp", category="UTILITY",
                     status="APPROVED", body="Hi {{1}}, order {{2}} ships on {{3}}.", footer="Reply for help.")
NAMED = TemplateSpec(name="appt", language="en_US", channel="whatsapp", category="UTILITY", status="APPROVED",
                     parameter_format="NAMED", body="Hello {{first_name}}, see you {{ date }}.",
                     header_format="TEXT", header_text="Appointment for {{name}}",
                     buttons=(Button("URL", "Manage", "https://example.com/a/{{1}}"),
                              Button("QUICK_REPLY", "Stop")))
MEDIA = TemplateSpec(name="invoice", language="en", channel="whatsapp", category="UTILITY", status="APPROVED",
                     body="Your invoice {{1}} is attached.", header_format="DOCUMENT")


def test_slots_in_reading_order_for_header_body_and_url_buttons():
    assert [s.id for s in NAMED.slots()] == ["header.name", "first_name", "date", "button0.1"]
    assert [s.id for s in MEDIA.slots()] == ["header.media", "1"]


def test_render_fills_every_placeholder_and_keeps_footer():
    rendered = render(ORDER, {"1": "Asha", "2": "A-17", "3": "Nov 25"})
    assert rendered.text == "Hi Asha, order A-17 ships on Nov 25.\nReply for help."


def test_render_named_with_header_and_typed_values():
    rendered = render(NAMED, {"header.name": "Asha P", "first_name": "Asha", "date": DateTimeValue("Monday"),
                              "button0.1": "x9"})
    assert rendered.text == "Appointment for Asha P\nHello Asha, see you Monday."
    cash = TemplateSpec(name="c", language="en", channel="whatsapp", category="UTILITY", status="APPROVED",
                        body="You owe {{1}}.")
    assert render(cash, {"1": Currency("$10.50", "USD", 10500)}).text == "You owe $10.50."


def test_missing_and_extra_parameters_are_each_named():
    with pytest.raises(Refused) as caught:
        render(ORDER, {"1": "Asha", "9": "x"})
    codes = [(r.code, r.field) for r in caught.value.reasons]
    assert ("template_params_extra", "params") in codes
    assert ("template_param_missing", "param:2") in codes
    assert ("template_param_missing", "param:3") in codes


def test_a_parameter_that_is_empty_after_cleaning_counts_as_missing():
    with pytest.raises(Refused) as caught:
        render(ORDER, {"1": " \n\t ", "2": "x", "3": "y"})
    assert caught.value.reasons[0].field == "param:1"


@pytest.mark.parametrize("raw, clean", [
    ("line one\nline two", "line one line two"),
    ("tab\there", "tab here"),
    ("a     b", "a    b"),          # five spaces become four
    ("a    b", "a    b"),           # four are allowed
    ("a\r\n\r\nb", "a b"),
])
def test_parameters_are_cleaned_as_meta_requires(raw, clean):
    assert clean_parameter(raw) == clean


def test_positional_values_bind_in_reading_order_and_too_many_are_refused():
    assert bind_positional(ORDER, ["a", "b"]) == {"1": "a", "2": "b"}
    with pytest.raises(Refused):
        bind_positional(ORDER, ["a", "b", "c", "d"])


def test_choose_by_name_and_language():
    es = TemplateSpec(**{**ORDER.__dict__, "language": "es"})
    assert choose([ORDER, es], "order_shipped", "es") is es
    with pytest.raises(Refused) as caught:
        choose([ORDER, es], "order_shipped", "fr")
    assert "en_US" in caught.value.reasons[0].message and caught.value.code == "template_language_missing"
    with pytest.raises(Refused) as caught:
        choose([ORDER], "nope", None)
    assert caught.value.code == "template_unknown"


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "PAUSED", "DISABLED"])
def test_only_approved_templates_are_chosen(status):
    with pytest.raises(Refused) as caught:
        choose([TemplateSpec(**{**ORDER.__dict__, "status": status})], "order_shipped", "en_US")
    assert caught.value.code == "template_not_approved"


def test_prefill_reads_a_greeting_before_a_positional_placeholder_as_the_first_name():
    contact = {"name": "Asha Patel", "first_name": "Asha"}
    assert prefill(ORDER, contact) == {"1": "Asha", "2": "", "3": ""}
    letter = TemplateSpec(**{**ORDER.__dict__, "body": "Dear {{1}}, ticket {{2}}: hello {{2}}."})
    assert prefill(letter, {"name": "Asha Patel"}) == {"1": "Asha", "2": ""}
    plain = TemplateSpec(**{**ORDER.__dict__, "body": "Order {{1}} for {{2}} is ready. Hi!",
                            "header_format": "TEXT", "header_text": "Hi {{1}}"})
    assert prefill(plain, contact) == {"header.1": "", "1": "", "2": ""}
    assert prefill(ORDER, {}) == {"1": "", "2": "", "3": ""}


def test_prefill_from_contact_where_the_name_obviously_maps():
    slots = {s.key: s for s in NAMED.slots()}
    contact = {"name": "Asha Patel", "email": "asha@example.com"}
    assert suggest_value(slots["first_name"], contact) == "Asha"
    assert suggest_value(slots["name"], contact) == "Asha Patel"
    assert suggest_value(slots["date"], contact) == ""


@pytest.mark.parametrize("event, status", [
    ("APPROVED", "APPROVED"), ("REINSTATED", "APPROVED"), ("paused", "PAUSED"), ("DISABLED", "DISABLED"),
    ("REJECTED", "REJECTED"), ("PENDING_DELETION", "PENDING_DELETION"), ("ARCHIVED", "ARCHIVED"),
    ("FLAGGED", None), ("LOCKED", None), ("UNLOCKED", None), ("UNARCHIVED", None), ("SOMETHING_NEW", None),
])
def test_what_a_channel_event_leaves_a_template_as(event, status):
    assert status_after_event(event) == status
