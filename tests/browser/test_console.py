"""The staff console in a real browser: sign-in, live list, take over, staff message, hand
back, audit log; the calculator's newborn dates; sign-in on plain-http localhost with the
default Secure cookies."""

from __future__ import annotations

import time
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USER, screenshot


def _sign_in(page: Page, base: str, password: str = ADMIN_PASSWORD) -> None:
    page.get_by_label("用户名").fill(ADMIN_USER)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_console_take_over_staff_message_hand_back(page: Page, gateway_url: str) -> None:
    sender = f"w-{uuid.uuid4().hex[:16]}"
    api = httpx.Client(base_url=gateway_url, timeout=60)
    first = api.post("/api/chat", json={"sender": sender, "message": "你好", "channel": "web"})
    assert first.status_code == 200, first.text

    problems: list[str] = []  # CSP violations and script errors show up as console errors
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{gateway_url}/console/")
    expect(page).to_have_url(f"{gateway_url}/console/login?next=/console/")
    _sign_in(page, gateway_url, "wrong-password-123")
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")
    started = time.monotonic()
    _sign_in(page, gateway_url)
    expect(page.get_by_role("heading", name="会话", exact=True)).to_be_visible()
    list_s = time.monotonic() - started
    rows = page.locator("#conversation-rows tr.conv-row")
    expect(rows.first).to_be_visible()
    before = rows.count()

    # A new resident writes while the list is open: it appears without a reload.
    sender2 = f"w-{uuid.uuid4().hex[:16]}"
    resp = api.post("/api/chat", json={"sender": sender2, "message": "会宁县什么时候缴费",
                                       "channel": "web"})
    assert resp.status_code == 200
    token = {"X-Conversation-Token": resp.json()["conversation_token"]}
    expect(rows).to_have_count(before + 1, timeout=15_000)
    expect(page.locator("#conversation-rows")).to_contain_text("会宁县什么时候缴费")
    screenshot(page, "console-conversations")

    page.locator("#conversation-rows tr.conv-row", has_text="会宁县什么时候缴费").get_by_role(
        "link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("网站挂件")
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text("会宁县什么时候缴费")
    expect(transcript.locator(".entry.bot").first).to_be_visible()  # the bot's answer

    page.get_by_role("button", name="接管会话").click()
    expect(page.get_by_role("status")).to_contain_text("已接管")
    expect(page.locator("#conv-status")).to_contain_text("人工接管中")
    # While taken over, the resident's message does not go to the bot.
    held = api.post("/api/chat", json={"sender": sender2, "message": "我想找人工问问",
                                       "channel": "web"}, headers=token).json()
    assert held["status"] == "staff"
    expect(transcript).to_contain_text("我想找人工问问", timeout=10_000)

    page.get_by_label("以工作人员身份回复").fill("您好，我是会宁县医保局工作人员，请问您在哪个乡镇？")
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_role("status")).to_contain_text("消息已发送")
    expect(transcript.locator(".entry.staff")).to_contain_text("会宁县医保局工作人员")
    screenshot(page, "console-transcript-taken-over")
    # The staff message reaches the resident on the original channel (the widget's updates).
    updates = api.get("/api/chat/updates", params={"sender": sender2, "channel": "web"},
                      headers=token).json()
    assert any(m["author"] == "staff" and "会宁县医保局工作人员" in m["text"]
               for m in updates["messages"])

    page.get_by_role("button", name="交还机器人").click()
    expect(page.get_by_role("status")).to_contain_text("已交还机器人")
    expect(page.get_by_role("button", name="接管会话")).to_be_visible()
    back = api.post("/api/chat", json={"sender": sender2, "message": "会宁县低保户交多少钱",
                                       "channel": "web"}, headers=token).json()
    assert back["status"] in ("answered", "pending")

    page.get_by_role("link", name="审计日志").click()
    log = page.locator("table.list tbody")
    for action in ("登录", "登录失败", "接管会话", "发送人工消息", "交还机器人"):
        expect(log).to_contain_text(action)
    page.get_by_role("link", name="统计").click()
    expect(page.locator("svg.chart").first).to_be_visible()
    screenshot(page, "console-dashboard")
    page.get_by_role("link", name="政策库").click()
    expect(page.locator("article.notice").first).to_be_visible()
    # The wrong password's 401 page load is expected; nothing else may fail.
    assert [p for p in problems if "status of 401" not in p] == [], problems
    print(f"\nconsole: sign-in to conversation list in {list_s * 1000:.0f} ms")


def test_calculator_gives_newborn_benefit_start(page: Page, gateway_url: str) -> None:
    page.goto(f"{gateway_url}/console/calculator")
    _sign_in(page, gateway_url)
    form = page.locator("#form-newborn")
    # 贵州: paid on day 91 after birth → 60-day wait (不含60日): benefits from 2021-06-02.
    form.get_by_label("地区").fill("贵阳市")
    form.get_by_label("出生日期").fill("2021-01-01")
    form.get_by_label("缴费日期").fill("2021-04-02")
    form.get_by_role("button", name="计算").click()
    result = page.locator("#result")
    expect(result.locator("dl.figures")).to_contain_text("待遇开始2021年6月2日")
    expect(result).to_contain_text("60日后（不含60日）")
    expect(result).to_contain_text("计算步骤")
    screenshot(page, "console-calculator-newborn")
    # Day 90 (inclusive): covered from birth.
    form = page.locator("#form-newborn")
    form.get_by_label("缴费日期").fill("2021-04-01")
    form.get_by_role("button", name="计算").click()
    expect(page.locator("#result dl.figures")).to_contain_text("待遇开始2021年1月1日")
    # Bad input gets a clear message, not a 500.
    page.goto(f"{gateway_url}/console/calculator?topic=newborn&region=贵阳市&birth_date=2021-02-30")
    expect(page.get_by_role("alert")).to_contain_text("出生日期格式应为 YYYY-MM-DD")


def test_secure_session_cookie_works_on_plain_http_localhost(page: Page, gateway_url: str) -> None:
    """Console cookies are Secure by default (no CONSOLE_COOKIE_SECURE in this gateway's
    environment); browsers keep them on http://localhost, so `make run` still signs in."""
    local = gateway_url.replace("127.0.0.1", "localhost")
    page.goto(f"{local}/console/dashboard")
    expect(page).to_have_url(f"{local}/console/login?next=/console/dashboard")
    _sign_in(page, local)
    expect(page.locator("svg.chart").first).to_be_visible()
    session = [c for c in page.context.cookies() if c["name"] == "console_session"]
    assert len(session) == 1 and session[0]["secure"] and session[0]["httpOnly"], session
    page.get_by_role("link", name="政策库").click()  # the next page is still signed in
    expect(page.locator("article.notice").first).to_be_visible()
