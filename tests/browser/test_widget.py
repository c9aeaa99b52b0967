"""The FAQ widget on a host page (strict CSP), answered by the live bot through the gateway."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from actions.rules import Question, answer_question
from tests.browser.conftest import screenshot

FEE_QUESTION = "会宁县2021年度居民医保个人缴费标准是多少"  # 会政办发〔2021〕68号: 2022 benefits


def test_widget_answers_fee_question_with_figure_and_basis(page: Page, gateway_url: str) -> None:
    # The figure the notice gives (会政办发〔2021〕68号 一: 个人参保缴费标准为 320 元/人), and the
    # rule layer agrees with it.
    expected = answer_question(Question(topic="fee", region="会宁县", benefit_year=2022))
    standard = expected.figure("standard")
    assert standard is not None and str(standard.value) == "320"

    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    started = time.monotonic()
    page.goto(f"{gateway_url}/widget/demo?region=会宁县")
    launcher = page.locator("yibao-widget button.launcher")
    expect(launcher).to_have_accessible_name("医保咨询")
    load_s = time.monotonic() - started

    # Host page CSS (`button { font-size: 28px !important }`) does not reach the widget.
    assert launcher.evaluate("b => getComputedStyle(b).fontSize") == "16px"
    expect(launcher).to_have_attribute("aria-expanded", "false")

    launcher.click()
    dialog = page.get_by_role("dialog", name="医保参保缴费助手")
    expect(dialog).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    field = page.get_by_label("输入您的问题")
    expect(field).to_be_focused()
    expect(dialog.get_by_role("group", name="常见问题").get_by_role("button")).to_have_count(6)

    asked = time.monotonic()
    field.fill(FEE_QUESTION)
    field.press("Enter")
    figure = dialog.locator("dl.figs div[data-key='standard'] dd").last
    expect(figure).to_have_text("320元", timeout=60_000)
    answer_s = time.monotonic() - asked
    answer = dialog.locator(".msg.bot").filter(has=page.locator("dl.figs")).last
    expect(answer).to_contain_text("2022")  # the year the answer is for
    basis = answer.locator("details.basis")
    expect(basis.locator("li").first).to_be_hidden()
    basis.locator("summary").click()
    expect(basis.locator("li").first).to_be_visible()
    expect(basis).to_contain_text("会政办发〔2021〕68号")
    expect(basis).to_contain_text("320")
    expect(answer.get_by_role("button", name="缴费渠道")).to_be_visible()
    screenshot(page, "widget-fee-answer")

    # The first reply's conversation token is kept beside the sender id; the id alone reads
    # nothing, the token does, and the widget's own polls carry it (a 401 would be a problem).
    saved = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('yibao-widget:'))"
                          ".map(k => JSON.parse(localStorage.getItem(k)))")
    assert len(saved) == 1
    sender, token = saved[0]["sender"], saved[0]["token"]
    assert sender.startswith("w-") and isinstance(token, str) and len(token) >= 43
    updates = f"{gateway_url}/widget/updates"
    assert httpx.get(updates, params={"sender": sender}).status_code == 401
    assert httpx.get(updates, params={"sender": sender},
                     headers={"X-Conversation-Token": token}).status_code == 200

    # The conversation survives a reload (and the reopened panel polls at once, with the token).
    with page.expect_response(lambda r: "/widget/updates" in r.url) as polled:
        page.reload()
    assert polled.value.status == 200
    assert polled.value.request.headers.get("x-conversation-token") == token
    expect(launcher).to_have_accessible_name("收起咨询")  # it was open: it stays open
    expect(page.locator("yibao-widget dl.figs div[data-key='standard'] dd").last).to_have_text("320元")
    expect(page.locator("yibao-widget .msg.user").last).to_have_text(FEE_QUESTION)

    # Keyboard: Escape closes the panel and gives focus back to the launcher.
    page.get_by_label("输入您的问题").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(launcher).to_have_accessible_name("医保咨询")
    expect(launcher).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()

    # Mobile width: the panel takes the whole screen.
    page.set_viewport_size({"width": 375, "height": 740})
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and box["width"] == 375
    screenshot(page, "widget-mobile")

    # No CSP violation or script error under the demo page's strict policy.
    assert not problems, problems
    print(f"\nwidget: demo page + widget visible in {load_s * 1000:.0f} ms; "
          f"fee answer in {answer_s * 1000:.0f} ms")

    # A token that no longer fits (storage tampered with): the gateway refuses to continue
    # the conversation, and the widget starts a new one instead of failing for good.
    page.evaluate("t => { for (const k of Object.keys(localStorage)) { if (k.startsWith("
                  "'yibao-widget:')) { const s = JSON.parse(localStorage.getItem(k)); "
                  "s.token = t; localStorage.setItem(k, JSON.stringify(s)); } } }", "x" * 43)
    page.reload()
    field = page.get_by_label("输入您的问题")
    field.fill("你好")
    field.press("Enter")
    expect(page.locator("yibao-widget .msg.system").last).to_contain_text("开始新的对话")
    bots = page.locator("yibao-widget .msg.bot")
    before = bots.count()
    field.fill("你好")
    field.press("Enter")
    expect(bots.nth(before)).to_be_visible(timeout=60_000)  # answered in the new conversation
    fresh = page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith("
                          "'yibao-widget:')).map(k => JSON.parse(localStorage.getItem(k)))")[0]
    assert fresh["sender"] != sender and fresh["token"] not in (None, token, "x" * 43)


def test_widget_embedded_cross_origin_under_strict_csp(page: Page, gateway_url: str) -> None:
    """A bureau site on another origin whose CSP allows only the gateway for script/connect.
    The gateway allows it by name (`WIDGET_ALLOWED_ORIGINS`, set by the `gateway_url`
    fixture); by default only the gateway's own origin may embed the widget."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.browser.conftest import WIDGET_HOST_PORT  # in WIDGET_ALLOWED_ORIGINS

    csp = (f"default-src 'none'; script-src {gateway_url}; connect-src {gateway_url}; "
           "style-src 'none'; img-src 'none'; base-uri 'none'")
    body = (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>白银市医保局</title>'
            f'</head><body><h1>白银市医疗保障局</h1><script src="{gateway_url}/widget/widget.js" '
            f'data-region="白银市" data-position="left" data-color="#2e7d32" data-open="true">'
            f"</script></body></html>").encode()

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path != "/":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", csp)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", WIDGET_HOST_PORT), Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host_url = f"http://localhost:{WIDGET_HOST_PORT}/"  # another origin than 127.0.0.1
    # Any other site is refused (no CORS grant, 403) even though the gateway is reachable.
    evil = httpx.post(f"{gateway_url}/widget/chat", headers={"Origin": "http://localhost:1"},
                      json={"sender": "w-evil", "message": "你好"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(host_url)
        dialog = page.get_by_role("dialog", name="医保参保缴费助手")
        expect(dialog).to_be_visible()  # data-open="true"
        expect(dialog).to_contain_text("白银市")
        box = dialog.bounding_box()
        assert box is not None and box["x"] < 100  # data-position="left"
        field = page.get_by_label("输入您的问题")
        field.fill("白银市2023年居民医保个人缴费标准是多少")
        field.press("Enter")
        expect(dialog.locator(".msg.bot").last).to_contain_text("白银", timeout=60_000)
        # 市医保发〔2022〕47号: 2022年度 (2023 benefits) personal standard 350 元.
        expect(dialog.locator("dl.figs div[data-key='standard'] dd").last).to_have_text("350元")
        screenshot(page, "widget-cross-origin")
    finally:
        server.shutdown()
    assert not problems, problems
