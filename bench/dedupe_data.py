"""Labelled customer lists for measuring the duplicate finder: known duplicates, known non-duplicates.

Two generators, both seeded:

* :func:`book_rows` — a customer book like smbcrm users keep: Chinese and Latin companies
  and people, with duplicates made the way real ones arise (typos and homophones, legal
  forms added or dropped, the city put in or left out of a name, transposed names, a name
  in pinyin, full-width characters, phones and e-mails written differently, missing
  fields, a changed mobile) and hard non-duplicates (branches of one chain, a colleague at
  the same company, family members sharing a landline, people of the same common name).
* :func:`febrl_rows` — people only, shaped like the FEBRL record-linkage sets
  (given_name, surname, street_number, address_1, address_2, suburb, postcode, state,
  date_of_birth, soc_sec_id): typos, OCR and phonetic errors, missing values, swapped
  given/surname, date digits swapped, a digit wrong in the ID; no phone, no e-mail.

Each row carries its ``entity``: rows of one entity are duplicates of each other, every
other pair is not. :func:`to_record` turns a row into the duplicate finder's record exactly
as the database path would; :func:`insert_rows` writes rows into a book.
"""

from __future__ import annotations

import csv
import random
import string
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.generate import LATIN
from smbcrm.models import ContactPoint, ContactPointKind, Customer, Database
from smbcrm.models.derived import (
    ContactData,
    PointData,
    customer_keys,
    customer_list_columns,
    point_key,
)
from smbcrm.models.keys import normalize_key_text, normalize_name
from smbcrm.services.duplicates.records import (
    IdentityRecord,
    is_mobile_key,
    make_record,
    sound_of,
)


@dataclass
class LabelledRow:
    entity: int
    kind: str  # "company" or "person"
    name: str
    phones: list[tuple[str, str]] = field(default_factory=list)  # (mobile|phone, as typed)
    emails: list[str] = field(default_factory=list)
    city: str | None = None
    province: str | None = None
    address: str | None = None
    postcode: str | None = None
    birthday: date | None = None
    tax_id: str | None = None
    contacts: list[str] = field(default_factory=list)
    note: str = ""  # how it was made: "original", "duplicate: typo, …", "branch", …


def true_pairs(rows: Sequence[LabelledRow]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of rows that are one entity."""
    by_entity: dict[int, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_entity[row.entity].append(index)
    return {pair for members in by_entity.values() for pair in combinations(members, 2)}


# -- pools ----------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超兰霞平刚桂华建国志红文辉玲燕鹏飞宇浩然子涵欣怡轩博雅思远佳琪晨曦婷慧俊峰凯"
BRAND = (
    "华强绿源金达宏远新世鑫盛泰和鼎丰恒通聚宝天成永安瑞祥博雅东方信达汇丰嘉禾康乐荣昌启明远航中联万通"
    "豪森科越腾飞凌峰锦程卓创润泽晟德伟业亿隆国邦星海云帆蓝天百川凯旋富源佳美正大乾坤震宇精工利民"
)
TRADE = [
    "电子",
    "科技",
    "贸易",
    "茶业",
    "机械",
    "五金",
    "建材",
    "服装",
    "食品",
    "物流",
    "化工",
    "包装",
    "印刷",
    "家具",
]
CJK_FORMS = ["有限公司", "有限公司", "有限责任公司", "股份有限公司", ""]
# Characters that sound the same (as an input method offers them): the typical Chinese typo.
HOMOPHONES = [
    "伟玮炜",
    "芳方",
    "丽莉俐",
    "强墙",
    "明铭鸣",
    "华桦骅",
    "杰洁",
    "静晶",
    "敏闽",
    "红宏鸿",
    "军君",
    "平萍",
    "涛韬",
    "超潮",
    "勇涌",
    "燕艳",
    "飞菲",
    "宇雨羽",
    "琪琦棋",
    "欣馨新鑫",
    "盛胜",
    "泰太",
    "和禾",
    "丰峰锋",
    "恒衡",
    "通同",
    "宝保",
    "天添",
    "成诚城",
    "安按",
    "瑞睿",
    "祥翔",
    "博搏",
    "达答",
    "源原元",
    "远园",
    "金今",
    "世市",
    "鼎顶",
    "聚巨",
    "信兴",
    "东冬",
    "方芳",
    "汇惠",
    "嘉佳",
    "康慷",
    "乐勒",
    "荣容",
    "昌常",
    "启起",
    "航行",
    "中忠",
    "联连",
    "万湾",
    "文雯",
    "辉晖",
    "玲铃",
    "鹏朋",
    "浩皓",
    "然燃",
    "涵寒",
    "怡宜",
    "轩宣",
    "雅亚",
    "思斯",
    "佳家",
    "晨辰",
    "曦希",
    "婷庭",
    "慧惠",
    "俊骏",
    "凯楷",
    "志智",
    "国果",
    "建健",
    "刚钢",
    "兰岚",
    "霞夏",
    "桂贵",
    "洋阳",
    "磊雷",
]
_HOMOPHONE_OF = {ch: group for group in HOMOPHONES for ch in group}
CITIES = [
    # city, province, postcode, area code, pinyin
    ("深圳", "广东", "518000", "0755", "Shenzhen"),
    ("广州", "广东", "510000", "020", "Guangzhou"),
    ("上海", "上海", "200000", "021", "Shanghai"),
    ("北京", "北京", "100000", "010", "Beijing"),
    ("杭州", "浙江", "310000", "0571", "Hangzhou"),
    ("成都", "四川", "610000", "028", "Chengdu"),
    ("武汉", "湖北", "430000", "027", "Wuhan"),
    ("南京", "江苏", "210000", "025", "Nanjing"),
    ("苏州", "江苏", "215000", "0512", "Suzhou"),
    ("厦门", "福建", "361000", "0592", "Xiamen"),
    ("青岛", "山东", "266000", "0532", "Qingdao"),
    ("东莞", "广东", "523000", "0769", "Dongguan"),
    ("佛山", "广东", "528000", "0757", "Foshan"),
    ("宁波", "浙江", "315000", "0574", "Ningbo"),
    ("天津", "天津", "300000", "022", "Tianjin"),
]
DISTRICTS = [
    "南山区",
    "福田区",
    "罗湖区",
    "宝安区",
    "龙岗区",
    "天河区",
    "海淀区",
    "朝阳区",
    "西湖区",
    "高新区",
]
ROADS = [
    "深南大道",
    "科技园路",
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "长江路",
    "滨海大道",
    "和平路",
    "新华路",
    "工业路",
    "创业路",
]
LATIN_CITIES = [
    # city, region, postcode format, phone prefix, national digits
    ("Singapore", None, "{:06d}", "+65 ", 8),
    ("Hong Kong", None, "", "+852 ", 8),
    ("London", "England", "EC{}A {}BB", "+44 20 ", 8),
    ("Hamburg", "Hamburg", "2{:04d}", "+49 40 ", 8),
    ("Sydney", "NSW", "2{:03d}", "+61 2 ", 8),
]
LATIN_WORDS = [
    *LATIN,  # the customer generator's words first, then more for duplicates to vary
    "Maple",
    "Falcon",
    "Orchid",
    "Lotus",
    "Granite",
    "Coral",
    "Phoenix",
    "Jade",
    "Atlas",
    "Vertex",
    "Harvest",
    "Beacon",
    "Cedar",
    "Anchor",
    "Meridian",
    "Sterling",
    "Northern",
    "Eastern",
    "Royal",
    "Apex",
    "Aurora",
    "Bamboo",
    "Cascade",
    "Citadel",
    "Cobalt",
    "Crescent",
    "Dragon",
    "Ember",
    "Evergreen",
    "Frontier",
    "Glacier",
    "Horizon",
    "Iron",
    "Ivory",
    "Juniper",
    "Keystone",
    "Lantern",
    "Magnolia",
    "Mosaic",
    "Nimbus",
    "Oak",
    "Onyx",
    "Pinnacle",
    "Quantum",
    "Radiant",
    "Sapphire",
    "Sequoia",
    "Solstice",
    "Tiger",
    "Trident",
    "Unity",
    "Valley",
    "Willow",
    "Zenith",
    "Amber",
    "Birch",
    "Canyon",
    "Dune",
    "Echo",
    "Fjord",
    "Grove",
    "Haven",
    "Isle",
    "Kestrel",
]
LATIN_TRADES = [
    "Trading",
    "Foods",
    "Logistics",
    "Electronics",
    "Textiles",
    "Machinery",
    "Imports",
    "Tools",
    "Packaging",
]
LATIN_FORMS = [
    "Co., Ltd.",
    "Ltd",
    "Ltd.",
    "Limited",
    "GmbH",
    "Inc.",
    "LLC",
    "Pte Ltd",
    "Company",
    "",
]
GIVEN_EN = [
    "james",
    "john",
    "robert",
    "michael",
    "william",
    "david",
    "richard",
    "joseph",
    "thomas",
    "charles",
    "daniel",
    "matthew",
    "anthony",
    "mark",
    "steven",
    "paul",
    "andrew",
    "joshua",
    "kevin",
    "brian",
    "george",
    "edward",
    "ronald",
    "timothy",
    "jason",
    "jeffrey",
    "ryan",
    "jacob",
    "gary",
    "nicholas",
    "eric",
    "jonathan",
    "stephen",
    "larry",
    "justin",
    "scott",
    "benjamin",
    "samuel",
    "gregory",
    "alexander",
    "patrick",
    "jack",
    "dennis",
    "jerry",
    "tyler",
    "aaron",
    "henry",
    "adam",
    "douglas",
    "nathan",
    "peter",
    "zachary",
    "kyle",
    "walter",
    "harold",
    "jeremy",
    "ethan",
    "carl",
    "keith",
    "roger",
    "gerald",
    "christian",
    "terry",
    "sean",
    "arthur",
    "austin",
    "noah",
    "lawrence",
    "jesse",
    "joe",
    "bryan",
    "billy",
    "jordan",
    "albert",
    "dylan",
    "bruce",
    "willie",
    "gabriel",
    "alan",
    "juan",
    "logan",
    "wayne",
    "ralph",
    "roy",
    "eugene",
    "randy",
    "vincent",
    "russell",
    "louis",
    "philip",
    "bobby",
    "johnny",
    "bradley",
    "mary",
    "patricia",
    "jennifer",
    "linda",
    "elizabeth",
    "barbara",
    "susan",
    "jessica",
    "sarah",
    "karen",
    "lisa",
    "nancy",
    "betty",
    "margaret",
    "sandra",
    "ashley",
    "kimberly",
    "emily",
    "donna",
    "michelle",
    "carol",
    "amanda",
    "dorothy",
    "melissa",
    "deborah",
    "stephanie",
    "rebecca",
    "sharon",
    "laura",
    "cynthia",
    "kathleen",
    "amy",
    "angela",
    "shirley",
    "anna",
    "brenda",
    "pamela",
    "emma",
    "nicole",
    "helen",
    "samantha",
    "katherine",
    "christine",
    "debra",
    "rachel",
    "carolyn",
    "janet",
    "catherine",
    "maria",
    "heather",
    "diane",
    "ruth",
    "julie",
    "olivia",
    "joyce",
    "virginia",
    "victoria",
    "kelly",
    "lauren",
    "christina",
    "joan",
    "evelyn",
    "judith",
    "megan",
    "andrea",
    "cheryl",
    "hannah",
    "jacqueline",
    "martha",
    "gloria",
    "teresa",
    "ann",
    "sara",
    "madison",
    "frances",
    "kathryn",
    "janice",
    "jean",
    "abigail",
    "alice",
    "julia",
    "judy",
    "sophia",
    "grace",
    "denise",
    "amber",
    "doris",
    "marilyn",
    "danielle",
    "beverly",
    "isabella",
    "theresa",
    "diana",
    "natalie",
    "brittany",
    "charlotte",
    "marie",
    "kayla",
    "alexis",
    "lori",
    "chloe",
    "mia",
    "ella",
    "zoe",
    "lily",
    "ruby",
    "ava",
    "isla",
    "matilda",
    "jasmine",
    "georgia",
    "jade",
    "lachlan",
    "liam",
    "cooper",
    "riley",
    "jayden",
    "blake",
    "hayden",
    "mitchell",
    "bailey",
    "connor",
    "declan",
]
SURNAMES_EN = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "wilson",
    "anderson",
    "taylor",
    "thomas",
    "moore",
    "jackson",
    "martin",
    "lee",
    "thompson",
    "white",
    "harris",
    "clark",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "hill",
    "green",
    "adams",
    "baker",
    "nelson",
    "carter",
    "mitchell",
    "roberts",
    "turner",
    "phillips",
    "campbell",
    "parker",
    "evans",
    "edwards",
    "collins",
    "stewart",
    "morris",
    "murphy",
    "cook",
    "rogers",
    "morgan",
    "cooper",
    "peterson",
    "reed",
    "bailey",
    "bell",
    "kelly",
    "howard",
    "ward",
    "cox",
    "richardson",
    "wood",
    "watson",
    "brooks",
    "bennett",
    "gray",
    "james",
    "hughes",
    "price",
    "sanders",
    "myers",
    "long",
    "ross",
    "foster",
    "powell",
    "jenkins",
    "perry",
    "russell",
    "sullivan",
    "fisher",
    "henderson",
    "coleman",
    "simmons",
    "patterson",
    "jordan",
    "reynolds",
    "hamilton",
    "graham",
    "kim",
    "wallace",
    "west",
    "cole",
    "hayes",
    "gibson",
    "ellis",
    "stevens",
    "murray",
    "ford",
    "marshall",
    "owens",
    "mcdonald",
    "harrison",
    "kennedy",
    "wells",
    "alvarez",
    "woods",
    "mendoza",
    "castillo",
    "olson",
    "webb",
    "washington",
    "tucker",
    "freeman",
    "burns",
    "henry",
    "vasquez",
    "snyder",
    "simpson",
    "crawford",
    "jimenez",
    "porter",
    "mason",
    "shaw",
    "gordon",
    "wagner",
    "hunter",
    "romero",
    "hicks",
    "dixon",
    "hunt",
    "palmer",
    "robertson",
    "black",
    "holmes",
    "stone",
    "meyer",
    "boyd",
    "mills",
    "warren",
    "fox",
    "rose",
    "rice",
    "moreno",
    "schmidt",
    "patel",
    "ferguson",
    "nichols",
    "herrera",
    "medina",
    "ryan",
    "fernandez",
    "weaver",
    "daniels",
    "stephens",
    "gardner",
    "payne",
    "kelley",
    "dunn",
    "pierce",
    "arnold",
    "tran",
    "spencer",
    "peters",
    "hawkins",
    "grant",
    "hansen",
    "castro",
    "hoffman",
    "hart",
    "elliott",
    "cunningham",
    "knight",
    "bradley",
    "neumann",
    "oconnor",
    "obrien",
    "mcleod",
    "fraser",
    "campbell",
    "nguyen",
    "tan",
    "ng",
    "chan",
    "wong",
    "lim",
    "brennan",
    "doyle",
    "hogan",
    "lynch",
    "quinn",
    "walsh",
    "byrne",
    "ryan",
    "burke",
    "kaur",
    "singh",
    "papadopoulos",
    "rossi",
    "bianchi",
    "muller",
    "schneider",
    "becker",
    "vandenberg",
]
STREETS_EN = [
    "stanley",
    "george",
    "victoria",
    "king",
    "queen",
    "william",
    "elizabeth",
    "park",
    "church",
    "high",
    "station",
    "main",
    "bridge",
    "mill",
    "school",
    "north",
    "albert",
    "alexander",
    "macquarie",
    "collins",
    "bourke",
    "flinders",
    "swanston",
    "hunter",
    "pitt",
    "oxford",
    "marine",
    "beach",
    "river",
    "lake",
    "hill",
    "forest",
    "garden",
    "spring",
    "wattle",
    "banksia",
    "acacia",
    "eucalyptus",
    "jacaranda",
    "boronia",
    "kurrajong",
    "waratah",
    "heritage",
    "summerhill",
    "bellevue",
    "carrington",
    "kingsford",
    "wentworth",
    "mitchell",
]
STREET_TYPES = [
    "street",
    "road",
    "avenue",
    "place",
    "crescent",
    "drive",
    "court",
    "lane",
    "parade",
    "close",
]
SUBURBS = [
    "winston hills",
    "paddington",
    "bondi",
    "manly",
    "parramatta",
    "chatswood",
    "hornsby",
    "penrith",
    "liverpool",
    "bankstown",
    "campbelltown",
    "blacktown",
    "richmond",
    "carlton",
    "fitzroy",
    "brunswick",
    "st kilda",
    "toorak",
    "kew",
    "hawthorn",
    "camberwell",
    "frankston",
    "geelong",
    "ballarat",
    "bendigo",
    "toowoomba",
    "ipswich",
    "logan",
    "redcliffe",
    "caboolture",
    "maroochydore",
    "noosa",
    "cairns",
    "townsville",
    "mackay",
    "rockhampton",
    "gladstone",
    "bundaberg",
    "hervey bay",
    "gympie",
    "nambour",
    "dubbo",
    "orange",
    "bathurst",
    "goulburn",
    "queanbeyan",
    "wagga wagga",
    "albury",
    "tamworth",
    "armidale",
    "lismore",
    "grafton",
    "port macquarie",
    "coffs harbour",
    "taree",
    "newcastle",
    "maitland",
    "cessnock",
    "wollongong",
]
STATES = ["nsw", "vic", "qld", "sa", "wa", "tas", "act", "nt"]
BUILDINGS = [
    "",
    "",
    "",
    "",
    "",
    "miami",
    "rosedale",
    "kingsway",
    "the oaks",
    "parkview",
    "unit 4",
    "flat 2",
    "villa 7",
]

_FULLWIDTH = {ord(ch): ord(ch) + 0xFEE0 for ch in string.ascii_letters + string.digits + "@.-+()"}


def fullwidth(text: str) -> str:
    """As a Chinese input method in full-width mode writes it: ＡＣＭＥ １３８…"""
    return text.translate(_FULLWIDTH)


# -- small edits --------------------------------------------------------------------------------


def typo(rng: random.Random, word: str) -> str:
    """One keyboard slip: a letter dropped, doubled, replaced, or two swapped."""
    if len(word) < 3:
        return word + rng.choice("aeiou") if rng.random() < 0.5 else word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.25:
        return word[:i] + word[i + 1 :]
    if kind < 0.5:
        return word[:i] + word[i] + word[i:]
    if kind < 0.75:
        letters = "abcdefghijklmnopqrstuvwxyz" if word.islower() else string.ascii_letters
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def latin_name_typo(rng: random.Random, name: str) -> str:
    words = name.split(" ")
    candidates = [k for k, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return name
    k = rng.choice(candidates)
    words[k] = typo(rng, words[k])
    return " ".join(words)


def cjk_typo(rng: random.Random, text: str) -> str:
    """A homophone picked by the input method, or (less often) a character left out."""
    positions = [i for i, ch in enumerate(text) if ch in _HOMOPHONE_OF]
    if positions and rng.random() < 0.8:
        i = rng.choice(positions)
        others = [c for c in _HOMOPHONE_OF[text[i]] if c != text[i]]
        return text[:i] + rng.choice(others) + text[i + 1 :]
    if len(text) >= 5:
        i = rng.randrange(1, len(text) - 1)
        return text[:i] + text[i + 1 :]
    return text


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def phone_as_typed(rng: random.Random, digits: str) -> str:
    """A Chinese mobile written the many ways people write one."""
    forms = [
        digits,
        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"+86 {digits}",
        f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}",
        f"0086{digits}",
        f"(+86) {digits}",
        fullwidth(digits),
    ]
    return rng.choice(forms)


def pinyin_of(name: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(part.capitalize() for part in lazy_pinyin(name))


# -- the book-like set ----------------------------------------------------------------------


class _Book:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_taxes: set[str] = set()
        self.used_phones: set[str] = set()
        # Two different companies of one name (or of the same words in another order) are
        # what the branches are for; otherwise a book's company names are its own.
        self.used_names: set[str] = set()

    def fresh_name(self, name: str) -> bool:
        words = normalize_name(name).split()
        key = "".join(sorted(words)) if len(words) > 1 else "".join(words)
        key = key.replace("市", "")
        for city in CITIES:
            key = key.replace(city[0], "")
        key = sound_of(key)  # 信荣 and 鑫荣 would be one name to the ear
        if key in self.used_names:
            return False
        self.used_names.add(key)
        return True

    def tax(self) -> str:
        while True:
            value = "91" + "".join(
                self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16)
            )
            if value not in self.used_taxes:
                self.used_taxes.add(value)
                return value

    def mobile(self) -> str:
        while True:
            value = mobile(self.rng)
            if value not in self.used_phones:
                self.used_phones.add(value)
                return value

    def cn_place(self) -> tuple[str, str, str, str, str]:
        return self.rng.choice(CITIES)

    def cn_address(self, city: tuple[str, str, str, str, str]) -> str:
        rng = self.rng
        road = f"{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randrange(1, 999)}号"
        if rng.random() < 0.3:
            road += f"{rng.choice('ABCDEFG')}栋{rng.randrange(1, 30)}0{rng.randrange(1, 9)}室"
        prefix = f"{city[1]}省{city[0]}市" if city[1] != city[0] else f"{city[0]}市"
        return prefix + road if rng.random() < 0.6 else road

    def landline(self, city: tuple[str, str, str, str, str]) -> str:
        return f"{city[3]}-{self.rng.randrange(2, 9)}{self.rng.randrange(10**7):07d}"

    def cn_person_name(self) -> str:
        rng = self.rng
        return rng.choice(SURNAMES) + "".join(
            rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))
        )

    def cn_company(self, entity: int) -> LabelledRow:
        rng = self.rng
        city = self.cn_place()
        while True:
            brand = "".join(rng.sample(BRAND, rng.choice((2, 2, 2, 3))))
            trade = rng.choice(TRADE)
            form = rng.choice(CJK_FORMS)
            if rng.random() < 0.5:
                name = f"{city[0]}市{brand}{trade}{form}"
            else:
                name = f"{brand}{trade}{form}"
            if self.fresh_name(name):
                break
        contact = self.cn_person_name()
        row = LabelledRow(entity, "company", name, city=city[0], province=city[1],
                          postcode=city[2], contacts=[contact], note="original")  # fmt: skip
        row.phones.append(("mobile", self.mobile()))
        if rng.random() < 0.5:
            row.phones.append(("phone", self.landline(city)))
        if rng.random() < 0.6:
            row.emails.append(
                f"{pinyin_of(brand).replace(' ', '').lower()}{rng.randrange(10, 999)}@{rng.choice(['163.com', 'qq.com', '126.com', 'sina.com'])}"
            )
        if rng.random() < 0.7:
            row.address = self.cn_address(city)
        if rng.random() < 0.5:
            row.tax_id = self.tax()
        if rng.random() < 0.3:
            row.postcode = None
        return row

    def latin_company(self, entity: int) -> LabelledRow:
        rng = self.rng
        city = rng.choice(LATIN_CITIES) if rng.random() < 0.6 else None
        while True:
            words = " ".join(rng.sample(LATIN_WORDS, rng.choice((2, 2, 3))))
            name = f"{words} {rng.choice(LATIN_TRADES)} {rng.choice(LATIN_FORMS)}".strip()
            if self.fresh_name(name):
                break
        row = LabelledRow(entity, "company", name, note="original")
        if city is not None:
            row.city, row.province = city[0], city[1]
            row.phones.append(("phone", city[3] + f"{rng.randrange(10**7, 10**8)}"))
            if city[2] and rng.random() < 0.7:
                row.postcode = city[2].format(rng.randrange(1, 999), rng.randrange(1, 9))
            street = f"{rng.randrange(1, 300)} {rng.choice(STREETS_EN).title()} {rng.choice(STREET_TYPES).title()}"
        else:
            cn = self.cn_place()
            row.city, row.province, row.postcode = cn[4], None, cn[2]
            row.phones.append(("mobile", self.mobile()))
            street = f"{rng.randrange(1, 300)} {rng.choice(['Nanshan', 'Futian', 'Binhai', 'Keji', 'Renmin', 'Zhongshan'])} Road"
        if rng.random() < 0.7:
            row.address = street
        domain = (
            name.split(" ")[-2].lower()[:4]
            + words.replace(" ", "").lower()
            + rng.choice([".com", ".com.sg", ".co.uk", ".de", ".hk"])
        )
        if rng.random() < 0.7:
            row.emails.append(f"{rng.choice(['info', 'sales', 'office', 'contact'])}@{domain}")
        row.contacts.append(f"{rng.choice(GIVEN_EN).title()} {rng.choice(SURNAMES_EN).title()}")
        if rng.random() < 0.3:
            row.tax_id = f"{rng.choice(['GB', 'DE', 'SG'])}{rng.randrange(10**8, 10**9)}"
        return row

    def cn_person(self, entity: int) -> LabelledRow:
        rng = self.rng
        city = self.cn_place()
        row = LabelledRow(entity, "person", self.cn_person_name(), city=city[0],
                          province=city[1], note="original")  # fmt: skip
        row.phones.append(("mobile", self.mobile()))
        if rng.random() < 0.7:
            row.birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        if rng.random() < 0.5:
            row.address = self.cn_address(city)
            row.postcode = city[2]
        if rng.random() < 0.3:
            row.emails.append(
                f"{pinyin_of(row.name).replace(' ', '').lower()}{rng.randrange(1, 99)}@{rng.choice(['163.com', 'qq.com'])}"
            )
        return row

    def latin_person(self, entity: int) -> LabelledRow:
        rng = self.rng
        city = rng.choice(LATIN_CITIES)
        given, family = rng.choice(GIVEN_EN), rng.choice(SURNAMES_EN)
        row = LabelledRow(entity, "person", f"{given.title()} {family.title()}", city=city[0],
                          province=city[1], note="original")  # fmt: skip
        row.phones.append(("mobile", city[3] + f"9{rng.randrange(10**6, 10**7)}"))
        if rng.random() < 0.6:
            row.emails.append(
                f"{given}.{family}{rng.randrange(1, 99)}@{rng.choice(['gmail.com', 'outlook.com', 'yahoo.com'])}"
            )
        if rng.random() < 0.6:
            row.birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        if rng.random() < 0.5:
            row.address = f"{rng.randrange(1, 300)} {rng.choice(STREETS_EN).title()} {rng.choice(STREET_TYPES).title()}"
        return row

    # -- hard non-duplicates --------------------------------------------------------------

    def branch_of(self, entity: int, chain: LabelledRow) -> LabelledRow:
        """Another branch of the same chain: the brand name, but its own place and numbers."""
        rng = self.rng
        row = replace(
            chain, entity=entity, phones=[], emails=[], contacts=[], tax_id=None, note="branch"
        )
        if chain.name and any(ch >= "\u4e00" for ch in chain.name):
            same_city = rng.random() < 0.3
            home = next((c for c in CITIES if c[0] == chain.city), None)
            if same_city and home is not None:
                city = home
            else:
                same_city = False
                city = rng.choice([c for c in CITIES if c[0] != chain.city])
            row.city, row.province, row.postcode = city[0], city[1], city[2]
            row.address = self.cn_address(city)
            row.phones = [("mobile", self.mobile()), ("phone", self.landline(city))]
            row.contacts = [self.cn_person_name()]
            # A Chinese company name is unique where it is registered: a second shop of
            # the chain in the same city carries its branch in the name.
            if same_city or rng.random() < 0.3:
                base = chain.name.replace(f"{chain.city}市", "") if chain.city else chain.name
                for form in ("股份有限公司", "有限责任公司", "有限公司"):
                    if base.endswith(form):
                        base = base[: -len(form)]
                where = rng.choice(DISTRICTS)[:2] if same_city else city[0]
                row.name = f"{base}（{where}分店）"
        else:
            city_row = rng.choice([c for c in LATIN_CITIES if c[0] != chain.city])
            row.city, row.province = city_row[0], city_row[1]
            if rng.random() < 0.3:
                row.name = f"{chain.name} ({city_row[0]} Branch)"
            row.phones = [("phone", city_row[3] + f"{rng.randrange(10**7, 10**8)}")]
            row.address = f"{rng.randrange(1, 300)} {rng.choice(STREETS_EN).title()} {rng.choice(STREET_TYPES).title()}"
            row.contacts = [f"{rng.choice(GIVEN_EN).title()} {rng.choice(SURNAMES_EN).title()}"]
            row.postcode = None
        if chain.tax_id:
            row.tax_id = self.tax()  # each branch its own registration
        return row

    def colleague_of(self, entity: int, person: LabelledRow) -> LabelledRow:
        """A second contact at the same company: the office's address and landline, another person."""
        rng = self.rng
        cn = any(ch >= "\u4e00" for ch in person.name)
        name = (
            self.cn_person_name()
            if cn
            else f"{rng.choice(GIVEN_EN).title()} {rng.choice(SURNAMES_EN).title()}"
        )
        city = next((c for c in CITIES if c[0] == person.city), self.cn_place())
        office = person.address or (
            self.cn_address(city)
            if cn
            else f"{rng.randrange(1, 300)} {rng.choice(STREETS_EN).title()} Road"
        )
        landline = self.landline(city)
        if not any(kind == "phone" for kind, _ in person.phones):
            person.phones.append(("phone", landline))
        else:
            landline = next(v for k, v in person.phones if k == "phone")
        person.address = office
        row = LabelledRow(entity, "person", name, phones=[("mobile", self.mobile()), ("phone", landline)],
                          city=person.city, province=person.province, address=office,
                          postcode=person.postcode, note="colleague")  # fmt: skip
        if person.emails:
            domain = person.emails[0].split("@")[1]
            row.emails = [f"{''.join(rng.sample(string.ascii_lowercase, 6))}@{domain}"]
        return row

    def relative_of(self, entity: int, person: LabelledRow) -> LabelledRow:
        """A family member: the surname, the home address and the landline, not the person."""
        rng = self.rng
        cn = any(ch >= "\u4e00" for ch in person.name)
        if cn:
            given = person.name[1:]
            while True:
                new_given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                if not set(new_given) & set(given):
                    break
            name = person.name[0] + new_given
        else:
            family = person.name.split()[-1]
            name = f"{rng.choice(GIVEN_EN).title()} {family}"
            if name == person.name:
                name = f"Oliver {family}"
        city = next((c for c in CITIES if c[0] == person.city), None)
        landline = self.landline(city) if city else f"+61 2 9{rng.randrange(10**6, 10**7)}"
        if not any(kind == "phone" for kind, _ in person.phones):
            person.phones.append(("phone", landline))
        else:
            landline = next(v for k, v in person.phones if k == "phone")
        if not person.address:
            person.address = self.cn_address(city) if city else f"{rng.randrange(1, 300)} Park Road"
        row = LabelledRow(entity, "person", name, phones=[("phone", landline)], city=person.city,
                          province=person.province, address=person.address,
                          postcode=person.postcode, note="family")  # fmt: skip
        if rng.random() < 0.7:
            row.phones.insert(0, ("mobile", self.mobile()))
        if person.birthday is not None:
            row.birthday = person.birthday + timedelta(
                days=rng.choice([-1, 1]) * rng.randrange(700, 12000)
            )
        return row

    # -- duplicates -----------------------------------------------------------------------

    def duplicate_of(self, row: LabelledRow) -> LabelledRow:
        rng = self.rng
        dup = replace(
            row, phones=list(row.phones), emails=list(row.emails), contacts=list(row.contacts)
        )
        cjk = any(ch >= "\u4e00" for ch in row.name)
        changes = rng.choice((1, 1, 2, 2, 3))
        done: list[str] = []
        edits = [
            "name",
            "form",
            "phone_format",
            "drop",
            "drop",
            "email_case",
            "address",
            "fullwidth",
            "phone_new",
        ]
        if cjk and row.kind == "company":
            edits += ["city_in_name", "city_in_name"]
        if row.kind == "person":
            edits += ["transpose"] if not cjk else ["pinyin"]
        for edit in rng.sample(edits, changes):
            if edit == "name":
                dup.name = cjk_typo(rng, dup.name) if cjk else latin_name_typo(rng, dup.name)
            elif edit == "form" and row.kind == "company":
                if cjk:
                    base = dup.name
                    for form in ("股份有限公司", "有限责任公司", "有限公司"):
                        if base.endswith(form):
                            base = base[: -len(form)]
                            break
                    dup.name = base + rng.choice(["", "有限公司", "有限责任公司"])
                else:
                    words = dup.name.split(" ")
                    while words and normalize_name(words[-1]) in (
                        "",
                        "co",
                        "ltd",
                        "limited",
                        "gmbh",
                        "inc",
                        "llc",
                        "pte",
                        "company",
                    ):
                        words.pop()
                        if len(words) <= 2:
                            break
                    dup.name = " ".join([*words, rng.choice(LATIN_FORMS)]).strip()
            elif edit == "city_in_name" and row.city:
                prefix = f"{row.city}市"
                if dup.name.startswith(prefix):
                    dup.name = dup.name[len(prefix) :]
                elif rng.random() < 0.5:
                    dup.name = prefix + dup.name
                else:
                    dup.name = (
                        dup.name.replace("有限公司", f"（{row.city}）有限公司")
                        if "有限公司" in dup.name
                        else dup.name + f"（{row.city}）"
                    )
            elif edit == "transpose":
                parts = dup.name.split(" ")
                dup.name = (
                    f"{parts[-1]}, {' '.join(parts[:-1])}"
                    if rng.random() < 0.5
                    else " ".join(reversed(parts))
                )
            elif edit == "pinyin":
                dup.name = pinyin_of(dup.name)
                if rng.random() < 0.5:
                    parts = dup.name.split(" ", 1)
                    dup.name = (
                        f"{parts[1].replace(' ', '')} {parts[0]}" if len(parts) == 2 else dup.name
                    )
            elif edit == "fullwidth":
                dup.name = fullwidth(dup.name)
                dup.phones = [(k, fullwidth(v)) for k, v in dup.phones]
            elif edit == "phone_format":
                dup.phones = [
                    (k, phone_as_typed(rng, v) if k == "mobile" and v.isdigit() else v)
                    for k, v in dup.phones
                ]
            elif edit == "email_case" and dup.emails:
                dup.emails = [e.upper() if rng.random() < 0.5 else e.title() for e in dup.emails]
            elif edit == "drop":
                present = [
                    f
                    for f in (
                        "phones",
                        "emails",
                        "address",
                        "city",
                        "birthday",
                        "tax_id",
                        "postcode",
                        "contacts",
                    )
                    if getattr(dup, f)
                ]
                if present:
                    gone = rng.choice(present)
                    if gone == "phones" and len(dup.phones) > 1:
                        dup.phones = dup.phones[:1] if rng.random() < 0.5 else dup.phones[1:]
                    else:
                        setattr(dup, gone, [] if gone in ("phones", "emails", "contacts") else None)
                    if gone == "city":
                        dup.province = None
            elif edit == "address" and dup.address:
                if cjk:
                    for prefix in (f"{row.province}省", f"{row.city}市"):
                        dup.address = dup.address.replace(prefix, "")
                    if rng.random() < 0.4:
                        dup.address = (
                            dup.address.replace("号", "號")
                            if rng.random() < 0.2
                            else dup.address + " "
                        )
                else:
                    for long, short in (
                        ("Street", "St"),
                        ("Road", "Rd"),
                        ("Avenue", "Ave"),
                        ("Drive", "Dr"),
                    ):
                        dup.address = dup.address.replace(long, short)
                    if rng.random() < 0.3:
                        dup.address = latin_name_typo(rng, dup.address)
            elif edit == "phone_new" and dup.phones:
                kind, _value = dup.phones[0]
                if kind == "mobile" and not cjk and row.kind == "person":
                    continue
                dup.phones[0] = (
                    (kind, self.mobile()) if kind == "mobile" else (kind, dup.phones[0][1])
                )
            done.append(edit)
        dup.note = "duplicate: " + ", ".join(done)
        return dup


def book_rows(
    count: int, *, duplicate_share: float = 0.10, hard_share: float = 0.06, seed: int = 20261123
) -> list[LabelledRow]:
    """About ``count`` rows; ``duplicate_share`` of them are duplicates of another row."""
    book = _Book(seed)
    rng = book.rng
    rows: list[LabelledRow] = []
    entity = 0
    while len(rows) < count:
        entity += 1
        roll = rng.random()
        if roll < 0.45:
            row = book.cn_company(entity)
        elif roll < 0.7:
            row = book.latin_company(entity)
        elif roll < 0.88:
            row = book.cn_person(entity)
        else:
            row = book.latin_person(entity)
        rows.append(row)
        if rng.random() < hard_share:
            entity += 1
            if row.kind == "company":
                rows.append(book.branch_of(entity, row))
            elif rng.random() < 0.5:
                rows.append(book.colleague_of(entity, row))
            else:
                rows.append(book.relative_of(entity, row))
        if rng.random() < duplicate_share / (1 - duplicate_share):
            rows.append(book.duplicate_of(row))
            if rng.random() < 0.15:
                rows.append(book.duplicate_of(row))
    rng.shuffle(rows)
    return rows[:count]


# -- the FEBRL-like set ---------------------------------------------------------------------

_OCR = {
    "0": "o",
    "1": "l",
    "5": "s",
    "8": "b",
    "m": "rn",
    "rn": "m",
    "cl": "d",
    "d": "cl",
    "g": "q",
    "q": "g",
    "u": "v",
    "v": "u",
    "h": "b",
    "i": "l",
}
_PHONETIC = [
    ("ph", "f"),
    ("f", "ph"),
    ("c", "k"),
    ("k", "c"),
    ("ee", "ea"),
    ("ea", "ee"),
    ("y", "ie"),
    ("ie", "y"),
    ("th", "t"),
    ("ck", "k"),
    ("ou", "ow"),
    ("ll", "l"),
    ("nn", "n"),
    ("s", "z"),
    ("z", "s"),
    ("mc", "mac"),
]


@dataclass
class FebrlRecord:
    rec_id: str
    given_name: str
    surname: str
    street_number: str
    address_1: str
    address_2: str
    suburb: str
    postcode: str
    state: str
    date_of_birth: str
    soc_sec_id: str
    entity: int

    def cells(self) -> list[str]:
        return [self.rec_id, self.given_name, self.surname, self.street_number, self.address_1,
                self.address_2, self.suburb, self.postcode, self.state, self.date_of_birth,
                self.soc_sec_id]  # fmt: skip


FEBRL_HEADER = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2",
                "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"]  # fmt: skip
_FEBRL_FIELDS = FEBRL_HEADER[1:]


def _zipf_choice(rng: random.Random, pool: Sequence[str]) -> str:
    # Common names are much more common: a few smiths, many rare names.
    index = min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1)
    return pool[index] if rng.random() < 0.5 else rng.choice(pool)


def _febrl_modify(rng: random.Random, value: str, field_name: str) -> str:
    if not value:
        return value
    kind = rng.random()
    if field_name in ("date_of_birth", "soc_sec_id", "postcode", "street_number"):
        digits = list(value)
        if kind < 0.5 and len(digits) > 1:
            i = rng.randrange(len(digits) - 1)
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        else:
            i = rng.randrange(len(digits))
            digits[i] = rng.choice("0123456789")
        return "".join(digits)
    if kind < 0.55:
        return typo(rng, value)
    if kind < 0.7:
        for wrong, right in rng.sample(list(_OCR.items()), len(_OCR)):
            if wrong in value:
                return value.replace(wrong, right, 1)
        return typo(rng, value)
    if kind < 0.85:
        for wrong, right in rng.sample(_PHONETIC, len(_PHONETIC)):
            if wrong in value:
                return value.replace(wrong, right, 1)
        return typo(rng, value)
    if " " in value:
        return value.replace(" ", "", 1)  # words run together
    if len(value) > 5:
        i = rng.randrange(2, len(value) - 2)
        return value[:i] + " " + value[i:]  # a word split
    return typo(rng, value)


def febrl_records(originals: int, duplicates: int, *, seed: int = 4, max_per_original: int = 5,
                  max_modifications: int = 3) -> list[FebrlRecord]:  # fmt: skip
    """``originals`` people and ``duplicates`` more records of some of them, FEBRL-style."""
    rng = random.Random(seed)
    records: list[FebrlRecord] = []
    for n in range(originals):
        born = date(1910, 1, 1) + timedelta(days=rng.randrange(33000))
        street_type = rng.choice(STREET_TYPES)
        record = FebrlRecord(
            rec_id=f"rec-{n}-org",
            given_name=_zipf_choice(rng, GIVEN_EN) if rng.random() > 0.02 else "",
            surname=_zipf_choice(rng, SURNAMES_EN) if rng.random() > 0.01 else "",
            street_number=str(rng.randrange(1, 400)) if rng.random() > 0.05 else "",
            address_1=f"{rng.choice(STREETS_EN)} {street_type}" if rng.random() > 0.02 else "",
            address_2=rng.choice(BUILDINGS),
            suburb=rng.choice(SUBURBS) if rng.random() > 0.02 else "",
            postcode=str(rng.randrange(2000, 7000)),
            state=rng.choice(STATES),
            date_of_birth=born.strftime("%Y%m%d") if rng.random() > 0.05 else "",
            soc_sec_id=str(rng.randrange(1_000_000, 9_999_999)),
            entity=n,
        )
        records.append(record)
    made = 0
    while made < duplicates:
        original = rng.choice(records[:originals])
        count = min(rng.randint(1, max_per_original), duplicates - made)
        for k in range(count):
            dup = replace(original, rec_id=f"rec-{original.entity}-dup-{k}-{made}")
            for _ in range(rng.randint(1, max_modifications)):
                roll = rng.random()
                if roll < 0.12:
                    dup.given_name, dup.surname = dup.surname, dup.given_name
                elif roll < 0.3:
                    name = rng.choice(
                        [f for f in _FEBRL_FIELDS if getattr(dup, f)] or ["address_2"]
                    )
                    setattr(dup, name, "")
                elif roll < 0.36 and dup.address_1:
                    words = dup.address_1.split()
                    short = {
                        "street": "st",
                        "road": "rd",
                        "avenue": "ave",
                        "place": "pl",
                        "crescent": "cres",
                        "drive": "dr",
                        "court": "ct",
                        "lane": "ln",
                        "parade": "pde",
                        "close": "cl",
                    }
                    if words and words[-1] in short:
                        words[-1] = short[words[-1]]
                    dup.address_1 = " ".join(words)
                else:
                    name = rng.choice(_FEBRL_FIELDS)
                    setattr(dup, name, _febrl_modify(rng, getattr(dup, name), name))
            records.append(dup)
            made += 1
    rng.shuffle(records)
    return records


def _import_date(text: str) -> date | None:
    """The date of birth as the import reads it; ValueError when it would refuse the row."""
    from smbcrm.services.importing.values import ValueProblem, parse_date

    try:
        return parse_date(text) if text else None
    except ValueProblem as exc:
        raise ValueError(str(exc)) from None


def febrl_rows(
    originals: int = 3000, duplicates: int = 1000, *, seed: int = 4
) -> list[LabelledRow]:
    """The FEBRL-like records as smbcrm's import makes customers of them.

    Records the import refuses (no name at all, a date of birth that is no date) are left
    out, as an import leaves them out of the book.
    """
    rows = (febrl_to_row(r) for r in febrl_records(originals, duplicates, seed=seed))
    return [row for row in rows if row is not None]


def join_address(parts: Iterable[str]) -> str:
    """Street number, address line 1 and 2 as the import joins them."""
    from smbcrm.services.importing.plan import join_address_parts

    return join_address_parts([p for p in parts if p])


def febrl_to_row(record: FebrlRecord) -> LabelledRow | None:
    name = " ".join(p for p in (record.given_name, record.surname) if p)
    try:
        birthday = _import_date(record.date_of_birth)
    except ValueError:
        return None
    if not name:
        return None
    return LabelledRow(
        entity=record.entity,
        kind="person",
        name=name,
        city=record.suburb or None,
        province=record.state or None,
        address=join_address([record.street_number, record.address_1, record.address_2]) or None,
        postcode=record.postcode or None,
        birthday=birthday,
        tax_id=record.soc_sec_id or None,
        note=record.rec_id,
    )


def write_febrl_csv(path: Path, records: Sequence[FebrlRecord]) -> Path:
    """The records as a FEBRL CSV file (values after a comma and a space, as FEBRL writes)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FEBRL_HEADER)
        for record in records:
            writer.writerow(record.cells())
    return path


# -- into the duplicate finder, into a book ----------------------------------------------------


def _points(row: LabelledRow, region: str = "CN") -> list[PointData]:
    points = []
    for n, (kind, value) in enumerate(row.phones):
        point_kind = ContactPointKind.MOBILE if kind == "mobile" else ContactPointKind.PHONE
        points.append(PointData(point_kind, value, point_key(point_kind, value, region), n == 0))
    for n, value in enumerate(row.emails):
        points.append(
            PointData(
                ContactPointKind.EMAIL,
                value,
                point_key(ContactPointKind.EMAIL, value, region),
                n == 0,
            )
        )
    return points


def to_record(customer_id: int, row: LabelledRow, region: str = "CN") -> IdentityRecord:
    """The record the finder would load for ``row`` from the database."""
    phones: dict[str, bool] = {}
    emails: list[str] = []
    for point in _points(row, region):
        if point.key is None:
            continue
        if point.kind == ContactPointKind.EMAIL:
            emails.append(point.key)
        else:
            phones[point.key] = (
                phones.get(point.key, False)
                or point.kind == ContactPointKind.MOBILE
                or is_mobile_key(point.key)
            )
    return make_record(
        customer_id,
        kind=row.kind,
        name=row.name,
        phones=phones,
        emails=emails,
        tax=normalize_key_text(row.tax_id) or None,
        birthday=row.birthday,
        address=row.address,
        postcode=row.postcode,
        city=row.city,
        province=row.province,
        contacts=[normalize_name(c) for c in row.contacts],
    )


def customer_values(row: LabelledRow, region: str = "CN") -> tuple[dict[str, Any], list[PointData]]:
    points = _points(row, region)
    values: dict[str, Any] = {
        "kind": row.kind,
        "name": row.name,
        "status": "active",
        "birthday": row.birthday,
        "tax_id": row.tax_id,
        "province": row.province,
        "city": row.city,
        "address": row.address,
        "postcode": row.postcode,
        "custom_fields": {},
        "version": 1,
    }
    values.update(customer_keys(row.name, row.tax_id, row.city))
    values.update(
        customer_list_columns(
            row.name,
            city=row.city,
            district=None,
            province=row.province,
            points=points,
            contacts=[ContactData(c, n == 0) for n, c in enumerate(row.contacts)],
            external_keys=[],
        )
    )
    return values, points


def insert_rows(db: Database, rows: Sequence[LabelledRow], chunk: int = 5000) -> list[int]:
    """Write ``rows`` as customers (bulk inserts, derived columns as smbcrm computes them).

    Returns the new customers' ids in the order of ``rows``. Works on SQLite and PostgreSQL.
    """
    from smbcrm.models import Contact

    region = db.default_region()
    ids: list[int] = []
    customers = Customer.__table__
    with db.engine.begin() as connection:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            prepared = [customer_values(row, region) for row in part]
            result = connection.execute(
                insert(customers).returning(customers.c.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
                [values for values, _points in prepared],
            )
            new_ids = [row_id for (row_id,) in result]
            ids.extend(new_ids)
            point_rows = [
                {
                    "customer_id": cid,
                    "kind": p.kind.value,
                    "value": p.value,
                    "key": p.key,
                    "is_primary": p.is_primary,
                }
                for cid, (_values, points) in zip(new_ids, prepared, strict=True)
                for p in points
            ]
            if point_rows:
                connection.execute(insert(ContactPoint.__table__), point_rows)  # type: ignore[arg-type]
            contact_rows = [
                {
                    "customer_id": cid,
                    "name": name,
                    "name_key": normalize_name(name),
                    "is_primary": n == 0,
                }
                for cid, row in zip(new_ids, part, strict=True)
                for n, name in enumerate(row.contacts)
            ]
            if contact_rows:
                connection.execute(insert(Contact.__table__), contact_rows)  # type: ignore[arg-type]
    return ids


# -- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def accuracy(found: Iterable[tuple[int, int]], truth: set[tuple[int, int]]) -> Accuracy:
    pairs = {(min(a, b), max(a, b)) for a, b in found}
    hits = len(pairs & truth)
    return Accuracy(hits, len(pairs) - hits, len(truth) - hits)
