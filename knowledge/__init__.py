"""Cited, year-versioned policy data: gazetteer, notice files, schema, loader, dates."""

from knowledge.loader import KnowledgeBase, KnowledgeError, default_knowledge, load_knowledge

__all__ = ["KnowledgeBase", "KnowledgeError", "default_knowledge", "load_knowledge"]
