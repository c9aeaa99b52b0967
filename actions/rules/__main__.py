"""Command line for staff and IT: answer one question and show the reasoning and citations.

    python -m actions.rules fee --region 会宁 --year 2022 --category dibao_full
    python -m actions.rules newborn --region 贵阳 --birth 2021-03-01 --paid 2021-05-30 --json
    python -m actions.rules deadline --region 安康 --year 2022 --today 2021-12-31
    python -m actions.rules regions | categories | coverage
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import get_args

from actions.rules import answer_question
from actions.rules.contract import Answer, Question, Topic
from knowledge import KnowledgeError, default_knowledge

LISTINGS = ("regions", "categories", "coverage")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，收到 {text!r}") from exc


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m actions.rules",
                                description="医保参保缴费规则计算（带依据）")
    p.add_argument("topic", choices=[*get_args(Topic), *LISTINGS])
    p.add_argument("--region", help="地区，如 会宁 / 白银市 / 汉滨区 / 贵州")
    p.add_argument("--year", type=int, help="待遇享受年度，如 2022")
    p.add_argument("--category", action="append", default=[],
                   help="资助身份 id 或名称，可重复（见 categories）")
    p.add_argument("--today", type=_date, help="视为今天的日期")
    p.add_argument("--birth", type=_date, help="出生日期")
    p.add_argument("--paid", type=_date, help="缴费日期")
    p.add_argument("--stopped", type=_date, help="原医保停保（中断）日期")
    p.add_argument("--changed", type=_date, help="身份变更/认定日期")
    p.add_argument("--years", type=int, help="连续参保年数")
    p.add_argument("--reason", help="退费原因：duplicate/death/employee/other_region/...")
    p.add_argument("--compare-to", type=int, help="比较的另一年度")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    return p


def render_text(a: Answer) -> str:
    lines = [f"[{a.status}] {a.summary}"]
    lines += [f"  {f.label}: {f.value}{f.unit or ''}" for f in a.figures]
    lines += ["步骤:"] + [f"  - {s}" for s in a.steps] if a.steps else []
    lines += ["提示:"] + [f"  - {c}" for c in a.caveats] if a.caveats else []
    lines += ["还需要:"] + [f"  - {m}" for m in a.missing] if a.missing else []
    lines += ["依据:"] + [f"  - {c.short()}：“{c.quote}”" for c in a.citations] if a.citations \
        else []
    lines += ["已收录:"] + [f"  - {c}" for c in a.covered] if a.covered else []
    return "\n".join(lines)


def _listing(name: str) -> list[str]:
    kb = default_knowledge()
    if name == "regions":
        return [" → ".join(r.name for r in kb.gazetteer.chain(n)) for n in kb.gazetteer.names()]
    if name == "categories":
        return [f"{c.id}: {c.name}（{'、'.join(c.aliases)}）" for c in kb.categories.values()]
    return kb.coverage()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.topic in LISTINGS:
            print("\n".join(_listing(args.topic)))
            return 0
        if not args.region:
            print("请用 --region 指定地区", file=sys.stderr)
            return 2
        kb = default_knowledge()
        categories = []
        for text in args.category:
            cat = kb.category_by_alias(text)
            if cat is None:
                print(f"未知身份：{text}（python -m actions.rules categories 查看）",
                      file=sys.stderr)
                return 2
            categories.append(cat.id)
        q = Question(topic=args.topic, region=args.region, benefit_year=args.year,
                     categories=categories, today=args.today, birth_date=args.birth,
                     payment_date=args.paid, stop_date=args.stopped, change_date=args.changed,
                     continuous_years=args.years, reason=args.reason,
                     compare_to_year=args.compare_to)
        answer = answer_question(q, kb)
    except KnowledgeError as exc:
        print(f"知识库数据有误：{exc}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        print(render_text(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
