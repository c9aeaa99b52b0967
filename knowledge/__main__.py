"""Adding next year's notice: ``python -m knowledge new-notice``.

    python -m knowledge new-notice --id ankang-2023 --region 安康市 --label 2023年度 \\
        --benefit-year 2023 --text /path/to/notice.txt [--amends ankang-2022]

writes the notice's text to ``knowledge/data/texts/`` (quotes are checked against it), a data
file ``knowledge/data/notices/<id>.yaml`` with the required fields and every optional field as a
commented template, and ``tests/cases/<id>.yaml`` for its cases. ``make test`` fails until the
data is filled in and the notice has its cases (≥ 15, each quoting the sentence it rests on).
Then ``python -m actions.impact`` lists the questions whose answers the new data changes.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from knowledge.loader import DATA_DIR

ROOT = DATA_DIR.parents[1]
CASES_DIR = ROOT / "tests" / "cases"

NOTICE_TEMPLATE = """\
# {region} {label} ({benefit_years} benefits). Filled in from knowledge/data/texts/{source};
# every value carries the section and an exact quote. See knowledge/README.md and schema.py.
id: {id}
source: {source}
issuers: [TODO 发文机关]
doc_no: TODO 文号
title: TODO 标题
issued_on: null
region: {region}
year_label: {label}
benefit_years: [{benefit_year}]
{amends}
# personal:            {{yuan: 0, cite: {{section: 二, quote: 个人缴费标准…}}}}
# personal_increase:   {{yuan: 0, cite: …}}
# total_standard:      {{yuan: 0, cite: …}}
# critical_illness:    {{yuan: 0, cite: …}}
# fiscal_subsidy:      {{total: {{yuan: 0, cite: …}}, central: …, tiers: […]}}
# windows:             [{{id: concentrated, kind: concentrated, name: 集中缴费期, start: …, end: …,
#                        outcome: {{fee: personal, start: benefit_period_start, cite: …}}, cite: …}}]
# benefit_period:      {{start: …, end: …, cite: …}}
# subsidies:           [{{category: <categories.yaml id>, kind: full|fixed|not_stated, amount: …,
#                        delivery: paid_by_bureau|deducted|reimbursed|not_stated, cite: …}}]
# multiple_identity, subsidy_changes, identity_cutoff, referrals, scenarios (late_payment, newborn,
# student, veteran, employee_to_resident, resident_to_employee, cross_region, low_income,
# identity_change, flexible_worker), refunds, duplicates, settlement, scope, registration,
# payment_channels, payment_notes, contribution_bonus, plan, contacts: see schema.py.
"""

CASES_TEMPLATE = """\
# Cases for {region} {label} ({id}), written from the notice text
# (knowledge/data/texts/{source}), not from running code. Each case quotes in `basis` the
# sentence it rests on (checked verbatim); a notice needs at least 15 cases.
notice: {id}
cases: []
#  - name: 个人缴费标准…元
#    question: {{topic: fee, region: {region}, benefit_year: {benefit_year}}}
#    basis: 个人缴费标准…
#    expect:
#      status: ok
#      figures: {{standard: 0}}
#      cites: [二]
"""


def new_notice(args: argparse.Namespace, data_dir: Path = DATA_DIR, cases_dir: Path = CASES_DIR) -> int:
    text = Path(args.text)
    if not text.is_file():
        print(f"no notice text at {text}", file=sys.stderr)
        return 2
    notice_file = data_dir / "notices" / f"{args.id}.yaml"
    cases_file = cases_dir / f"{args.id}.yaml"
    if notice_file.exists() or cases_file.exists():
        print(f"{args.id} exists already", file=sys.stderr)
        return 2
    digest = hashlib.sha256(text.read_bytes()).hexdigest()[:16]
    source = f"{args.id}_{digest}.txt"
    shutil.copy(text, data_dir / "texts" / source)
    amends = f"amends: {args.amends}" if args.amends else "# amends: <id of the notice it supplements>"
    fields = {"id": args.id, "region": args.region, "label": args.label, "source": source,
              "benefit_year": args.benefit_year, "benefit_years": args.benefit_year, "amends": amends}
    notice_file.write_text(NOTICE_TEMPLATE.format(**fields), encoding="utf-8")
    cases_file.write_text(CASES_TEMPLATE.format(**fields), encoding="utf-8")
    for path in (data_dir / "texts" / source, notice_file, cases_file):
        print(f"wrote {path}")
    print("next: fill in the data and the cases, run `make test`, then `python -m actions.impact`")
    return 0


def main(argv: list[str] | None = None, data_dir: Path = DATA_DIR, cases_dir: Path = CASES_DIR) -> int:
    p = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    n = sub.add_parser("new-notice", help="scaffold a notice's data, text and case files")
    n.add_argument("--id", required=True, help="e.g. ankang-2023")
    n.add_argument("--region", required=True, help="the gazetteer's canonical name, e.g. 安康市")
    n.add_argument("--label", required=True, help="the year as the notice names it, e.g. 2023年度")
    n.add_argument("--benefit-year", required=True, type=int, help="the year benefits are used")
    n.add_argument("--text", required=True, help="the notice's text (UTF-8 .txt)")
    n.add_argument("--amends", help="id of the notice this one supplements")
    args = p.parse_args(argv)
    return new_notice(args, data_dir, cases_dir)


if __name__ == "__main__":
    raise SystemExit(main())
