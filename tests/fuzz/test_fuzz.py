"""Fuzz the gateway's parsers and endpoints and the text normaliser (see `targets.py`).

Each test runs one target's derandomised examples: bounded (the whole file well under a
minute on two cores) and repeatable. A failure prints the smallest input hypothesis found.
`HYPOTHESIS_PROFILE=long` runs 20 times as many; `python -m bench.fuzz` runs them by time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fuzz.live import SAFE_MODE, LiveGateway, live_gateway
from tests.fuzz.targets import BY_NAME, hypothesis_settings, profile_factor, runner


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    """WeChat in plaintext mode (no AES key), Twilio, the JSON API and the widget."""
    with live_gateway(tmp_path_factory.mktemp("fuzz-gateway")) as gw:
        yield gw


@pytest.fixture(scope="module")
def gateway_safe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGateway]:
    """WeChat in safe mode (AES key configured)."""
    with live_gateway(tmp_path_factory.mktemp("fuzz-gateway-safe"), **SAFE_MODE) as gw:
        yield gw


def fuzz(name: str, gateway: LiveGateway | None = None) -> None:
    target = BY_NAME[name]
    cfg = hypothesis_settings(target.examples * profile_factor(), derandomize=True)
    runner(target, cfg, gateway)()


def test_xml_parser_refuses_with_xml_rejected_only() -> None:
    fuzz("xml_any")


def test_xml_fields_come_back_as_sent() -> None:
    fuzz("xml_fields")


def test_xml_reply_always_encodes_and_parses() -> None:
    fuzz("xml_reply_render")


def test_form_parser_refuses_with_form_rejected_only() -> None:
    fuzz("form")


def test_sms_split_within_limits() -> None:
    fuzz("sms_split")


def test_redaction_hides_every_phone_form() -> None:
    fuzz("redact_phone")


def test_mask_shows_at_most_seven_characters() -> None:
    fuzz("mask_sender")


def test_normalise_bounded_and_idempotent() -> None:
    fuzz("normalise")


def test_chinese_numerals_read_as_written() -> None:
    fuzz("numerals")


def test_colloquial_numerals() -> None:
    fuzz("numerals_colloquial")


def test_reading_never_raises() -> None:
    fuzz("reading")


def test_api_chat_never_5xx_and_stores_what_it_accepts(gateway: LiveGateway) -> None:
    fuzz("api_chat", gateway)


def test_widget_chat_never_5xx_and_stores_what_it_accepts(gateway: LiveGateway) -> None:
    fuzz("widget_chat", gateway)


def test_updates_never_5xx_and_need_the_token(gateway: LiveGateway) -> None:
    fuzz("updates", gateway)


def test_wechat_never_5xx_and_stores_what_it_answers(gateway: LiveGateway) -> None:
    fuzz("wechat", gateway)


def test_wechat_safe_mode_never_5xx_and_needs_msg_signature(gateway_safe: LiveGateway) -> None:
    fuzz("wechat_safe_mode", gateway_safe)


def test_sms_never_5xx_and_stores_what_it_answers(gateway: LiveGateway) -> None:
    fuzz("sms", gateway)
