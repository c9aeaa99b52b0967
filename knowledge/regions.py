"""The region gazetteer: canonical names, aliases and the county → city → province chain."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field


class RegionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str] = Field(default_factory=list)
    children: list[RegionEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Region:
    name: str
    parent: str | None
    level: int  # 0 province, 1 city, 2 county, 3 township
    aliases: tuple[str, ...] = ()


@dataclass
class Gazetteer:
    regions: dict[str, Region] = field(default_factory=dict)
    _lookup: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entries(cls, entries: list[RegionEntry]) -> Gazetteer:
        gaz = cls()
        for entry in entries:
            gaz._add(entry, None, 0)
        return gaz

    def _add(self, entry: RegionEntry, parent: str | None, level: int) -> None:
        if entry.name in self.regions:
            raise ValueError(f"region {entry.name} listed twice")
        self.regions[entry.name] = Region(entry.name, parent, level, tuple(entry.aliases))
        for key in (entry.name, *entry.aliases):
            if key in self._lookup and self._lookup[key] != entry.name:
                raise ValueError(f"alias {key} names both {self._lookup[key]} and {entry.name}")
            self._lookup[key] = entry.name
        for child in entry.children:
            self._add(child, entry.name, level + 1)

    def resolve(self, text: str) -> Region | None:
        """The region a name or short form means, or None. Whitespace is ignored."""
        key = "".join(text.split())
        name = self._lookup.get(key)
        return self.regions[name] if name else None

    def find_in(self, text: str) -> Region | None:
        """The longest region name or alias that occurs in free text, if any."""
        best: str | None = None
        for key in self._lookup:
            if key in text and (best is None or len(key) > len(best)):
                best = key
        return self.regions[self._lookup[best]] if best else None

    def chain(self, name: str) -> list[Region]:
        """The region and its ancestors, nearest first: 会宁县 → 白银市 → 甘肃省."""
        out: list[Region] = []
        current: str | None = name
        while current is not None:
            region = self.regions[current]
            out.append(region)
            current = region.parent
        return out

    def children(self, name: str) -> list[Region]:
        return [r for r in self.regions.values() if r.parent == name]

    def names(self) -> list[str]:
        return list(self.regions)
