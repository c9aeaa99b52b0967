"""Calculator (rule layer called directly), knowledge browser and dashboard."""

from __future__ import annotations

import asyncio

from sanic import Request
from sanic.response import HTTPResponse

from channels.console import calculator, charts, knowledge_view, queries
from channels.console.web import bp, render


@bp.get("/calculator")
async def calculator_page(request: Request) -> HTTPResponse:
    categories = await asyncio.to_thread(knowledge_view.category_names)
    regions, years = await asyncio.to_thread(knowledge_view.regions_and_years)
    calc = None
    if request.args.get("topic"):
        calc = await asyncio.to_thread(calculator.calculate, request.args, categories)
    status = 400 if calc is not None and calc.errors else 200
    return render(request, "calculator.html", status=status, calc=calc, forms=calculator.FORMS,
                  labels=calculator.FIELD_LABELS, categories=categories, regions=regions,
                  years=years)


@bp.get("/knowledge")
async def knowledge_page(request: Request) -> HTTPResponse:
    regions, years = await asyncio.to_thread(knowledge_view.regions_and_years)
    region = (request.args.get("region") or "").strip()
    raw_year = (request.args.get("year") or "").strip()
    errors: list[str] = []
    year = None
    if region and region not in regions:
        errors.append("未收录该地区的通知")
        region = ""
    if raw_year:
        if raw_year.isdigit():
            year = int(raw_year)
        else:
            errors.append("年度应为数字，例如 2022")
    notices = await asyncio.to_thread(knowledge_view.notice_views, region, year)
    return render(request, "knowledge.html", notices=notices, regions=regions, years=years,
                  region=region, year=year, errors=errors)


@bp.get("/dashboard")
async def dashboard(request: Request) -> HTTPResponse:
    s = await asyncio.to_thread(queries.stats, request.app.ctx.store)
    labels = [d.strftime("%m-%d") for d in s.days]
    return render(
        request, "dashboard.html", s=s,
        conv_chart=charts.bar_chart(labels, s.conversations_per_day, "每日会话数"),
        msg_chart=charts.bar_chart(labels, s.messages_per_day, "每日消息数"),
        handoff_chart=charts.bar_chart(labels, s.handoffs_per_day, "每日转人工请求"),
        topic_chart=charts.hbar_chart(s.top_topics, "热门问题类型"),
        channel_chart=charts.hbar_chart(s.by_channel, "各渠道居民消息数"),
    )
