"""Texts residents read, in one place (Simplified Chinese)."""

from __future__ import annotations


def apology(hotline: str) -> str:
    return (
        f"抱歉，系统暂时繁忙，您的问题已记录，恢复后会尽快回复您。急事请拨打医保服务热线{hotline}。"
    )


def sms_help(hotline: str) -> str:
    return (
        "医保参保缴费助手：可问参保条件、缴费标准、资助政策、缴费期限、待遇期等，"
        f'如"会宁县2022年缴多少钱"。人工服务请拨{hotline}。回复退订停止接收。'
    )


def sms_opted_out(hotline: str) -> str:
    return f"您已退订医保助手短信，将不再收到消息。回复开始可重新订阅，咨询请拨{hotline}。"


def sms_opted_in() -> str:
    return "您已重新订阅医保参保缴费助手，请直接发送您的问题。"


def wechat_welcome(hotline: str) -> str:
    return (
        "欢迎关注医保参保缴费助手！我可以帮您：\n"
        "1. 查询城乡居民医保缴费标准和资助金额\n"
        "2. 了解集中缴费期、待遇享受期\n"
        "3. 新生儿、大中专学生、退役军人等参保规定\n"
        "4. 职工医保与居民医保转换、退费和重复参保\n"
        "5. 缴费渠道\n"
        '请直接发文字提问，如"会宁县低保户今年交多少钱"。'
        f'发送"转人工"或拨打{hotline}联系人工服务。'
    )


def wechat_unsupported() -> str:
    return "抱歉，我目前只能看懂文字消息，请用文字描述您的问题。"


STAFF_HOLD = "已转人工服务，工作人员会尽快回复您。"


def rate_limited(retry_after_s: str, hotline: str) -> str:
    return f"您发送得太频繁了，请{retry_after_s}秒后再试。急事请拨打医保服务热线{hotline}。"


API_KEY_REQUIRED = "该接口需要有效的 API 密钥（请求头 Authorization: Bearer <密钥>）。"

# The conversation token of the JSON API and the widget (channels/api/routes.py).
CONVERSATION_TOKEN_REQUIRED = "需要会话凭证（conversation_token）才能查看该对话。"
CONVERSATION_TOKEN_INVALID = "会话凭证无效，无法查看该对话。"
CONVERSATION_TOKEN_REFUSED = "会话凭证缺失或无效，无法继续该对话。请刷新页面，开始新的对话。"
