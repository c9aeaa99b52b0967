"""Overlap resolution between entity extractors (pure, no Rasa imports)."""

from __future__ import annotations

from typing import Any


def resolve_overlaps(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Longest span first; an entity overlapping a kept one of the same type is dropped."""
    ranked = sorted(entities, key=lambda e: (-(e.get("end", 0) - e.get("start", 0)),
                                             e.get("start", 0)))
    kept: list[dict[str, Any]] = []
    for ent in ranked:
        if any(k["entity"] == ent["entity"] and ent.get("start", 0) < k.get("end", 0)
               and k.get("start", 0) < ent.get("end", 0) for k in kept):
            continue
        kept.append(ent)
    return sorted(kept, key=lambda e: e.get("start", 0))
