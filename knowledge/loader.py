"""Load and validate all knowledge at start-up; look values up along the region chain.

A bad file fails loudly with :class:`KnowledgeError`: the file, the path inside it and the
reason. Lookups never cross benefit years or provinces: a value missing in a county's notice
comes from its city's, then its province's notice for the same benefit year, else it is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge.regions import Divisions, Gazetteer, RegionEntry
from knowledge.schema import Notice

DATA_DIR = Path(__file__).parent / "data"
T = TypeVar("T")
# libyaml's parser is several times faster than the pure-Python one (start-up budget 300 ms).
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KnowledgeError(ValueError):
    def __init__(self, file: Path | str, path: str, reason: str) -> None:
        self.file, self.path, self.reason = str(file), path, reason
        super().__init__(f"{file}: {path or '(top)'}: {reason}")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    parent: str | None = None  # a tier of a broader identity (一、二类低保 → 低保)
    aliases: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Found(Generic[T]):
    value: T
    notice: Notice


@dataclass
class KnowledgeBase:
    gazetteer: Gazetteer
    categories: dict[str, Category]
    notices: dict[str, Notice]

    def notices_for(self, region: str, benefit_year: int) -> list[Notice]:
        """Notices governing ``region`` for ``benefit_year``, nearest region first."""
        out = []
        for place in self.gazetteer.chain(region):
            here = [n for n in self.notices.values()
                    if n.region == place.name and benefit_year in n.benefit_years]
            out.extend(sorted(here, key=lambda n: n.amends is None))  # a supplement before its base
        return out

    def notices_labelled(self, region: str, year: int) -> list[Notice]:
        """Notices governing ``region`` whose own label is "{year}年度", nearest region first."""
        return [n for place in self.gazetteer.chain(region) for n in self.notices.values()
                if n.region == place.name and n.year_label.startswith(str(year))]

    def covered_years(self, region: str) -> list[int]:
        years = {y for place in self.gazetteer.chain(region) for n in self.notices.values()
                 if n.region == place.name for y in n.benefit_years}
        return sorted(years)

    def lookup(self, region: str, benefit_year: int,
               get: Callable[[Notice], T | None]) -> Found[T] | None:
        """The first non-empty value along the chain for the same benefit year."""
        for notice in self.notices_for(region, benefit_year):
            value = get(notice)
            if value not in (None, [], ""):
                return Found(value, notice)
        return None

    def coverage(self) -> list[str]:
        """What is covered, in words: one line per notice, for "not covered" answers."""
        return [f"{n.region} {'、'.join(f'{y}年' for y in n.benefit_years)}待遇年度"
                f"（{n.doc_no}，{n.year_label}）"
                for n in sorted(self.notices.values(), key=lambda n: (n.region, n.benefit_years))]

    def category_by_alias(self, text: str) -> Category | None:
        for cat in self.categories.values():
            if text == cat.id or text == cat.name or text in cat.aliases:
                return cat
        return None


def _read_yaml(file: Path) -> object:
    try:
        return yaml.load(file.read_text(encoding="utf-8"), Loader=YamlLoader)
    except yaml.YAMLError as exc:
        raise KnowledgeError(file, "", f"not valid YAML: {exc}") from exc


def _validation_error(file: Path, exc: ValidationError) -> KnowledgeError:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return KnowledgeError(file, path, first["msg"] + more)


def load_notice(file: Path) -> Notice:
    try:
        return Notice.model_validate(_read_yaml(file))
    except ValidationError as exc:
        raise _validation_error(file, exc) from exc


def _check_references(file: Path, notice: Notice, kb: KnowledgeBase) -> None:
    gaz = kb.gazetteer

    def need_region(name: str, path: str) -> None:
        if gaz.resolve(name) is None:
            raise KnowledgeError(file, path, f"unknown region {name!r}")

    need_region(notice.region, "region")
    if gaz.resolve(notice.region).name != notice.region:
        raise KnowledgeError(file, "region", f"use the canonical name, not {notice.region!r}")
    for i, sub in enumerate(notice.subsidies):
        if sub.category not in kb.categories:
            raise KnowledgeError(file, f"subsidies.{i}.category",
                                 f"unknown category {sub.category!r} (see categories.yaml)")
    if notice.fiscal_subsidy:
        for i, tier in enumerate(notice.fiscal_subsidy.tiers):
            for name in tier.regions:
                need_region(name, f"fiscal_subsidy.tiers.{i}.regions")
    if notice.plan:
        for i, row in enumerate(notice.plan.rows):
            need_region(row.region, f"plan.rows.{i}.region")
    for i, group in enumerate(notice.contacts):
        for name in group.townships:
            need_region(name, f"contacts.{i}.townships")
    period = notice.benefit_period
    if period and period.start.year not in notice.benefit_years:
        raise KnowledgeError(file, "benefit_period",
                             f"starts in {period.start.year}, not a benefit year of the notice")
    for other in kb.notices.values():
        if other.id == notice.id:
            raise KnowledgeError(file, "id", f"notice id {notice.id!r} used twice")
        if other.region == notice.region and set(other.benefit_years) & set(notice.benefit_years) \
                and notice.id != other.amends and other.id != notice.amends:
            raise KnowledgeError(file, "benefit_years",
                                 f"{other.id} already governs {notice.region} for that year"
                                 " (a supplementary notice says `amends: <id>`)")
        overlap = [(w, v) for w in notice.windows for v in other.windows
                   if other.region == notice.region and w.start <= v.end and v.start <= w.end]
        if overlap and notice.id != other.amends and other.id != notice.amends:
            raise KnowledgeError(file, "windows", f"window {overlap[0][0].id} overlaps {other.id}'s "
                                 f"{overlap[0][1].id} for {notice.region}")


def load_gazetteer(data_dir: Path = DATA_DIR) -> Gazetteer:
    """The generated divisions (divisions.yaml) with the hand-maintained regions.yaml merged in."""
    divisions_file = data_dir / "divisions.yaml"
    try:
        divisions = Divisions.model_validate(_read_yaml(divisions_file))
    except ValidationError as exc:
        raise _validation_error(divisions_file, exc) from exc
    regions_file = data_dir / "regions.yaml"
    try:
        entries = [RegionEntry.model_validate(e) for e in _read_yaml(regions_file) or []]
        hand = {e.name for e in entries}  # 陕西省 is hand-maintained (安康市 only)
        outside = [p for p in divisions.outside if p.name not in hand]
        return Gazetteer.build([*divisions.provinces, *outside], entries)
    except ValidationError as exc:
        raise _validation_error(regions_file, exc) from exc
    except ValueError as exc:
        raise KnowledgeError(regions_file, "", str(exc)) from exc


def load_knowledge(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read the gazetteer, the categories and every notice file; validate all of them."""
    gazetteer = load_gazetteer(data_dir)

    cats_file = data_dir / "categories.yaml"
    try:
        cats = [Category.model_validate(c) for c in _read_yaml(cats_file) or []]
    except ValidationError as exc:
        raise _validation_error(cats_file, exc) from exc
    kb = KnowledgeBase(gazetteer, {c.id: c for c in cats}, {})
    files = {file: load_notice(file) for file in sorted((data_dir / "notices").glob("*.yaml"))}
    # Amended notices first, so that each check sees the notice a supplement refers to.
    for file, notice in sorted(files.items(), key=lambda item: item[1].amends is not None):
        _check_references(file, notice, kb)
        if notice.amends and notice.amends not in kb.notices:
            raise KnowledgeError(file, "amends", f"no notice {notice.amends!r} to amend")
        kb.notices[notice.id] = notice
    return kb


@lru_cache(maxsize=1)
def default_knowledge() -> KnowledgeBase:
    """The shipped knowledge, loaded once per process."""
    return load_knowledge()
