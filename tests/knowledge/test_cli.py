"""The staff/IT command line answers from arguments, with reasoning, citations and JSON."""

from __future__ import annotations

import json

from actions.rules.__main__ import main


def test_text_output_shows_figures_steps_and_citations(capsys):
    assert main(["fee", "--region", "兰州", "--year", "2022", "--category", "特困"]) == 0
    out = capsys.readouterr().out
    assert "[ok]" in out and "依据:" in out and "甘医保发〔2021〕55号" in out
    assert "个人实际负担: 0元" in out


def test_json_output(capsys):
    assert main(["employee_to_resident", "--region", "兰州", "--year", "2022", "--stopped", "2022-03-31",
                 "--paid", "2022-07-01", "--years", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    starts = [f["value"] for f in data["figures"] if f["key"] == "benefit_start"]
    assert starts == ["2022-10-02"]
    assert data["citations"][0]["doc_no"] == "甘医保发〔2021〕55号"


def test_unknown_category_and_bad_date_are_clear_errors(capsys):
    assert main(["fee", "--region", "兰州", "--category", "神仙"]) == 2
    assert "未知身份" in capsys.readouterr().err
    try:
        main(["newborn", "--region", "兰州", "--birth", "2022-13-01"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_listings(capsys):
    assert main(["regions"]) == 0
    assert "会宁县 → 白银市 → 甘肃省" in capsys.readouterr().out
