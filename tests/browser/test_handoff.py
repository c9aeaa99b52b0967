"""End to end across both UIs: a resident asks for a person in the widget (the live bot records
the 转人工 request), staff take it from the console's queue and answer, the answer appears in
the widget, and staff hand the conversation back to the bot."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import ADMIN_PASSWORD, ADMIN_USER, screenshot


def test_widget_handoff_reaches_console_queue_and_staff_reply_reaches_widget(
        browser: Browser, gateway_url: str) -> None:
    resident = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    staff = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    try:
        widget = resident.new_page()
        widget.set_default_timeout(30_000)
        widget.goto(f"{gateway_url}/widget/demo?region=会宁县")
        widget.locator("yibao-widget button.launcher").click()
        dialog = widget.get_by_role("dialog", name="医保参保缴费助手")
        quick = dialog.get_by_role("group", name="常见问题")

        # A quick reply gets a bot answer (a figure, or a clarifying question about the year).
        bot_messages = dialog.locator(".msg.bot")
        before = bot_messages.count()
        quick.get_by_role("button", name="缴费标准").click()
        expect(bot_messages).to_have_count(before + 1, timeout=60_000)

        quick.get_by_role("button", name="转人工").click()
        expect(dialog.locator(".msg.user").last).to_have_text("转人工")
        expect(bot_messages).to_have_count(before + 2, timeout=60_000)

        console = staff.new_page()
        console.set_default_timeout(30_000)
        console.goto(f"{gateway_url}/console/handoffs")
        console.get_by_label("用户名").fill(ADMIN_USER)
        console.get_by_label("密码").fill(ADMIN_PASSWORD)
        console.get_by_role("button", name="登录").click()
        expect(console.get_by_role("heading", name="转人工队列")).to_be_visible()
        row = console.locator("table.list tbody tr", has_text="待接管").filter(has_text="网站挂件")
        expect(row.first).to_contain_text("转人工")
        screenshot(console, "console-handoff-queue")
        row.first.get_by_role("button", name="接管").click()
        expect(console.locator("#conv-status")).to_contain_text("人工接管中")
        expect(console.locator("#transcript")).to_contain_text("转人工")
        console.get_by_label("以工作人员身份回复").fill("您好，这里是会宁县医保局，请讲。")
        console.get_by_role("button", name="发送").click()
        expect(console.get_by_role("status")).to_contain_text("消息已发送")

        # The widget polls for staff messages: the reply appears without a reload.
        staff_msg = dialog.locator(".msg.staff")
        expect(staff_msg).to_contain_text("您好，这里是会宁县医保局，请讲。", timeout=20_000)
        expect(staff_msg).to_contain_text("工作人员")
        screenshot(widget, "widget-staff-reply")

        # The resident writes while taken over: the console shows it live, the bot stays quiet.
        field = dialog.get_by_label("输入您的问题")
        field.fill("我家孩子刚出生，怎么办理？")
        field.press("Enter")
        expect(console.locator("#transcript")).to_contain_text("我家孩子刚出生", timeout=15_000)

        console.get_by_role("button", name="交还机器人").click()
        expect(console.get_by_role("status")).to_contain_text("已交还机器人")
        console.goto(f"{gateway_url}/console/handoffs")
        expect(console.locator("table.list tbody")).not_to_contain_text("处理中")
    finally:
        resident.close()
        staff.close()
