"""Reading a message into facts: places, years, dates with their roles, households, cues.

Each message goes through the bot's own normaliser and quantity extractor first."""

from __future__ import annotations

from datetime import date

import pytest

from actions.reading import read
from knowledge.loader import default_knowledge

from .conftest import extract, normalise

KB = default_knowledge()
TODAY = date(2026, 12, 2)


def _read(message: str, context_year: int | None = None):
    text = normalise(message)
    return read(text, extract(text), KB, TODAY, context_year)


def _roles(message: str, context_year: int | None = None) -> dict[str, str]:
    return {d.role: d.value for d in _read(message, context_year).dates}


@pytest.mark.parametrize("message,roles", [
    ("贵州，娃2021年3月1号出生，5月30号交的参保费", {"birth": "2021-03-01", "payment": "2021-05-30"}),
    ("2021年1月10号住院了，3月20号才交的", {"admission": "2021-01-10", "payment": "2021-03-20"}),
    ("职工医保2021年6月30号停缴的，7月20号交了居民医保", {"stop": "2021-06-30", "payment": "2021-07-20"}),
    ("2021年7月15号连同中断期间一起补缴了", {"payment": "2021-07-15"}),
    ("2023年1月10号交了出生当年的医保", {"payment": "2023-01-10"}),
    ("2021年12月31号前没交", {"deadline": "2021-12-31"}),
    ("过了2021年3月31号补交", {"deadline": "2021-03-31"}),
    ("2022年3月去世了", {"death": "2022-03"}),
    ("交完医保，2021年11月俺爹人没了", {"death": "2021-11"}),
    ("2022年6月1号单位给上了职工医保，7月住院", {"payment": "2022-06-01", "admission": "2022-07"}),
])
def test_a_date_takes_its_role_from_the_words_around_it(message: str, roles: dict) -> None:
    assert _roles(message) == roles


@pytest.mark.parametrize("message,years", [
    ("2019、2020、2021年都交了，限额能提高多少", 3),
    ("2018、2019年没断，2021年又交了", 2),
    ("2018、2020年都交了", None),  # not one run of years
])
def test_years_listed_without_a_break_are_continuous_years(message: str, years: int | None) -> None:
    assert _read(message).continuous_years == years


@pytest.mark.parametrize("message,days", [
    ("娃生下来100多天了还没交", 101),  # 多: more than the number said
    ("出生才80天", 80),
    ("交了100多块", None),
])
def test_days_since_a_birth(message: str, days: int | None) -> None:
    assert _read(message).elapsed_days == days


def test_a_day_without_a_year_takes_the_conversation_s_or_is_left_out() -> None:
    assert _roles("10月8号交的", context_year=2021) == {"payment": "2021-10-08"}
    assert _roles("10月8号交的") == {}  # never guessed from today's date
    # A label year: the year in which the day falls inside that notice's window.
    assert _roles("安康，10月15号交的2022年度医保") == {"payment": "2021-10-15"}
    assert _roles("贵州，6月10号补交了2021年度的") == {"payment": "2021-06-10"}


@pytest.mark.parametrize("message,year,label,benefit", [
    ("白银2022年度交多少", 2022, True, False),
    ("白银2022年交多少", 2022, False, False),
    ("想2023年看病能报销", 2023, False, True),
    ("从2018年起一直连续交医保", None, False, False),
    ("安康学院2021年的新生，2022年度医保咋交", 2022, True, False),
])
def test_the_year_asked_about(message: str, year: int | None, label: bool, benefit: bool) -> None:
    r = _read(message)
    assert (r.year, r.year_is_label, r.year_is_benefit) == (year, label, benefit)


@pytest.mark.parametrize("message,place", [
    ("白银市平川区的", "平川区"),
    ("会宁县郭城驿镇，家里5口人", "郭城驿镇"),
    ("白河的，医保交错到旬阳去了", "白河县"),
    ("香港人在安康住，能参加吗", "安康市"),
    ("北京的新生儿医保咋办", "北京市"),
    ("天水市（不在深度贫困县）省级财政补多少，市县补多少", "天水市"),
])
def test_the_place_asked_about(message: str, place: str) -> None:
    assert _read(message).region == place


@pytest.mark.parametrize("message,household,groups", [
    ("家里5口人，2个是农村一类低保，另外3个啥身份都没有", 5, [(["dibao_full"], 2), ([], 3)]),
    ("俺爹是特困供养人员，俺两口子跟两个娃都是已脱贫人口", 5, [(["tekun"], 1), (["tuopin"], 4)]),
    ("老爹是肇事肇祸的精神障碍患者，我和媳妇还有两个娃都是普通居民", 5, [(["mental"], 1), ([], 4)]),
    ("我爸是城市低保全额保障对象，我本人是城市低保差额保障对象，老婆和娃没有任何身份，四口人", 4,
     [(["dibao_full"], 1), (["dibao_partial"], 1), ([], 2)]),
    ("会宁县的脱贫户，一家5口，其中奶奶还是农村三类低保", 5,
     [(["dibao_partial", "tuopin"], 1), (["tuopin"], 4)]),
    ("孙子是事实无人抚养儿童，跟着俺老两口过，俺俩是已脱贫户", 3,
     [(["de_facto_orphan"], 1), (["tuopin"], 2)]),
    ("汉滨区低保户2022年度医保自己出多少", None, []),
    # a total that says what its people are; people said beside it are more people
    ("俺家是农村四类低保，吃低保的两口人，另外还有个外孙是孤儿", 3,
     [(["orphan"], 1), (["dibao_partial"], 2)]),
    ("家里3口：老汉是特困人员，老伴和儿子是已脱贫人口", 3, [(["tekun"], 1), (["tuopin"], 2)]),
    # people named before a count of other people: both are counted
    ("老伴是孤儿，我跟3个孙子啥也不是", 5, [(["orphan"], 1), ([], 4)]),
    ("媳妇和俩闺女是脱贫人口", 3, [(["tuopin"], 3)]),
    ("家里4口，3个是特困人员，另外1个是上门女婿没身份", 4, [(["tekun"], 3), ([], 1)]),
    # people named, then someone else with another identity: two groups
    ("平川区的一类低保户，我和老婆两个人，另外我爸是特困人员", 3,
     [(["dibao_full"], 2), (["tekun", "dibao_full"], 1)]),
])
def test_a_household_by_clause(message: str, household: int | None, groups: list) -> None:
    r = _read(message)
    assert r.household == household
    if household:
        assert [(g.categories, g.count) for g in r.groups] == groups


def test_identities_as_the_notices_name_them() -> None:
    assert _read("城市低保差额保障对象").categories == ["dibao_partial"]  # the tier, not also 低保
    assert _read("早就脱贫了，不在监测户里头").categories == ["tuopin"]  # a negated one is dropped
    assert _read("我们家是农村计生“两户”家庭").categories == ["jisheng_two"]  # quotes read through
    assert _read("我家是低收入家庭，我是重度残疾人").categories == ["low_income_special"]
    assert _read("我是重度残疾人").categories == []  # not widened: the bot asks (ask_* flag)
    assert "ask_low_income_special" in _read("我是重度残疾人").flags
    assert _read("我家是独生子女户").categories == []  # not 农村计生“两户” unless said
    assert "ask_jisheng_two" in _read("我家是独生子女户").flags


@pytest.mark.parametrize("message,flag", [
    ("户口在靖远，人在兰州打工也在兰州交的医保，特困资助谁给", "insured_elsewhere"),
    ("平川的低保户，人在白银区那边参保的，资助咋算", "insured_elsewhere"),
    ("交了以后资助的钱啥时候到账", "delivery"),
    ("集中征缴期没去交，现在还能交不", "after_window"),
    ("灵活就业交了一年职工医保，后来进单位了，能退不", "reason_flexible_employee"),
])
def test_facts_about_the_question(message: str, flag: str) -> None:
    assert flag in _read(message).flags


@pytest.mark.parametrize("message,topic", [
    ("会宁的，当年出生的娃娃，多少天内要去办参保", "newborn"),
    ("贵州的，2021年4月15号补交的，7月1号住院能报不", "late_payment"),
    ("天水的，职工医保交了5年，2022年1月辞职后就断了，6月10号才去交居民医保", "employee_to_resident"),
    ("职工医保从兰州转到酒泉，中间断了5个月", "cross_region"),
    ("安康的大学生已经在学校交了，家里又在村里交了一份，钱能退吗", "refund"),
    ("白银，我拿了资助以后从一类低保变成三类低保了，多给的资助要退吗", "identity_change"),
    ("城乡居民养老保险一年交多少档次", "out_of_scope"),
    ("靖远能在工商银行柜台交医保吗", "payment_channels"),
    ("景泰的，能在支付宝上交医保不", "payment_channels"),
    ("草滩镇归县医保局哪个包抓组管，电话多少", "plan"),
    ("单位给上了职工医保，之前交的居民医保能全退不", "refund"),
    ("毕节的孤儿，集中征缴期没交，现在能参保不，交多少", "late_payment"),
    ("我年年交居民医保没断过，住院报销比例能多多少", "contribution_years"),
    ("后来低保资格被取消了，之前给的资助要退回吗", "identity_change"),
    ("公司给交上职工医保了，中间断了一个多月，职工医保从哪天能用", "resident_to_employee"),
])
def test_word_cues_decide_the_question(message: str, topic: str) -> None:
    assert _read(message).topics[0] == topic
