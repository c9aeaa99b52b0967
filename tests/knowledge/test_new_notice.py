"""Adding a notice: the scaffold command and the impact report."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from actions.impact import knowledge_at, sweep
from knowledge import load_knowledge
from knowledge.__main__ import main as knowledge_cli
from knowledge.loader import DATA_DIR, load_notice


def _copy_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    return data


def test_new_notice_writes_text_data_and_cases(tmp_path: Path) -> None:
    data, cases = _copy_data(tmp_path), tmp_path / "cases"
    cases.mkdir()
    text = tmp_path / "notice.txt"
    text.write_text("安康市2023年度城乡居民医保参保缴费通知……", encoding="utf-8")
    args = ["new-notice", "--id", "ankang-2023", "--region", "安康市", "--label", "2023年度",
            "--benefit-year", "2023", "--text", str(text)]
    assert knowledge_cli(args, data, cases) == 0
    notice = load_notice(data / "notices" / "ankang-2023.yaml")
    assert (notice.region, notice.year_label, notice.benefit_years) == ("安康市", "2023年度", [2023])
    assert (data / "texts" / notice.source).read_text(encoding="utf-8") == text.read_text(encoding="utf-8")
    case_file = yaml.safe_load((cases / "ankang-2023.yaml").read_text(encoding="utf-8"))
    assert case_file == {"notice": "ankang-2023", "cases": []}
    kb = load_knowledge(data)  # valid as scaffolded; the case count test then asks for cases
    assert kb.covered_years("汉滨区") == [2022, 2023]
    assert knowledge_cli(args, data, cases) == 2  # never overwrites


def test_the_impact_report_lists_changed_answers(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    notice = data / "notices" / "baiyin-2022.yaml"
    notice.write_text(notice.read_text(encoding="utf-8").replace("  yuan: 350", "  yuan: 360", 1),
                      encoding="utf-8")
    before, after = sweep(load_knowledge()), sweep(load_knowledge(data))
    changed = {k for k in before if before[k] != after[k]}
    assert "fee 白银市 2023年 -" in changed and "fee 甘肃省 2022年 -" not in changed
    assert "360" in after["fee 白银市 2023年 -"]


def test_the_impact_report_reads_a_git_revision(tmp_path: Path) -> None:
    kb = knowledge_at("HEAD", tmp_path)
    assert set(kb.notices) == set(load_knowledge().notices)
