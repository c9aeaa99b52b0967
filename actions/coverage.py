"""What the knowledge base covers, in words, for clarifying and out-of-scope answers."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _kb():  # noqa: ANN202 - knowledge is imported lazily so the actions start without it
    from knowledge.loader import default_knowledge

    return default_knowledge()


def coverage_lines() -> list[str]:
    try:
        return _kb().coverage()
    except Exception:
        log.exception("coverage lookup failed")
        return []


def covered_regions() -> list[str]:
    try:
        return sorted({n.region for n in _kb().notices.values()})
    except Exception:
        log.exception("coverage lookup failed")
        return []
