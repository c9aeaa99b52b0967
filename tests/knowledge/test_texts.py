"""The rule layer passes texts as catalog keys with values; every sentence is in the catalog.

Checked on the source: no string literal of the rule layer (docstrings aside) holds a Chinese
sentence; the few Chinese words left are values of the public JSON (date_status 未开始 …,
refundable 是/否) and units. Every catalog key the rule layer and the conversation use exists,
and every catalog entry is used.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from actions.render.catalog import catalog

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "actions" / "rules"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Values and units of the public figures, not sentences.
VALUES = {"元", "天", "人", "个百分点", "是", "否", "未开始", "缴费期内", "零星缴费期内", "已截止"}


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and CJK.search(node.value)]


def test_the_rule_layer_holds_no_chinese_sentence() -> None:
    found = [f"{p.name}:{line}: {value}" for p in sorted(RULES.glob("*.py"))
             if p.name != "__main__.py"  # the command line's own help and headings
             for line, value in _literals(p) if value not in VALUES]
    assert not found, "Chinese text in the rule layer (put it in actions/render/catalog.yaml):\n" \
        + "\n".join(found)


def _keys_used() -> tuple[set[str], set[str]]:
    """Catalog keys passed to say()/text() (both branches of a conditional), and the prefixes
    of keys built from data (f"start.{o.start}", f"figure.{key}" …)."""
    used: set[str] = set()
    prefixes: set[str] = {"figure."}
    calls = {"actions": {"say", "_say", "text"}, "channels": {"say"}}  # channels' text() is its own
    for package, names in calls.items():
        for path in (ROOT / package).rglob("*.py"):
            _scan(path, names, used, prefixes)
    return used, prefixes


def _scan(path: Path, names: set[str], used: set[str], prefixes: set[str]) -> None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and getattr(node.func, "id", "") in names:
            _collect(node.args[0], used, prefixes)


def _collect(expr: ast.expr, used: set[str], prefixes: set[str]) -> None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        used.add(expr.value)
    elif isinstance(expr, ast.IfExp):
        _collect(expr.body, used, prefixes)
        _collect(expr.orelse, used, prefixes)
    elif isinstance(expr, ast.JoinedStr) and isinstance(expr.values[0], ast.Constant):
        prefixes.add(expr.values[0].value)


def test_every_catalog_key_used_exists_and_every_entry_is_used() -> None:
    used, prefixes = _keys_used()
    keys = set(catalog())
    assert used <= keys, f"keys used but not in the catalog: {sorted(used - keys)}"
    unused = [k for k in keys - used - {"hotline"} if not any(k.startswith(p) for p in prefixes)]
    assert not unused, f"catalog entries nobody uses: {sorted(unused)}"


def test_every_topic_has_a_name_and_every_question_topic_an_intent() -> None:
    from typing import get_args

    import yaml

    from actions.rules.contract import QUESTION_TOPICS, Topic

    names = {k.removeprefix("topic.") for k in catalog() if k.startswith("topic.")}
    assert set(get_args(Topic)) <= names
    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    asked = {i.removeprefix("ask_") for i in domain["intents"] if i.startswith("ask_") and i != "ask_citation"}
    assert asked == set(QUESTION_TOPICS)
