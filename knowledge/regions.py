"""The region gazetteer: canonical names, aliases and the county → city → province chain.

Two sources make one tree (see :func:`merge`): ``data/divisions.yaml``, generated from an
administrative-division dataset (provinces → prefecture-level → county-level units with their
adcodes), and ``data/regions.yaml``, hand-maintained: what no dataset has (townships,
开发区/示范区, 贵安新区, provinces the dataset file does not cover) and the short forms and
spelling variants residents use, attached to the same names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from pydantic import BaseModel, ConfigDict, Field

# Short forms no county gets, whatever the rule gives:
NOT_SHORT_FORMS = {
    "城关": "the seat town of most counties is a 城关镇; 城关 alone does not name 兰州's 城关区",
    "合作": "合作医疗 (the former rural scheme) is an insurance term: 合作 would tag 合作市",
    "和政": "个人缴费标准和政府补助标准: 和政 would tag 和政县 in 和政府",
}
COUNTY_SUFFIXES = ("自治县", "特区", "区", "县", "市")  # longest first


def short_forms(name: str, ethnic_groups: list[str] | tuple[str, ...]) -> list[str]:
    """The short forms residents use for a county-level unit (none if no usable one).

    Strip the level suffix (特区/区/县/市); for 自治县 also the ethnic groups before it
    (天祝藏族自治县 → 天祝, 积石山保安族东乡族撒拉族自治县 → 积石山), and 天祝县 is said too; a
    county named after its group keeps the group's name (东乡族自治县 → 东乡, 东乡县). Fewer than
    two characters (文县 → 文) or a name in :data:`NOT_SHORT_FORMS` gives none. Whether a short
    form is used is decided by the gazetteer: only when no other region has it.
    """
    suffix = next((s for s in COUNTY_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return []
    base = name[: -len(suffix)]
    if suffix == "自治县":
        groups = sorted(ethnic_groups, key=len, reverse=True)
        while True:
            group = next((g for g in groups if base.endswith(g)), None)
            if group is None:
                break
            if group == base:  # 东乡族自治县: the place is named after its people
                base = base.removesuffix("族")
                break
            base = base[: -len(group)]
    if len(base) < 2 or base in NOT_SHORT_FORMS:
        return []
    return [base, f"{base}县"] if suffix == "自治县" else [base]


PROVINCE_SUFFIXES = ("特别行政区", "自治区", "省", "市")


def province_short_form(name: str, ethnic_groups: list[str] | tuple[str, ...]) -> list[str]:
    """北京市 → 北京, 广西壮族自治区 → 广西, 新疆维吾尔自治区 → 新疆, 内蒙古自治区 → 内蒙古."""
    suffix = next((s for s in PROVINCE_SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return []
    base = name[: -len(suffix)]
    # 维吾尔自治区 names its people without 族; one-character stems (京族 → 京) are never stripped.
    names = sorted({n for g in ethnic_groups for n in (g, g.removesuffix("族")) if len(n) >= 2},
                   key=len, reverse=True)
    group = next((g for g in names if base.endswith(g) and len(base) - len(g) >= 2), None)
    if group:
        base = base[: -len(group)]
    return [base] if len(base) >= 2 else []


class RegionEntry(BaseModel):
    """A node of the hand-maintained ``regions.yaml``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    aliases: list[str] = Field(default_factory=list)
    # A city or county of a province that divisions.yaml covers but its dataset lacks (贵安新区).
    extra: bool = False
    children: list[RegionEntry] = Field(default_factory=list)


class DivisionEntry(BaseModel):
    """A node of the generated ``divisions.yaml``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    adcode: str
    short_forms: list[str] = Field(default_factory=list)  # county level; used only when unique
    children: list[DivisionEntry] = Field(default_factory=list)


class Divisions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    provinces: list[DivisionEntry]
    # The other province-level units (with their capitals): a question about them is answered
    # "not covered" rather than "which region?".
    outside: list[DivisionEntry] = Field(default_factory=list)


@dataclass
class _Node:
    name: str
    aliases: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    adcode: str | None = None
    short_forms: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Region:
    name: str
    parent: str | None
    level: int  # 0 province, 1 city, 2 county, 3 township
    aliases: tuple[str, ...] = ()
    adcode: str | None = None  # from divisions.yaml; None for hand-maintained regions


def _from_division(entry: DivisionEntry) -> _Node:
    return _Node(entry.name, [], [_from_division(c) for c in entry.children], entry.adcode,
                 list(entry.short_forms))


def _from_hand(entry: RegionEntry) -> _Node:
    return _Node(entry.name, list(entry.aliases), [_from_hand(c) for c in entry.children])


def merge(divisions: list[DivisionEntry], hand: list[RegionEntry]) -> list[_Node]:
    """One tree: the dataset's provinces with the hand file's aliases and extras attached.

    Raises ValueError when the hand file names a city or county of a dataset province that the
    dataset lacks (unless ``extra: true``), or marks as extra what the dataset has.
    """
    where: dict[str, list[str]] = {}  # dataset name → its path, for error messages

    def index(node: DivisionEntry, path: list[str]) -> None:
        where.setdefault(node.name, path + [node.name])
        for child in node.children:
            index(child, path + [node.name])

    for province in divisions:
        index(province, [])
    roots = {p.name: _from_division(p) for p in divisions}

    def overlay(node: _Node, entry: RegionEntry, level: int, path: str) -> None:
        """Attach ``entry`` (hand file) to ``node`` (dataset, so below county level it has none)."""
        node.aliases.extend(a for a in entry.aliases if a not in node.aliases)
        by_name = {c.name: c for c in node.children}
        for child in entry.children:
            here = f"{path} › {child.name}"
            match = by_name.get(child.name)
            if match is not None:
                if child.extra:
                    raise ValueError(f"{here} is marked extra but the division dataset lists it")
                overlay(match, child, level + 1, here)
            elif level < 2 and not child.extra:
                known = " › ".join(where[child.name]) if child.name in where else None
                hint = f"the dataset has {known}" if known else "the division dataset lacks it"
                raise ValueError(f"{here}: {hint}; fix the name or mark it `extra: true`")
            else:
                node.children.append(_from_hand(child))

    out: list[_Node] = []
    for entry in hand:
        if entry.name in roots:
            if entry.extra:
                raise ValueError(f"{entry.name} is marked extra but the division dataset lists it")
            overlay(roots[entry.name], entry, 0, entry.name)
            out.append(roots.pop(entry.name))
        else:
            out.append(_from_hand(entry))
    return out + list(roots.values())


@dataclass
class Gazetteer:
    regions: dict[str, Region] = field(default_factory=dict)
    _lookup: dict[str, str] = field(default_factory=dict)
    # Generated short forms left out, with the reason (a clash, or shared by several counties).
    dropped_short_forms: list[str] = field(default_factory=list)

    @classmethod
    def from_entries(cls, entries: list[RegionEntry]) -> Gazetteer:
        """A gazetteer from the hand file alone (no division dataset)."""
        return cls.from_tree([_from_hand(e) for e in entries])

    @classmethod
    def build(cls, divisions: list[DivisionEntry], hand: list[RegionEntry]) -> Gazetteer:
        return cls.from_tree(merge(divisions, hand))

    @classmethod
    def from_tree(cls, roots: list[_Node]) -> Gazetteer:
        gaz = cls()
        shorts: dict[str, list[str]] = {}  # region → candidate short forms
        for root in roots:
            gaz._add(root, None, 0, shorts)
        gaz._add_short_forms(shorts)
        return gaz

    def _add(self, node: _Node, parent: str | None, level: int, shorts: dict[str, list[str]]) -> None:
        if node.name in self.regions:
            raise ValueError(f"region {node.name} listed twice")
        self.regions[node.name] = Region(node.name, parent, level, tuple(node.aliases), node.adcode)
        for key in (node.name, *node.aliases):
            if key in self._lookup and self._lookup[key] != node.name:
                raise ValueError(f"alias {key} names both {self._lookup[key]} and {node.name}")
            self._lookup[key] = node.name
        if node.short_forms:
            shorts[node.name] = node.short_forms
        for child in node.children:
            self._add(child, node.name, level + 1, shorts)

    def _add_short_forms(self, shorts: dict[str, list[str]]) -> None:
        """Add each generated short form that is unique in the whole gazetteer."""
        counts = Counter(s for forms in shorts.values() for s in set(forms))
        for name, forms in shorts.items():
            for short in forms:
                owner = self._lookup.get(short)
                if owner == name:
                    continue  # the hand file already gives it
                if owner is not None:
                    self.dropped_short_forms.append(f"{name}: {short} names {owner}")
                elif counts[short] > 1:
                    others = "、".join(n for n, f in shorts.items() if short in f and n != name)
                    self.dropped_short_forms.append(f"{name}: {short} is also short for {others}")
                else:
                    region = self.regions[name]
                    self.regions[name] = replace(region, aliases=(*region.aliases, short))
                    self._lookup[short] = name

    def resolve(self, text: str) -> Region | None:
        """The region a name or short form means, or None. Whitespace is ignored."""
        key = "".join(text.split())
        name = self._lookup.get(key)
        return self.regions[name] if name else None

    def places_in(self, text: str) -> list[Region]:
        """The places a free text names, in order (the longest name or alias at each position)."""
        found: dict[int, str] = {}
        for key in self._lookup:
            at = text.find(key)
            if at >= 0 and len(key) > len(found.get(at, "")):
                found[at] = key
        return [self.regions[self._lookup[found[at]]] for at in sorted(found)]

    def find_in(self, text: str, places: list[Region] | None = None) -> Region | None:
        """The place a free text is about: the most specific of one chain ("白银市平川区" →
        平川区), else the first said ("白河的…交错到旬阳去了" → 白河县). ``places``: a choice among
        the places the text names (default all)."""
        places = self.places_in(text) if places is None else places
        if not places:
            return None
        best = places[0]
        for place in places[1:]:
            if best.name in [r.name for r in self.chain(place.name)][1:]:
                best = place  # a place inside the one said before it
        return best

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
