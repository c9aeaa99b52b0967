"""A supplementary notice amends another for the same place and year: its values win, what it
leaves out comes from the amended notice; two notices for one place and year (or with
overlapping windows) that do not say so are an error."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from actions.rules import Question, answer_question
from knowledge import KnowledgeError, load_knowledge
from knowledge.loader import DATA_DIR

BASE = DATA_DIR / "notices" / "gansu-2021.yaml"


def _data(tmp_path: Path, supplement: dict) -> Path:
    data = tmp_path / "data"
    (data / "notices").mkdir(parents=True)
    for name in ("divisions.yaml", "regions.yaml", "categories.yaml"):
        shutil.copy(DATA_DIR / name, data / name)
    shutil.copy(BASE, data / "notices" / BASE.name)
    (data / "notices" / "supplement.yaml").write_text(yaml.safe_dump(supplement, allow_unicode=True),
                                                      encoding="utf-8")
    return data


def _supplement(**extra: object) -> dict:
    return {"id": "gansu-2021-supplement", "source": "supplement.txt", "issuers": ["甘肃省医疗保障局"],
            "doc_no": "甘医保发〔2021〕99号", "title": "补充通知", "region": "甘肃省",
            "year_label": "2021年度", "benefit_years": [2022],
            "personal": {"yuan": 330, "cite": {"section": "一", "quote": "个人缴费标准调整为330元"}},
            **extra}


def test_a_supplement_replaces_what_it_states_and_keeps_the_rest(tmp_path: Path) -> None:
    kb = load_knowledge(_data(tmp_path, _supplement(amends="gansu-2021")))
    fee = answer_question(Question(topic="fee", region="兰州", benefit_year=2022), kb)
    assert fee.figure("standard").value == Decimal(330)
    assert fee.citations[0].doc_no == "甘医保发〔2021〕99号"
    # The windows are not in the supplement: still the base notice's.
    deadline = answer_question(Question(topic="deadline", region="兰州", benefit_year=2022), kb)
    assert deadline.citations[0].doc_no == "甘医保发〔2021〕55号"


def test_a_second_notice_for_the_same_place_and_year_must_say_what_it_amends(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(_data(tmp_path, _supplement()))
    assert "amends" in info.value.reason


def test_overlapping_windows_of_one_place_are_an_error_without_amends(tmp_path: Path) -> None:
    window = {"id": "w", "kind": "concentrated", "name": "缴费期", "start": "2021-12-01",
              "end": "2022-02-28", "outcome": {"start": "benefit_period_start",
                                               "cite": {"section": "一", "quote": "自次年起享受待遇"}},
              "cite": {"section": "一", "quote": "缴费期为12月至次年2月"}}
    other_year = _supplement(id="gansu-2022", benefit_years=[2023], year_label="2022年度",
                             windows=[window])
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(_data(tmp_path, other_year))
    assert info.value.path == "windows" and "overlaps" in info.value.reason


def test_amending_a_notice_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(_data(tmp_path, _supplement(id="x", benefit_years=[2030], amends="nope")))
    assert info.value.path == "amends"
