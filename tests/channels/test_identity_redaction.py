"""`channels.identity.redact`: phone numbers in every way people write them are masked in logs
(issue 12 fuzz finding, reproduced by tests/fuzz: test_redaction_hides_every_phone_form)."""

from __future__ import annotations

import pytest

from channels.identity import redact

_SEPARATORS = {
    "ascii-space": " ",
    "dash": "-",
    "dot": ".",
    "spaced-dash": " - ",
    "no-break-space": "\xa0",
    "ideographic-space": "\u3000",  # what a Chinese IME types for a space
    "fullwidth-hyphen": "\uff0d",
    "fullwidth-stop": "\uff0e",
    "ideographic-stop": "\u3002",
    "en-dash": "\u2013",
    "minus-sign": "\u2212",
    "tab": "\t",
}


@pytest.mark.parametrize("sep", list(_SEPARATORS.values()), ids=list(_SEPARATORS))
@pytest.mark.parametrize("prefix", ["", "+86", "+86 "], ids=["local", "plus86", "plus86-space"])
def test_phone_written_with_any_separator_is_masked(sep: str, prefix: str) -> None:
    line = f"电话{prefix}138{sep}1234{sep}5678，请回电"
    out = redact(line)
    assert out.endswith("5678，请回电") and out.startswith("电话")
    assert "1234" not in out and "138" not in out, out
    assert "*" in out


def test_fullwidth_digits_with_separators_are_masked() -> None:
    out = redact("电话１３８\u3000１２３４\u3000５６７８")
    assert "１２３４" not in out and "１３８" not in out, out


def test_masking_stays_on_one_line() -> None:
    """Line breaks are not separators: a number at the end of one log line and one at the
    start of the next stay on their own lines."""
    out = redact("id 1234\n5678 rows")
    assert out == "id 1234\n5678 rows"
    assert redact("a 13812345678\nb 13987654321") == "a *******5678\nb *******4321"


def test_ip_addresses_stay_readable() -> None:
    """With "." a separator, an IPv4 address must not be taken for a number (the gateway's
    own start-up lines carry them); a dotted phone number still is."""
    line = "Goin' Fast @ http://127.0.0.1:8000 from 192.168.100.200"
    assert redact(line) == line
    assert redact("138.1234.5678 @ 10.0.0.1") == "*******5678 @ 10.0.0.1"
