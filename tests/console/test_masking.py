"""What the console masks in message texts, and what it leaves readable."""

from __future__ import annotations

import pytest

from channels.console.masking import redact_text


@pytest.mark.parametrize("text, secret", [
    ("我的电话13812345678", "13812345678"),
    ("电话 +86 138-1234-5678", "1234-5678"),
    ("call +8613812345678", "8613812345678"),
    ("身份证620422199001011234", "620422199001011234"),
    ("身份证62042219900101123X", "62042219900101123X"),
    ("老身份证620422900101123", "620422900101123"),
    ("座机0943-1234567", "0943-1234567"),
    ("卡号6222021234567890123", "6222021234567890123"),
    ("家里电话8123456", "8123456"),
])
def test_identifiers_are_masked_keeping_last_four(text: str, secret: str) -> None:
    masked = redact_text(text)
    assert secret not in masked
    assert masked.endswith(secret.replace("-", "")[-4:])


@pytest.mark.parametrize("text", [
    "会宁县2022年个人缴费320元", "出生日期2022-03-05，缴费日期2022年4月1日", "生日20220305",
    "12393医保服务热线", "2021 2022 两年", "资助金额1000元",
])
def test_dates_amounts_and_hotline_stay_readable(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize("text", [
    "电话138.1234.5678", "电话138\u30001234\u30005678", "电话138－1234－5678",
    "电话138\xa01234\xa05678", "座机0943．1234567",
])
def test_numbers_written_with_any_separator_are_masked(text: str) -> None:
    """The console knows the separators the log redaction knows (channels.identity)."""
    masked = redact_text(text)
    assert "1234" not in masked and "5678" in masked or masked.endswith("4567"), masked
    assert not any(group in masked for group in ("138", "0943")), masked
