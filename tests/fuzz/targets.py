"""Every fuzz target once: a strategy of argument tuples, the property that checks them, a budget.

`tests/fuzz/test_fuzz.py` runs each target with `examples` cases (derandomised: the same
cases every run, so `make test` is repeatable); `HYPOTHESIS_PROFILE=long` multiplies them by
`LONG_FACTOR`. `python -m bench.fuzz --minutes N` runs the same targets on fresh random cases
until its time is up.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fuzz import live, properties
from tests.fuzz import strategies as s

LONG_FACTOR = 20


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[tuple[Any, ...]]
    check: Callable[..., None]
    examples: int  # in `make test`
    live: str = ""  # "plain" / "safe": needs that served gateway (first argument of `check`)
    # Inputs tried on every run before the random ones: the attacks issue 12 names and what
    # fuzzing found, so a small derandomised budget can never miss them.
    seeds: tuple[tuple[Any, ...], ...] = ()


def _form_body(pairs: list[tuple[str, str]]) -> bytes:
    """Percent-encoded pairs, lone surrogates as their (invalid) UTF-8 bytes."""
    return "&".join(f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
                    for k, v in pairs).encode()


def _paths(*paths: str) -> st.SearchStrategy[str]:
    return st.sampled_from(paths)


_PLAIN_TEXT = {"ToUserName": "gh_0123456789ab", "FromUserName": "o" + "A" * 27, "CreateTime": "1700000000",
               "MsgType": "text", "Content": "会宁县缴费多少]]>", "MsgId": "1234567890123456"}
_DEEP = b"[" * 10_000 + b"]" * 10_000
_CHAT_SEEDS = (
    _DEEP,                                                                # RecursionError (M5)
    b'{"sender": "fz-s", "message": "\\ud800"}',                          # lone surrogate (M5)
    b'{"sender": "fz-s\\n", "message": "hi"}',                            # trailing line break (M5)
    b'{"sender": "fz-c", "message": "hi", "channel": "console"}',         # console channel (M1)
    b'{"sender": "fz-n", "message": ' + b"9" * 5000 + b"}",              # huge number
)
_SMS = {"To": "+15005550006", "AccountSid": "AC" + "0" * 32}


TARGETS: list[Target] = [
    # pure parsers and helpers of the gateway
    Target("xml_any", st.tuples(st.binary(max_size=400) | s.HOSTILE_TEXT
                                | s.HOSTILE_TEXT.map(lambda t: f"<xml><A>{t}</A></xml>")),
           properties.check_xml_any, 300,
           seeds=(("<xml><A>\ud800</A></xml>",), (b'<!DOCTYPE xml [<!ENTITY a "x">]><xml><A>&a;</A></xml>',),
                  (b"<xml>" + b"<N>" * 5000 + b"</N>" * 5000 + b"</xml>",))),
    Target("xml_fields", s.wechat_body(kinds=("valid",)),
           properties.check_xml_fields, 200),
    Target("xml_reply_render", st.tuples(s.TEXT, s.TEXT, s.TEXT), properties.check_reply_render, 200,
           seeds=(("oUser", "gh_x", "答复：\ud800"), ("oUser", "gh_x", "a]]>b\x1b\ufffe"))),
    Target("form", st.tuples(st.binary(max_size=300) | st.lists(
        st.tuples(s.HOSTILE_TEXT, s.HOSTILE_TEXT), max_size=5).map(_form_body)),
           properties.check_form, 300),
    Target("sms_split", st.tuples(s.TEXT | s.SMS_BODY | st.text(s.ANY_CHAR | s.SURROGATE, max_size=2000),
                                  st.integers(1, 3), st.integers(400, 1600)),
           properties.check_split, 200),
    Target("redact_phone", s.phone_in_text(), properties.check_redaction, 300,
           seeds=tuple(("13812345678", f"电话{sep.join(['138', '1234', '5678'])}。")
                       for sep in (" ", "-", ".", "\u3000", "\xa0", "\uff0d"))),
    Target("mask_sender", st.tuples(s.SMS_FROM | s.HOSTILE_TEXT), properties.check_mask, 200),
    # the text normaliser and what reads its output
    Target("normalise", st.tuples(s.TEXT | s.numeral_text() | st.text(s.ANY_CHAR, max_size=400)
                                  | s.LONG_NUMERALS),
           properties.check_normalise, 400,
           seeds=(("十天" * 150,), ("断保" + "十万元" * 200,), ("會寧縣" * 200,))),
    Target("numerals", st.tuples(st.integers(0, 99_999_999) | st.integers(0, 10_000),
                                 st.sampled_from(["元", "块", "天", "个月", "岁"])),
           properties.check_numeral, 300,
           seeds=((108, "元"), (1005, "元"), (10005, "元"), (320, "元"))),
    Target("numerals_colloquial", st.tuples(st.integers(1, 9), st.sampled_from(["百", "千", "万"]),
                                            st.integers(1, 9)),
           properties.check_colloquial, 100),
    Target("reading", st.tuples(s.TEXT | s.numeral_text()), properties.check_reading, 150),
    # the served gateway, end to end
    Target("api_chat", st.tuples(_paths("/api/chat"), s.CHAT_BODY), live.check_chat, 120, live="plain",
           seeds=tuple(("/api/chat", body) for body in _CHAT_SEEDS)),
    Target("widget_chat", st.tuples(_paths("/widget/chat"), s.CHAT_BODY), live.check_chat, 80,
           live="plain", seeds=tuple(("/widget/chat", body) for body in _CHAT_SEEDS)),
    Target("updates", st.tuples(
        _paths("/api/chat/updates", "/widget/updates"),
        s.mostly(st.sampled_from(live.KNOWN_SENDERS), s.SENDER),
        s.mostly(st.none() | st.just("web"), st.sampled_from(["console", "sms", "web\n"]) | s.HOSTILE_TEXT),
        s.mostly(st.none() | st.integers(0, 5).map(str), s.AFTER, 5),
        s.mostly(st.just("right"), st.sampled_from(["wrong", "none"]) | st.text(max_size=40)),
        st.sampled_from(["query", "header"]),
    ), live.check_updates, 120, live="plain",
           seeds=(("/api/chat/updates", live.KNOWN_SENDERS[0], None, "9" * 20, "right", "query"),  # M5
                  ("/widget/updates", live.KNOWN_SENDERS[0], None, "0", "none", "query"),  # M2
                  ("/widget/updates", live.KNOWN_SENDERS[0] + "\n", "web", "0", "right", "header"))),
    Target("wechat", s.wechat_body(), live.check_wechat, 100, live="plain",
           seeds=((_PLAIN_TEXT, ("<xml>" + "".join(f"<{k}><![CDATA[{v.replace(']]>', ']]]]><![CDATA[>')}]]></{k}>"
                                                   for k, v in _PLAIN_TEXT.items()) + "</xml>").encode()),)),
    Target("wechat_safe_mode", st.tuples(
        s.wechat_message(),
        s.mostly(st.none(), st.text(st.characters(max_codepoint=0xFF), max_size=80).map(lambda t: t.encode("latin-1"))
                 | st.binary(max_size=60).map(base64.b64encode)),
        s.mostly(st.just("none"), st.sampled_from(["wrong", "missing", "plaintext"])),
    ).map(lambda t: (t[0] if t[1] is None else None, t[1] or b"", t[2])),
           live.check_wechat_safe_mode, 80, live="safe",
           seeds=((_PLAIN_TEXT, b"", "plaintext"), (_PLAIN_TEXT, b"", "wrong"),  # H1
                  (None, b"bm90IGNpcGhlcnRleHQ=", "none"))),
    Target("sms", st.tuples(st.fixed_dictionaries(
        {"From": s.SMS_FROM, "Body": s.SMS_BODY, "To": st.just("+15005550006"),
         "AccountSid": st.just("AC" + "0" * 32)}).flatmap(
            lambda d: s.SMS_EXTRA.map(lambda extra: {**extra, **d}))),
           live.check_sms, 80, live="plain",
           seeds=(({"From": "+8613800000000", "Body": "\x1b", **_SMS},),
                  ({"From": "+8613800000000", "Body": "STOP", **_SMS},))),
]
BY_NAME = {t.name: t for t in TARGETS}


def profile_factor() -> int:
    return LONG_FACTOR if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 1


def hypothesis_settings(max_examples: int, *, derandomize: bool) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def runner(target: Target, cfg: settings, gateway: live.LiveGateway | None = None,
           on_example: Callable[[], None] | None = None,
           on_failure: Callable[[tuple[Any, ...]], None] | None = None) -> Callable[[], None]:
    """The hypothesis test of `target` under `cfg`; calling it runs all its examples.
    `on_failure` sees every failing input; the last one is the shrunk example."""
    prefix = (gateway,) if target.live else ()

    def run(args: tuple[Any, ...]) -> None:
        if on_example is not None:
            on_example()
        try:
            target.check(*prefix, *args)
        except Exception:
            if on_failure is not None:
                on_failure(args)
            raise

    for seed in target.seeds:
        run = example(seed)(run)
    return cfg(given(target.strategy)(run))
