"""A bad notice file is rejected with the file, the path inside it and the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from knowledge import KnowledgeError, load_knowledge
from knowledge.loader import DATA_DIR

GOOD = DATA_DIR / "notices" / "gansu-2021.yaml"


def write_variant(tmp_path: Path, change) -> Path:
    data_dir = tmp_path / "data"
    (data_dir / "notices").mkdir(parents=True)
    for name in ("divisions.yaml", "regions.yaml", "categories.yaml"):
        shutil.copy(DATA_DIR / name, data_dir / name)
    doc = yaml.safe_load(GOOD.read_text(encoding="utf-8"))
    change(doc)
    (data_dir / "notices" / "bad.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return data_dir


def load_error(tmp_path: Path, change) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(write_variant(tmp_path, change))
    assert info.value.file.endswith("bad.yaml")
    return info.value


def test_the_unchanged_copy_loads(tmp_path):
    kb = load_knowledge(write_variant(tmp_path, lambda d: None))
    assert "gansu-2021" in kb.notices


def test_missing_citation(tmp_path):
    err = load_error(tmp_path, lambda d: d["personal"].pop("cite"))
    assert err.path == "personal.cite" and "required" in err.reason.lower()


def test_unknown_region(tmp_path):
    err = load_error(tmp_path, lambda d: d.update(region="火星市"))
    assert err.path == "region" and "火星市" in err.reason


def test_unknown_region_in_a_tier(tmp_path):
    err = load_error(tmp_path, lambda d: d["fiscal_subsidy"]["tiers"][1]["regions"].append("火星市"))
    assert err.path == "fiscal_subsidy.tiers.1.regions" and "火星市" in err.reason


def test_overlapping_windows(tmp_path):
    def overlap(d):
        extra = dict(d["windows"][0], id="sporadic", kind="sporadic", start="2021-12-01", end="2022-03-31")
        d["windows"].append(extra)
    err = load_error(tmp_path, overlap)
    assert err.path == "(top)" or "overlap" in err.reason
    assert "overlap" in err.reason


def test_negative_amount(tmp_path):
    err = load_error(tmp_path, lambda d: d["personal"].update(yuan=-320))
    assert err.path == "personal.yuan" and "greater than or equal to 0" in err.reason


def test_unknown_key_is_a_typo(tmp_path):
    err = load_error(tmp_path, lambda d: d.update(persnal=d["personal"]))
    assert err.path == "persnal" and "extra" in err.reason.lower()


def test_unknown_category(tmp_path):
    err = load_error(tmp_path, lambda d: d["subsidies"][0].update(category="vip"))
    assert err.path == "subsidies.0.category" and "vip" in err.reason


def test_window_ending_before_it_starts(tmp_path):
    err = load_error(tmp_path, lambda d: d["windows"][0].update(end="2021-06-30"))
    assert err.path == "windows.0" and "ends before it starts" in err.reason
