"""One reply shape for every channel: `{"text", "buttons": [...], "links": [...]}`.

Rasa's REST channel returns `{"recipient_id", "text"?, "buttons"?, "image"?, "custom"?}`.
Buttons are `{"title", "payload"}`; a button whose payload (or `url`) is a web address is a
link. `custom` may carry `text`, `buttons` and `links` (`{"title", "url"}`) from the bot's
web renderer. SMS and WeChat flatten a reply to text with `as_text`.
"""

from __future__ import annotations

from typing import Any, TypedDict


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
        if isinstance(custom, dict):
            if not text and isinstance(custom.get("text"), str):
                text = custom["text"]
            _collect(custom, buttons, links)
        if isinstance(item.get("image"), str) and _is_url(item["image"]):
            links.append({"title": "图片", "url": item["image"]})
        if text or buttons or links:
            replies.append({"text": text, "buttons": buttons, "links": links})
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
