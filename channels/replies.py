"""One reply shape for every channel: `{"text", "buttons": [...], "links": [...]}`.

Rasa's REST channel returns `{"recipient_id", "text"?, "buttons"?, "image"?, "custom"?}`.
Buttons are `{"title", "payload"}`; a button whose payload (or `url`) is a web address is a
link. `custom` may carry `text`, `buttons` and `links` (`{"title", "url"}`); the whole `custom`
object (the bot's structured answer: figures, steps, citations) is passed on as `data`,
attached to the reply it follows (Rasa sends text+buttons and custom as separate items).
SMS and WeChat flatten a reply to text with `as_text`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Button(TypedDict):
    title: str
    payload: str


class Link(TypedDict):
    title: str
    url: str


class Reply(TypedDict):
    text: str
    buttons: list[Button]
    links: list[Link]
    data: NotRequired[dict[str, Any]]  # the bot's structured answer (web `custom`), as is


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _collect(item: dict[str, Any], buttons: list[Button], links: list[Link]) -> None:
    for b in item.get("buttons") or []:
        if not isinstance(b, dict):
            continue
        title = str(b.get("title") or "").strip()
        payload = str(b.get("payload") or b.get("url") or "").strip()
        if not title:
            continue
        if b.get("url") or _is_url(payload):
            links.append({"title": title, "url": str(b.get("url") or payload)})
        else:
            buttons.append({"title": title, "payload": payload or title})
    for link in item.get("links") or []:
        if isinstance(link, dict) and link.get("url"):
            url = str(link["url"])
            links.append({"title": str(link.get("title") or url), "url": url})


def from_rasa(items: list[Any]) -> list[Reply]:
    replies: list[Reply] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        buttons: list[Button] = []
        links: list[Link] = []
        text = str(item.get("text") or "")
        _collect(item, buttons, links)
        custom = item.get("custom")
        data: dict[str, Any] | None = None
        if isinstance(custom, dict):
            data = custom
            if not text and isinstance(custom.get("text"), str):
                text = custom["text"]
            _collect(custom, buttons, links)
        if isinstance(item.get("image"), str) and _is_url(item["image"]):
            links.append({"title": "图片", "url": item["image"]})
        if not (text or buttons or links):
            if data is None:
                continue
            if replies and "data" not in replies[-1]:
                replies[-1]["data"] = data
                continue
        reply: Reply = {"text": text, "buttons": buttons, "links": links}
        if data is not None:
            reply["data"] = data
        replies.append(reply)
    return replies


def text_reply(text: str) -> Reply:
    return {"text": text, "buttons": [], "links": []}


def as_text(replies: list[Reply], *, with_links: bool = True) -> str:
    """Flatten replies for text-only media (SMS, WeChat)."""
    parts: list[str] = []
    for r in replies:
        lines = [r["text"]] if r["text"] else []
        if with_links:
            lines += [f"{link['title']}：{link['url']}" for link in r["links"]]
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)
