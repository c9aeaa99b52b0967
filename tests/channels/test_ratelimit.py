"""Rate limits and the optional API key of `/api/chat`, `/api/chat/updates` and the widget."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from channels.ratelimit import Rate, TokenBuckets, client_ip, parse_networks
from channels.store import MessageStore
from tests.channels.support import FakeRasa, client, gateway_app, gateway_settings, serve


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_refill_and_retry_after() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_min=6, burst=3), clock=clock)  # one token every 10 s
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(10.0)
    assert buckets.take("b") == 0.0  # other keys have their own bucket
    clock.now += 5
    assert buckets.take("a") == pytest.approx(5.0)
    clock.now += 5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    clock.now += 3600  # refills to the burst, not beyond
    assert [buckets.take("a") for _ in range(4)][-1] > 0


def test_token_bucket_memory_is_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(per_min=60, burst=5), max_keys=100, clock=clock)
    for i in range(1000):
        buckets.take(f"k{i}")
    assert len(buckets) <= 100
    clock.now += 10  # all full again: forgotten at the next prune
    for i in range(101):
        buckets.take(f"new{i}")
    assert len(buckets) <= 101


def test_rate_specs() -> None:
    assert Rate.parse("20:10") == Rate(20.0, 10)
    assert Rate.parse("30") == Rate(30.0, 30)
    assert Rate.parse("0") is None and Rate.parse("") is None and Rate.parse("off") is None
    with pytest.raises(ValueError):
        Rate.parse("fast")
    with pytest.raises(ValueError):
        Rate.parse("10:0")


def test_client_ip_believes_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = parse_networks("127.0.0.1, 10.0.0.0/8")
    xff = "6.6.6.6, 203.0.113.7, 10.1.2.3"  # forged first hop, real client, inner proxy
    assert client_ip("198.51.100.1", xff, trusted) == "198.51.100.1"  # not a proxy of ours
    assert client_ip("127.0.0.1", xff, trusted) == "203.0.113.7"
    assert client_ip("127.0.0.1", xff, []) == "127.0.0.1"  # no trusted proxies configured
    assert client_ip("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_ip("127.0.0.1", "not-an-ip", trusted) == "127.0.0.1"
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, proxy.example")


def _count(store: MessageStore) -> int:
    return sum(store.count_by_status().values())


def test_sender_limit_answers_429_and_stores_nothing(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        api_rate_chat_sender="60:2", api_rate_chat_ip="0")
            app = gateway_app(settings)
            async with serve(app) as base, client(base) as http:
                msg = {"sender": "w-flood", "message": "会宁县缴费", "channel": "web"}
                first = await http.post("/api/chat", json=msg)
                assert first.status_code == 200
                tok = {"X-Conversation-Token": first.json()["conversation_token"]}
                assert (await http.post("/api/chat", json=msg, headers=tok)).status_code == 200
                resp = await http.post("/api/chat", json=msg, headers=tok)
                assert resp.status_code == 429
                assert resp.json()["error"]["code"] == "rate_limited"
                assert "太频繁" in resp.json()["error"]["message"]
                assert "12393" in resp.json()["error"]["message"]
                assert resp.headers["retry-after"] == "1"
                assert _count(app.ctx.store) == 2 and len(rasa.calls) == 2
                # another resident is not affected; the widget shares the buckets
                other = {**msg, "sender": "w-other"}
                assert (await http.post("/api/chat", json=other)).status_code == 200
                origin = {"Origin": settings.public_base_url}  # the default allowed origin
                widget = await http.post("/widget/chat", json=msg, headers={**tok, **origin})
                assert widget.status_code == 429
                assert widget.headers["access-control-allow-origin"] == settings.public_base_url
                await asyncio.sleep(1.05)  # 60/min: one token per second
                assert (await http.post("/api/chat", json=msg, headers=tok)).status_code == 200

    asyncio.run(main())


def test_ip_limit_and_trusted_proxy(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url,
                                        api_rate_chat_ip="1:3", trusted_proxies="")
            async with serve(gateway_app(settings)) as base, client(base) as http:
                codes = []
                for i in range(4):  # senders rotate, the address does not
                    resp = await http.post("/api/chat", json={"sender": f"w-{i}", "message": "你好"},
                                           headers={"X-Forwarded-For": f"203.0.113.{i}"})
                    codes.append(resp.status_code)
                assert codes == [200, 200, 200, 429]  # untrusted X-Forwarded-For is ignored
                assert int(resp.headers["retry-after"]) >= 59

            settings = gateway_settings(tmp_path / "proxied", rasa_url=rasa_url,
                                        api_rate_chat_ip="1:3", trusted_proxies="127.0.0.1")
            (tmp_path / "proxied").mkdir()
            async with serve(gateway_app(settings)) as base, client(base) as http:
                async def post(ip: str, i: int) -> int:
                    resp = await http.post("/api/chat", json={"sender": f"p-{i}", "message": "你好"},
                                           headers={"X-Forwarded-For": f"6.6.6.6, {ip}"})
                    return resp.status_code

                assert [await post("203.0.113.9", i) for i in range(4)] == [200, 200, 200, 429]
                assert await post("203.0.113.10", 9) == 200  # another client behind the proxy

    asyncio.run(main())


def test_updates_polling_is_limited(tmp_path: Path) -> None:
    async def main() -> None:
        settings = gateway_settings(tmp_path, api_rate_poll_sender="60:3")
        async with serve(gateway_app(settings)) as base, client(base) as http:
            first = await http.post("/api/chat", json={"sender": "w-poll", "message": "你好"})
            tok = {"X-Conversation-Token": first.json()["conversation_token"]}
            params = {"sender": "w-poll", "channel": "web", "after": "0"}
            codes = [(await http.get("/api/chat/updates", params=params, headers=tok)
                      ).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            assert (await http.get("/widget/updates", params=params, headers=tok)
                    ).status_code == 429

    asyncio.run(main())


def test_api_key_for_server_callers(tmp_path: Path) -> None:
    async def main() -> None:
        rasa = FakeRasa()
        async with serve(rasa.app()) as rasa_url:
            settings = gateway_settings(tmp_path, rasa_url=rasa_url, api_keys="k-one,k-two",
                                        api_rate_chat_ip="1:1")
            async with serve(gateway_app(settings)) as base, client(base) as http:
                msg = {"sender": "srv-1", "message": "你好", "channel": "web"}
                missing = await http.post("/api/chat", json=msg)
                assert missing.status_code == 401
                assert missing.json()["error"]["code"] == "unauthorized"
                assert "API 密钥" in missing.json()["error"]["message"]
                wrong = await http.post("/api/chat", json=msg,
                                        headers={"Authorization": "Bearer k-three"})
                assert wrong.status_code == 401
                assert (await http.get("/api/chat/updates", params={"sender": "srv-1"})
                        ).status_code == 401
                # keyed callers relay many residents: no per-IP limit (burst 1 here)
                for i in range(3):
                    ok = await http.post("/api/chat", json={**msg, "sender": f"srv-{i}"},
                                         headers={"Authorization": "Bearer k-two"})
                    assert ok.status_code == 200
                other = await http.post("/api/chat", json={**msg, "sender": "srv-9"},
                                        headers={"X-API-Key": "k-one"})
                assert other.status_code == 200
                # the widget needs no key (browsers cannot keep one), but is IP-limited
                codes = [(await http.post("/widget/chat", json={**msg, "sender": f"w-{i}"})
                          ).status_code for i in range(2)]
                assert codes == [200, 429]

    asyncio.run(main())
