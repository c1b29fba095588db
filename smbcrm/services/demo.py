"""The demo company: a realistic small trading business to explore smbcrm with.

``create_demo_company`` fills an empty database with staff, customers and prospects,
three years of orders with lines, conversations and follow-up tasks — including the
situations the app exists for: a salesperson who left (his book handed over to
colleagues), customers quietly slipping away, prospects from a trade-show list that
duplicate existing customers. The CLI (``smbcrm demo``), the app's first-run "open the
demo company" button and the benchmarks all call it.

Speed: the default size (2,000 customers, 20,000 orders) is written with Core bulk
inserts in one transaction; per-object ORM flushes would be several times slower. The
derived columns that the flush hook (``smbcrm.models.events``) computes for ORM writes
are computed here by the same functions (``smbcrm.models.derived``), so the stored match
keys and search text are exactly what an ORM write would have stored.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from smbcrm.errors import ValidationError
from smbcrm.models import (
    Activity,
    ActivityKind,
    AssignmentChange,
    Base,
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerStatus,
    Database,
    ExternalId,
    FollowUp,
    Order,
    OrderLine,
    Role,
    Setting,
    Tag,
    Tier,
    User,
    customer_tags,
    customer_team,
)
from smbcrm.models.bulk import next_new_id
from smbcrm.models.derived import (
    ContactData,
    PointData,
    customer_keys,
    customer_list_columns,
    point_key,
)
from smbcrm.models.keys import normalize_key_text, normalize_name
from smbcrm.models.settings import COMPANY_NAME, DEMO_COMPANY
from smbcrm.models.settings import DEFAULT_REGION as REGION_KEY
from smbcrm.services import auth, currencies
from smbcrm.services.progress import Progress

__all__ = [
    "DEMO_COMPANY_NAME",
    "DEMO_OWNER_LOGIN",
    "DEMO_PASSWORD",
    "DemoSummary",
    "create_demo_company",
]

DEMO_PASSWORD = "demo1234"  # every demo account
DEMO_OWNER_LOGIN = "wang.fang"  # the owner the app signs in as
DEMO_COMPANY_NAME = "华信商贸 Huaxin Trading (demo)"
ERP_SYSTEM = "erp"
PROSPECT_LIST_SYSTEM = "prospects-2024"

_REGION = "CN"
_MIN_CUSTOMERS = 20
_T = TypeVar("_T")


@dataclass(frozen=True)
class DemoSummary:
    company: str
    staff: int
    customers: int
    prospects: int
    orders: int
    activities: int
    follow_ups: int
    owner_login: str


# ---------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Compact word lists: data tables stay readable at a glance."""
    return tuple(text.split(sep))


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Pairs written "华强:huaqiang 绿源:lvyuan" → (("华强", "huaqiang"), ("绿源", "lvyuan"))."""
    return tuple((word.split(":")[0], word.split(":")[1]) for word in text.split())


@dataclass(frozen=True)
class _Staff:
    login: str
    full_name: str
    pinyin: str  # for the handover reason, readable by English speakers too
    role: Role
    phone: str


_STAFF: tuple[_Staff, ...] = (
    _Staff("wang.fang", "王芳", "Wang Fang", Role.OWNER, "+86 138 2651 0001"),
    _Staff("li.ming", "李明", "Li Ming", Role.MANAGER, "+86 138 2651 0002"),
    _Staff("zhang.wei", "张伟", "Zhang Wei", Role.SALES, "+86 139 2651 0003"),
    _Staff("chen.jing", "陈静", "Chen Jing", Role.SALES, "+86 139 2651 0004"),
    _Staff("tom.baker", "Tom Baker", "Tom Baker", Role.SALES, "+86 186 2651 0005"),
    _Staff("liu.yang", "刘洋", "Liu Yang", Role.SALES, "+86 186 2651 0006"),
    _Staff("zhao.li", "赵丽", "Zhao Li", Role.BOOKKEEPER, "+86 137 2651 0007"),
)
_LEAVER = "liu.yang"
_COMPANY_DOMAIN = "huaxin-trading.cn"
_LEFT_DAYS_AGO = 40  # recent enough that the handed-over book is worth watching


@dataclass(frozen=True)
class _Place:
    city: str
    province: str | None
    country: str
    districts: tuple[str, ...]
    postcode: str  # China: the city's base code; abroad: a pattern, '#' = a digit
    area_code: str  # China: the landline area code with trunk 0 ("0755")
    local_digits: int  # China: digits of a landline after the area code
    admin_code: str  # China: the region part of a 统一社会信用代码
    region: str  # the region tag
    weight: int
    currency: str = "CNY"
    landline: str = ""  # abroad: phone patterns, always international ('#' = a digit)
    mobile: str = ""
    streets: tuple[str, ...] = ()
    tax_pattern: str = ""  # abroad: VAT / UEN pattern ('#' = a digit)

    @property
    def in_china(self) -> bool:
        return self.country == "中国"


def _cn(
    city: str,
    province: str,
    districts: str,
    postcode: str,
    area: str,
    admin: str,
    region: str,
    weight: int,
    digits: int = 8,
) -> _Place:
    return _Place(
        city, province, "中国", tuple(districts.split()), postcode, area, digits, admin, region,
        weight,
    )  # fmt: skip


_CN_PLACES: tuple[_Place, ...] = (
    _cn(
        "深圳市",
        "广东省",
        "南山区 福田区 罗湖区 宝安区 龙岗区 龙华区",
        "518000",
        "0755",
        "440300",
        "华南",
        14,
    ),
    _cn(
        "广州市",
        "广东省",
        "天河区 越秀区 海珠区 白云区 番禺区",
        "510000",
        "020",
        "440100",
        "华南",
        10,
    ),
    _cn("东莞市", "广东省", "长安镇 虎门镇 松山湖 南城街道", "523000", "0769", "441900", "华南", 6),
    _cn("佛山市", "广东省", "禅城区 南海区 顺德区", "528000", "0757", "440600", "华南", 5),
    _cn(
        "上海市",
        "上海市",
        "浦东新区 闵行区 徐汇区 静安区 嘉定区 松江区",
        "200000",
        "021",
        "310000",
        "华东",
        12,
    ),
    _cn(
        "北京市",
        "北京市",
        "朝阳区 海淀区 丰台区 东城区 大兴区",
        "100000",
        "010",
        "110000",
        "华北",
        7,
    ),
    _cn(
        "杭州市",
        "浙江省",
        "西湖区 上城区 滨江区 萧山区 余杭区",
        "310000",
        "0571",
        "330100",
        "华东",
        8,
    ),
    _cn("宁波市", "浙江省", "鄞州区 海曙区 北仑区 江北区", "315000", "0574", "330200", "华东", 5),
    _cn("义乌市", "浙江省", "稠城街道 北苑街道 佛堂镇", "322000", "0579", "330782", "华东", 5),
    _cn("温州市", "浙江省", "鹿城区 瓯海区 龙湾区", "325000", "0577", "330300", "华东", 3),
    _cn("苏州市", "江苏省", "姑苏区 工业园区 吴中区 相城区", "215000", "0512", "320500", "华东", 7),
    _cn("南京市", "江苏省", "鼓楼区 玄武区 江宁区 秦淮区", "210000", "025", "320100", "华东", 4),
    _cn("无锡市", "江苏省", "梁溪区 滨湖区 新吴区", "214000", "0510", "320200", "华东", 3),
    _cn("厦门市", "福建省", "思明区 湖里区 集美区", "361000", "0592", "350200", "华东", 3, 7),
    _cn("泉州市", "福建省", "丰泽区 鲤城区 晋江市", "362000", "0595", "350500", "华东", 2),
    _cn("青岛市", "山东省", "市南区 崂山区 黄岛区 李沧区", "266000", "0532", "370200", "华东", 3),
    _cn("济南市", "山东省", "历下区 槐荫区 市中区", "250000", "0531", "370100", "华东", 2),
    _cn("合肥市", "安徽省", "蜀山区 包河区 庐阳区", "230000", "0551", "340100", "华东", 2),
    _cn("天津市", "天津市", "和平区 河西区 滨海新区 南开区", "300000", "022", "120000", "华北", 3),
    _cn("成都市", "四川省", "武侯区 锦江区 高新区 青羊区", "610000", "028", "510100", "西南", 5),
    _cn("重庆市", "重庆市", "渝中区 江北区 南岸区 渝北区", "400000", "023", "500000", "西南", 3),
    _cn("昆明市", "云南省", "五华区 盘龙区 官渡区", "650000", "0871", "530100", "西南", 1),
    _cn("武汉市", "湖北省", "江汉区 武昌区 洪山区 汉阳区", "430000", "027", "420100", "华中", 4),
    _cn("长沙市", "湖南省", "岳麓区 芙蓉区 开福区 雨花区", "410000", "0731", "430100", "华中", 3),
    _cn("郑州市", "河南省", "金水区 中原区 二七区", "450000", "0371", "410100", "华中", 2),
    _cn("西安市", "陕西省", "雁塔区 碑林区 未央区", "710000", "029", "610100", "西北", 2),
    _cn("沈阳市", "辽宁省", "和平区 沈河区 铁西区", "110000", "024", "210100", "东北", 1),
)

_OVERSEAS = "海外 Overseas"
_ABROAD: tuple[_Place, ...] = (
    _Place(
        "Singapore", None, "Singapore", ("Jurong", "Tampines", "Raffles Place", "Woodlands"),
        "######", "", 0, "", _OVERSEAS, 20, "USD",
        landline="+65 6### ####", mobile="+65 9### ####",
        streets=("Anson Road", "Jurong West Street", "Tampines Avenue", "Woodlands Loop"),
        tax_pattern="20#######K",
    ),
    _Place(
        "Hamburg", "Hamburg", "Germany", ("Altona", "HafenCity", "Wandsbek", "Harburg"),
        "2####", "", 0, "", _OVERSEAS, 15, "EUR",
        landline="+49 40 #### ####", mobile="+49 151 #### ####",
        streets=("Große Elbstraße", "Am Sandtorkai", "Wandsbeker Chaussee", "Hafenstraße"),
        tax_pattern="DE#########",
    ),
    _Place(
        "London", "England", "United Kingdom", ("Canary Wharf", "Shoreditch", "Southwark"),
        "E14 #AB", "", 0, "", _OVERSEAS, 15, "GBP",
        landline="+44 20 7946 0###", mobile="+44 7911 ######",
        streets=("Canada Square", "Commercial Street", "Borough High Street", "Old Street"),
        tax_pattern="GB#########",
    ),
)  # fmt: skip

_ALL_PLACES = _CN_PLACES + _ABROAD
_CN_WEIGHTS = tuple(p.weight for p in _CN_PLACES)
_ALL_WEIGHTS = tuple(p.weight for p in _ALL_PLACES)

# CNY per unit of each currency: a price abroad is the catalogue price divided by the rate.
_CNY_PER: dict[str, float] = {"CNY": 1.0, "USD": 7.2, "EUR": 7.8, "GBP": 9.1}

_ROADS = _words(
    "人民路 中山路 解放路 建设路 和平路 新华路 工业大道 科技路 长江路 黄河路 滨江大道 文化路 "
    "花园路 东风路 创业路 商业街 高新大道 迎宾路 世纪大道 振兴路"
)
_BUILDINGS = _words("国际大厦 商务中心 创业园 科技园 工业园 中心大厦 广场 商贸城")

# 字号 (trade name) with pinyin, for the company's e-mail domain.
_ZIHAO: tuple[tuple[str, str], ...] = _pairs(
    "华强:huaqiang 绿源:lvyuan 鑫达:xinda 宏图:hongtu 恒通:hengtong 金鹏:jinpeng 顺发:shunfa "
    "永盛:yongsheng 天成:tiancheng 瑞丰:ruifeng 福源:fuyuan 嘉禾:jiahe 东方:dongfang "
    "新星:xinxing 博远:boyuan 汇通:huitong 德信:dexin 佳美:jiamei 盛世:shengshi 锦程:jincheng "
    "海纳:haina 远航:yuanhang 启明:qiming 明辉:minghui 隆昌:longchang 万利:wanli 聚宝:jubao "
    "恒昌:hengchang 安达:anda 宏远:hongyuan 华美:huamei 兴旺:xingwang 百川:baichuan "
    "润泽:runze 祥和:xianghe 宝丰:baofeng 凯旋:kaixuan 通达:tongda 昌盛:changsheng "
    "天宇:tianyu 众诚:zhongcheng 利民:limin 宏达:hongda 康源:kangyuan 国泰:guotai "
    "鼎盛:dingsheng 俊发:junfa 泰和:taihe 亿家:yijia 益丰:yifeng 鸿运:hongyun 明珠:mingzhu "
    "中联:zhonglian 丰华:fenghua 立信:lixin 金诚:jincheng 源丰:yuanfeng 海川:haichuan "
    "德润:derun 乐家:lejia"
)
_TRADES: tuple[tuple[str, str], ...] = _pairs(
    "电子:dz 茶业:tea 五金:wj 纺织:fz 贸易:trade 机械:jx 包装:pack 食品:food 化工:hg "
    "照明:led 塑胶:sj 家具:jj 建材:jc 服饰:fs 医疗器械:med 汽车配件:auto 办公用品:office "
    "酒店用品:hotel 陶瓷:tc 印刷:print 科技:tech 电器:dq 进出口:imex 商贸:sm 日用品:ryp"
)
_CN_SUFFIXES = ("有限公司", "有限责任公司", "股份有限公司", "商行", "经营部", "贸易商行")
_CN_SUFFIX_WEIGHTS = (72, 8, 4, 8, 5, 3)

_SURNAMES: tuple[tuple[str, str], ...] = _pairs(
    "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou 徐:xu "
    "孙:sun 马:ma 朱:zhu 胡:hu 郭:guo 何:he 高:gao 林:lin 罗:luo 郑:zheng 梁:liang 谢:xie "
    "宋:song 唐:tang 许:xu 韩:han 冯:feng 邓:deng 曹:cao 彭:peng 曾:zeng 肖:xiao 田:tian "
    "董:dong 袁:yuan 潘:pan 蒋:jiang 蔡:cai 余:yu 杜:du 叶:ye 程:cheng 苏:su 魏:wei 吕:lv "
    "丁:ding 沈:shen 姚:yao 卢:lu 钟:zhong 欧阳:ouyang"
)
# The ten commonest surnames cover about half of all people.
_SURNAME_WEIGHTS = tuple(8 if i < 10 else 2 for i in range(len(_SURNAMES)))
_GIVEN: tuple[tuple[str, str], ...] = _pairs(
    "伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong "
    "艳:yan 杰:jie 娟:juan 涛:tao 明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang 英:ying "
    "华:hua 建:jian 国:guo 文:wen 辉:hui 玲:ling 红:hong 志:zhi 海:hai 晓:xiao 燕:yan "
    "鹏:peng 宇:yu 婷:ting 雪:xue 琳:lin 浩:hao 欣:xin 怡:yi 俊:jun 鑫:xin 斌:bin 峰:feng "
    "波:bo 凯:kai 佳:jia 梅:mei 春:chun 东:dong 亮:liang 成:cheng 慧:hui 倩:qian 蕾:lei"
)
_EN_FIRST = _words(
    "James Mary John Emma Oliver Sophie David Sarah Michael Laura Daniel Chloe Thomas Hannah "
    "Peter Lucy Andrew Grace Mark Emily Chris Anna Richard Kate Ben Julia Lukas Mia Felix Lena "
    "Henry Olivia Jack Amelia Samuel Ella Ryan Zoe Adam Nina"
)
_EN_LAST = _words(
    "Smith Johnson Brown Taylor Wilson Davies Evans Walker Wright Green Hall Wood Clarke Hughes "
    "Müller Schmidt Fischer Weber Becker Tan Lim Ng Wong Lee Chua O'Brien Murphy Baker Turner "
    "Parker Collins Morgan Cooper Ward Bennett Foster Hartmann Koch Richter"
)
_LATIN_PREFIXES = _words(
    "Harbor Lights|Blue Ocean|Golden Bridge|Silver Peak|Pacific Rim|Eastern Star|Red Maple|"
    "Jade River|Summit|Crown|Bright Way|Dragon Gate|Northstar|Evergreen|Lighthouse|Anchor|"
    "Keystone|Meridian|Orchid|Phoenix|Sterling|Horizon|Atlas|Bluebird|Cedar|Falcon|Granite|"
    "Ivory|Lotus|Magnolia|Oakridge|Pioneer|Riverside|Sunrise|Trident|Unity|Vantage|Willow|"
    "Zenith|Lion City|Merlion|Straits",
    sep="|",
)
_LATIN_BUSINESS = _words(
    "Trading|Supplies|Imports|Electronics|Home Goods|Hardware|Packaging|Textiles|Lighting|"
    "Logistics|Industrial|Office Supply|Tea|Hospitality Supply|Retail",
    sep="|",
)
_LATIN_EXTRA = (" International", " Global", " Asia", " Group", " Holdings")
_GERMAN_PREFIXES = _words(
    "Nordwind Elbtal Hanse Alster Seehafen Kranich Möwe Sturmvogel Nordlicht Speicherstadt "
    "Elbblick Fleetwerk"
)
_GERMAN_BUSINESS = ("", " Handels", " Import", " Technik", " Logistik", " Werkzeuge", " Licht")

_SOURCES = (
    "展会 Trade show",
    "老客户介绍 Referral",
    "网站 Website",
    "电话开发 Cold call",
    "阿里巴巴 Alibaba",
    "上门拜访 Walk-in",
    "广告 Advertising",
    None,  # old records: nobody wrote it down
)
_SOURCE_WEIGHTS = (20, 15, 15, 12, 12, 6, 5, 15)
_REFERRAL = _SOURCES[1]
_TRADE_SHOW = _SOURCES[0]

_TAG_VIP = "VIP"
_TAGS_BUSINESS = ("wholesale", "retail", "distributor", "export")
_TAG_PRICE = "价格敏感 price-sensitive"
_TAG_MONTHLY = "月结 monthly billing"

_CN_TITLES = ("总经理", "采购经理", "采购", "老板", "财务", "业务经理", "店长", "副总经理")
_CN_DEPARTMENTS = ("采购部", "财务部", "总经办", None, None)
_EN_TITLES = (
    "Purchasing Manager", "Managing Director", "Owner", "Buyer", "Accounts Payable",
    "Operations Manager",
)  # fmt: skip
_EN_DEPARTMENTS = ("Purchasing", "Finance", "Management", None, None)

# A trading company's catalogue: name (Chinese, English), SKU, price in CNY cents.
_PRODUCTS: tuple[tuple[str, str, str, int], ...] = (
    ("LED 平板灯 600×600 36W", "LED panel light 600×600 36W", "LED-P6036", 6800),
    ("LED 球泡灯 E27 9W", "LED bulb E27 9W", "LED-B0927", 680),
    ("太阳能庭院灯", "solar garden light", "LED-SG01", 4500),
    ("不锈钢保温杯 500ml", "stainless steel vacuum flask 500 ml", "CUP-SS500", 3550),
    ("陶瓷马克杯 350ml", "ceramic mug 350 ml", "CER-MG350", 1250),
    ("USB-C 数据线 1m", "USB-C cable 1 m", "CBL-C100", 980),
    ("蓝牙耳机 TWS-5", "TWS-5 Bluetooth earbuds", "AUD-TWS5", 8900),
    ("移动电源 10000mAh", "power bank 10000 mAh", "ELC-PB10", 5900),
    ("插线板 6位 3m", "6-socket power strip 3 m", "ELC-PS63", 3200),
    ("A4 复印纸 70g (5包/箱)", "A4 copy paper 70 g (box of 5 reams)", "PAP-A470", 11800),
    (
        "不干胶标签 100×150 (500张/卷)",
        "self-adhesive labels 100×150 (roll of 500)",
        "LBL-10015",
        2200,
    ),
    ("乳胶手套 (100只/盒)", "latex gloves (box of 100)", "GLV-L100", 2600),
    ("食品级 PE 手套 (1000只)", "food-grade PE gloves (1000)", "FD-PE1000", 1500),
    ("PP 打包带 (卷)", "PP strapping (roll)", "PKG-PP01", 4500),
    ("五层瓦楞纸箱 60×40×40", "5-ply carton 60×40×40", "PKG-BOX64", 650),
    ("透明胶带 48mm (36卷/箱)", "clear tape 48 mm (case of 36)", "PKG-TP48", 8600),
    ("无纺布购物袋", "non-woven shopping bag", "PKG-NW01", 120),
    ("手持封箱器", "hand tape dispenser", "PKG-TD01", 2800),
    ("电动螺丝刀套装", "electric screwdriver set", "TL-ESD01", 15900),
    ("不锈钢合页 4寸", "4-inch stainless hinge", "HW-HG04", 320),
    ("膨胀螺丝 M8 (100只)", "M8 expansion bolts (100)", "HW-EB08", 1800),
    ("西湖龙井 250g 礼盒", "West Lake Longjing tea 250 g gift box", "TEA-LJ250", 26800),
    ("普洱茶饼 357g", "Pu'er tea cake 357 g", "TEA-PE357", 12800),
    ("纯棉毛巾 (12条/包)", "cotton towels (pack of 12)", "TX-TW12", 9600),
    ("酒店一次性拖鞋 (100双)", "hotel slippers (100 pairs)", "HTL-SL100", 8500),
    ("不锈钢餐具套装 24件", "24-piece stainless cutlery set", "HTL-CT24", 13800),
    ("人体工学办公椅", "ergonomic office chair", "FUR-CH01", 39900),
    ("折叠会议桌 1.8m", "folding meeting table 1.8 m", "FUR-TB18", 56000),
    ("工业吸尘器 30L", "industrial vacuum cleaner 30 L", "MCH-VC30", 68000),
    ("橄榄油 1L", "olive oil 1 L", "FD-OO1L", 7800),
)

# Conversation templates: (subject, body); {c} = contact, {p} = product.
_Template = tuple[str, str]
_ACTIVITY_TEXT: dict[bool, dict[ActivityKind, tuple[_Template, ...]]] = {
    True: {
        ActivityKind.CALL: (
            ("电话回访", "与{c}通话，了解近期{p}用量，对方表示下周补货。"),
            ("催款电话", "提醒{c}上月货款尚未结清，对方答应本周安排付款。"),
            ("确认订单", "电话确认{p}的数量和交期，{c}要求月底前到货。"),
        ),
        ActivityKind.VISIT: (
            ("上门拜访", "拜访{c}，介绍新款{p}，留下样品。"),
            ("季度拜访", "与{c}面谈，回顾本季度合作情况，客户整体满意。"),
        ),
        ActivityKind.EMAIL: (
            ("发送报价单", "已通过邮件发送{p}报价单给{c}。"),
            ("发送产品目录", "发送最新产品目录和价格表，请{c}转给老板。"),
        ),
        ActivityKind.MESSAGE: (
            ("微信沟通", "{c}微信询问{p}的库存和交期。"),
            ("微信发图", "给{c}发了{p}的实拍图和包装图。"),
        ),
        ActivityKind.MEETING: (("年度合作洽谈", "与{c}商谈明年框架协议和返点政策。"),),
        ActivityKind.NOTE: (
            ("客户备注", "{c}负责采购，喜欢微信沟通，一般月底付款。"),
            ("信息更新", "客户搬到新地址，已更新资料。"),
        ),
        ActivityKind.COMPLAINT: (
            ("发货延迟", "{c}反映上批{p}晚到三天，已协调仓库加急并致歉。"),
            ("质量问题", "{c}反映部分{p}有破损，已安排补发。"),
        ),
    },
    False: {
        ActivityKind.CALL: (
            (
                "Follow-up call",
                "Spoke with {c} about their {p} stock; they will reorder next week.",
            ),
            (
                "Payment reminder",
                "Reminded {c} that last month's invoice is open; promised payment this week.",
            ),
            ("Order confirmation", "Confirmed quantities and delivery date for {p} with {c}."),
        ),
        ActivityKind.VISIT: (
            ("Site visit", "Visited {c}, presented the new {p} and left samples."),
            ("Quarterly review", "Met {c} to review the quarter; overall satisfied."),
        ),
        ActivityKind.EMAIL: (
            ("Quote sent", "Sent the {p} quotation to {c} by e-mail."),
            ("Catalogue sent", "Sent the new catalogue and price list to {c}."),
        ),
        ActivityKind.MESSAGE: (
            ("WhatsApp chat", "{c} asked about {p} stock and lead time."),
            ("Photos sent", "Sent {c} product and packaging photos of {p}."),
        ),
        ActivityKind.MEETING: (
            ("Annual agreement", "Discussed next year's terms and rebates with {c}."),
        ),
        ActivityKind.NOTE: (
            ("Note", "{c} handles purchasing, prefers e-mail, usually pays at month end."),
            ("Details updated", "The customer moved; address updated."),
        ),
        ActivityKind.COMPLAINT: (
            (
                "Late delivery",
                "{c} says the last {p} shipment arrived three days late; apologised and expedited.",
            ),
            ("Damaged goods", "{c} reports some {p} arrived damaged; replacement sent."),
        ),
    },
}
# The signs an at-risk review should surface: fewer orders and why, or no answer at all.
_DECLINE_TEXT: dict[bool, tuple[tuple[ActivityKind, str, str], ...]] = {
    True: (
        (ActivityKind.NOTE, "竞争对手报价", "{c}说有供应商报价更低，{p}订量会减少。"),
        (ActivityKind.CALL, "订单减少原因", "询问{c}最近订单减少的原因：对方说预算收紧。"),
        (ActivityKind.COMPLAINT, "价格上涨", "{c}对{p}涨价不满，考虑换供应商。"),
    ),
    False: (
        (ActivityKind.NOTE, "Competitor quote", "{c} says another supplier quoted lower for {p}."),
        (ActivityKind.CALL, "Why fewer orders", "Asked {c} why orders dropped: budget cuts."),
        (
            ActivityKind.COMPLAINT,
            "Price increase",
            "{c} unhappy about the {p} price increase; looking at other suppliers.",
        ),
    ),
}
_NO_ANSWER_TEXT: dict[bool, _Template] = {
    True: ("回访未果", "多次联系{c}未接听，客户可能已转向其他供应商。"),
    False: ("No answer", "Tried {c} several times without reply; they may have switched supplier."),
}
_OPPORTUNITY_TEXT: dict[bool, _Template] = {
    True: ("商机：{p} 批量采购", "{c}计划下季度采购一批{p}，已报价，等待确认。"),
    False: (
        "Opportunity: bulk order of {p}",
        "{c} plans a bulk order of {p} next quarter; quoted.",
    ),
}
_FOLLOW_UP_TEXT: dict[bool, tuple[str, ...]] = {
    True: (
        "回访{c}，确认补货计划",
        "给{c}寄{p}样品",
        "跟进{p}报价",
        "催收货款",
        "邀请{c}参观展厅",
        "确认年度协议",
    ),
    False: (
        "Call {c} about the next order",
        "Send {p} samples to {c}",
        "Follow up on the {p} quote",
        "Chase the overdue payment",
        "Invite {c} to the showroom",
    ),
}
_CUSTOMER_NOTES: dict[bool, tuple[str, ...]] = {
    True: (
        "付款及时，每月初下单。",
        "只接受微信联系。",
        "老板亲自拍板，采购只负责下单。",
        "要求开增值税专用发票。",
    ),
    False: ("Pays on time; orders early each month.", "Prefers e-mail.", "Needs a VAT invoice."),
}

_ACTIVITY_KINDS = (
    ActivityKind.CALL,
    ActivityKind.VISIT,
    ActivityKind.EMAIL,
    ActivityKind.MESSAGE,
    ActivityKind.MEETING,
    ActivityKind.NOTE,
    ActivityKind.COMPLAINT,
)
_ACTIVITY_WEIGHTS = (30, 15, 15, 20, 5, 12, 3)

# 统一社会信用代码 (GB 32100-2015): 31 characters without I, O, Z, S, V; weighted check.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_FULL_WIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）　")
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": "", " ": ""})
_MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 176 "
    "177 180 181 182 183 185 186 187 188 189 191 198 199"
)


# ---------------------------------------------------------------------------------------
# The plan: every record decided in memory first, then written in bulk
# ---------------------------------------------------------------------------------------


@dataclass
class _Point:
    kind: ContactPointKind
    value: str
    label: str | None
    is_primary: bool = False
    key: str | None = field(init=False)

    def __post_init__(self) -> None:
        # As the flush hook does it: trimmed value, key by kind (E.164, lower-case e-mail...).
        self.value = self.value.strip()
        self.key = point_key(self.kind, self.value, _REGION)


@dataclass
class _Person:
    name: str
    pinyin: str  # ascii handle for e-mails and messaging ids ("zhangwei", "john.smith")
    zh: bool


@dataclass
class _ContactPlan:
    name: str
    title: str | None
    department: str | None
    is_primary: bool
    birthday: date | None
    points: list[_Point] = field(default_factory=list)
    id: int = 0


@dataclass
class _OrderPlan:
    when: date
    status: str
    lines: list[tuple[int, int, int]]  # product index, quantity, unit price (cents)

    @property
    def cents(self) -> int:
        return sum(q * p for _, q, p in self.lines)


@dataclass
class _CustomerPlan:
    kind: CustomerKind
    zh: bool  # writes Chinese: names, notes and conversations
    name: str
    place: _Place
    status: CustomerStatus
    pattern: str  # prospect, regular, declining, silent or lapsed
    created: date
    # Who was responsible from when: the first entry is the first owner (None = pool).
    history: list[tuple[date, int | None]] = field(default_factory=list)
    domain: str = ""
    website: str | None = None
    tax_id: str | None = None
    birthday: date | None = None
    source: str | None = None
    district: str | None = None
    address: str | None = None
    postcode: str | None = None
    notes: str | None = None
    contacts: list[_ContactPlan] = field(default_factory=list)
    points: list[_Point] = field(default_factory=list)  # the customer's own lines
    external: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    team: list[int] = field(default_factory=list)
    referrer: _CustomerPlan | None = None
    erp_code: str | None = None
    from_list: bool = False  # a near-duplicate from the prospect list
    # Ordering behaviour (buyers only).
    rhythm: int = 0  # days between orders
    size: float = 1.0
    order_start: date | None = None
    order_end: date | None = None
    products: list[int] = field(default_factory=list)
    orders: list[_OrderPlan] = field(default_factory=list)
    revenue: float = 0.0  # in CNY, for the tier
    tier: Tier | None = None
    id: int = 0
    activities: list[tuple[int, datetime]] = field(default_factory=list)  # id, when

    @property
    def owner_id(self) -> int | None:
        return self.history[-1][1] if self.history else None

    def owner_on(self, day: date) -> int | None:
        owner = self.history[0][1] if self.history else None
        for since, user_id in self.history:
            if since <= day:
                owner = user_id
        return owner

    @property
    def buyer(self) -> bool:
        return self.status != CustomerStatus.PROSPECT


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _cents(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), at least 1 each."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights) or 1.0
    raw = [w * total / whole for w in weights]
    counts = [max(1, int(r)) for r in raw]
    short = total - sum(counts)
    if short > 0:
        by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
        for i in by_remainder[:short]:
            counts[i] += 1
    return counts


class _Builder:
    """Decides every record with one seeded RNG, then writes them in bulk to one session."""

    def __init__(self, session: Session, rng: random.Random, today: date) -> None:
        self.session = session
        self.rng = rng
        self.today = today
        self.window_start = _years_before(today, 3) + timedelta(days=1)
        self.left_on = today - timedelta(days=_LEFT_DAYS_AGO)
        self.left_at = datetime(self.left_on.year, self.left_on.month, self.left_on.day, 10)
        self.users: dict[str, int] = {}
        self.plans: list[_CustomerPlan] = []
        self._names: set[str] = set()
        self._reserved = {s.full_name for s in _STAFF}

    # -- helpers --------------------------------------------------------------------------

    def pick(self, items: Sequence[_T]) -> _T:
        return items[self.rng.randrange(len(items))]

    def weighted(self, items: Sequence[_T], weights: Sequence[float]) -> _T:
        return self.rng.choices(items, weights)[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def day_between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start + timedelta(days=self.rng.randint(0, span)) if span > 0 else start

    def moment(self, day: date) -> datetime:
        # Stored as naive UTC (see models.base.utcnow): 01:00-10:00 UTC is office hours in China.
        return datetime(
            day.year, day.month, day.day, self.rng.randint(1, 9), self.rng.randint(0, 59)
        )

    def digits(self, n: int) -> str:
        return "".join(str(self.rng.randint(0, 9)) for _ in range(n))

    def fill(self, pattern: str) -> str:
        return "".join(str(self.rng.randint(0, 9)) if ch == "#" else ch for ch in pattern)

    def product_name(self, plan: _CustomerPlan) -> str:
        """A product this customer buys (any, for a prospect), named in its language."""
        index = self.pick(plan.products) if plan.products else self.rng.randrange(len(_PRODUCTS))
        chinese, english, _, _ = _PRODUCTS[index]
        return chinese if plan.zh else english

    def unique_name(self, make: Callable[[int], str], *, strict: bool = True) -> str:
        """A name whose match key no other demo customer has (duplicates come on purpose)."""
        attempt = 0
        while True:
            name = make(attempt)
            key = normalize_name(name)
            if key not in self._names and name not in self._reserved:
                self._names.add(key)
                return name
            attempt += 1
            if not strict and attempt > 30:  # persons: namesakes do happen at large sizes
                return name

    # -- people and companies -------------------------------------------------------------

    def chinese_person(self) -> _Person:
        surname, s_py = self.weighted(_SURNAMES, _SURNAME_WEIGHTS)
        given = [self.pick(_GIVEN) for _ in range(1 if self.chance(0.35) else 2)]
        name = surname + "".join(g for g, _ in given)
        return _Person(name, s_py + "".join(p for _, p in given), True)

    def english_person(self, attempt: int = 0) -> _Person:
        first, last = self.pick(_EN_FIRST), self.pick(_EN_LAST)
        middle = f" {chr(65 + self.rng.randrange(26))}." if attempt > 10 else ""
        handle = f"{first}.{last}".lower().translate(_ASCII)
        return _Person(f"{first}{middle} {last}", handle, False)

    def chinese_company(self, place: _Place) -> tuple[str, str]:
        zihao, z_py = self.pick(_ZIHAO)
        trade, t_py = self.pick(_TRADES)
        short = place.city.removesuffix("市")
        suffix = self.weighted(_CN_SUFFIXES, _CN_SUFFIX_WEIGHTS)
        domain = f"{z_py}{t_py}.{self.pick(('com', 'com.cn', 'cn'))}"

        def make(attempt: int) -> str:
            nonlocal zihao, z_py, trade, domain
            if attempt:
                zihao, z_py = self.pick(_ZIHAO)
                trade, t_py = self.pick(_TRADES)
                if attempt > 20:  # large sizes: two trade names ("华强鑫达") widen the space
                    extra, e_py = self.pick(_ZIHAO)
                    zihao, z_py = zihao + extra, z_py + e_py
                domain = f"{z_py}{t_py}.com"
            if self.chance(0.1):
                return f"{zihao}（{short}）{trade}{suffix}"
            prefix = place.city if self.chance(0.65) else short
            return f"{prefix}{zihao}{trade}{suffix}"

        return self.unique_name(make), domain

    def latin_company(self, place: _Place) -> tuple[str, str]:
        domain = ""

        def make(attempt: int) -> str:
            nonlocal domain
            if place.city == "Hamburg" and self.chance(0.8):
                stem = self.pick(_GERMAN_PREFIXES) + self.pick(_GERMAN_BUSINESS)
                domain = stem.split()[0].lower().translate(_ASCII) + ".de"
                return stem + self.pick((" GmbH", " GmbH", " GmbH & Co. KG"))
            prefix = self.pick(_LATIN_PREFIXES)
            if attempt > 20:
                prefix = f"{prefix} {self.pick(_LATIN_PREFIXES)}"
            extra = self.pick(_LATIN_EXTRA) if attempt > 3 else ""  # only when names run out
            stem = f"{prefix} {self.pick(_LATIN_BUSINESS)}{extra}"
            domain = prefix.lower().translate(_ASCII)
            if place.city == "Singapore":
                domain += ".sg"
                return stem + self.pick((" Pte. Ltd.", " Pte Ltd"))
            if place.city == "London":
                domain += ".co.uk"
                return stem + self.pick((" Ltd", " Limited", " Ltd."))
            if place.city == "Hamburg":
                domain += ".de"
                return stem + " GmbH"
            domain += ".com"
            return stem + self.pick((" Co., Ltd.", " Co., Ltd.", " Limited", " Inc."))

        return self.unique_name(make), domain

    def uscc(self, place: _Place, individual: bool) -> str:
        """An 18-character 统一社会信用代码 with a valid check character."""
        body = ("92" if individual else "91") + place.admin_code
        body += "".join(self.pick(_USCC_CHARS) for _ in range(9))
        total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(body, _USCC_WEIGHTS, strict=True))
        return body + _USCC_CHARS[(31 - total % 31) % 31]

    # -- phones, e-mails, messaging ids ---------------------------------------------------

    def mobile(self, place: _Place, digits: str | None = None) -> str:
        if not place.in_china:
            return self.fill(place.mobile)
        d = digits or self.pick(_MOBILE_PREFIXES) + self.digits(8)
        # How people really type them: the same number in a dozen shapes.
        style = self.weighted(range(10), (30, 15, 10, 15, 5, 8, 5, 3, 5, 4))
        return (
            d,
            f"{d[:3]} {d[3:7]} {d[7:]}",
            f"{d[:3]}-{d[3:7]}-{d[7:]}",
            f"+86 {d[:3]} {d[3:7]} {d[7:]}",
            f"+86{d}",
            f"(+86){d[:3]}-{d[3:7]}-{d[7:]}",
            f"0086 {d}",
            f"86-{d}",
            d.translate(_FULL_WIDTH),
            f"{d[:3]} {d[3:7]} {d[7:]}".translate(_FULL_WIDTH),
        )[style]

    def landline(self, place: _Place) -> str:
        if not place.in_china:
            return self.fill(place.landline)
        n = place.local_digits
        local = str(self.rng.randint(2, 8)) + self.digits(n - 1)
        head, tail = local[: n - 4], local[n - 4 :]
        area = place.area_code
        style = self.weighted(range(5), (40, 25, 15, 12, 8))
        return (
            f"{area}-{head} {tail}",
            f"{area}-{local}",
            f"({area}) {head} {tail}",
            f"+86 {area[1:]} {head} {tail}",
            f"{area}-{local} 转 {self.rng.randint(801, 899)}",
        )[style]

    def email(self, person: _Person, domain: str, at_work: bool) -> str:
        handle = person.pinyin
        if at_work and domain:
            address = f"{handle}@{domain}"
        elif person.zh:
            address = self.pick(
                (
                    f"{handle}@163.com",
                    f"{handle}{self.rng.randint(1, 99)}@126.com",
                    f"{self.rng.randint(10**7, 10**10)}@qq.com",
                    f"{handle}@foxmail.com",
                )
            )
        else:
            address = f"{handle}@{self.pick(('gmail.com', 'outlook.com', 'yahoo.com'))}"
        if self.chance(0.08):  # typed with capitals; the key is lower-case anyway
            address = address.title()
        return address

    def wechat(self, person: _Person, mobile_digits: str | None) -> str:
        style = self.rng.randrange(3)
        if style == 0 and mobile_digits:
            return mobile_digits
        if style == 1:
            return "wxid_" + "".join(
                self.pick("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(10)
            )
        return f"{person.pinyin.replace('.', '_')}{self.rng.randint(1970, 2002)}"

    # -- customers ------------------------------------------------------------------------

    def plan_customers(self, count: int) -> None:
        duplicates = min(8, max(3, count // 100))
        for _ in range(count - duplicates):
            self.plans.append(self.new_customer())
        self.assign_owners()
        originals = [p for p in self.plans if p.status == CustomerStatus.ACTIVE]
        for i in range(duplicates):
            self.plans.append(self.duplicate_of(originals[(i * 37) % len(originals)], i))
        self.link_referrals()
        row = 0
        for plan in self.plans:
            self.add_tags_and_team(plan)
            # Prospects typed in from the 2024 trade-show and cold-call spreadsheet.
            if plan.status == CustomerStatus.PROSPECT and (plan.from_list or self.chance(0.45)):
                row += 1
                plan.external.append((PROSPECT_LIST_SYSTEM, f"P24-{row:04d}"))

    def new_customer(self) -> _CustomerPlan:
        rng = self.rng
        sort = self.weighted(
            ("cn_company", "latin_company", "cn_person", "en_person"), (60, 15, 17, 8)
        )
        status = self.weighted(
            (CustomerStatus.ACTIVE, CustomerStatus.PROSPECT, CustomerStatus.LAPSED), (70, 20, 10)
        )
        if sort in ("cn_company", "cn_person"):
            place = self.weighted(_CN_PLACES, _CN_WEIGHTS)
        else:  # Latin names: in China or, some of them, abroad
            place = self.weighted(_ALL_PLACES, _ALL_WEIGHTS)
        zh = sort.startswith("cn")
        person: _Person | None = None
        domain = ""
        if sort == "cn_company":
            name, domain = self.chinese_company(place)
        elif sort == "latin_company":
            name, domain = self.latin_company(place)
        else:
            holder: list[_Person] = []

            def make(attempt: int) -> str:
                holder[:] = [self.chinese_person() if zh else self.english_person(attempt)]
                return holder[0].name

            name = self.unique_name(make, strict=False)
            person = holder[0]
        kind = CustomerKind.PERSON if person else CustomerKind.COMPANY
        pattern = "prospect"
        if status == CustomerStatus.LAPSED:
            pattern = "lapsed"
        elif status == CustomerStatus.ACTIVE:
            pattern = self.weighted(("regular", "declining", "silent"), (78, 12, 10))
        plan = _CustomerPlan(kind, zh, name, place, status, pattern, self.today, domain=domain)
        self.plan_timeline(plan)
        plan.source = self.weighted(_SOURCES, _SOURCE_WEIGHTS)
        if kind == CustomerKind.COMPANY and (plan.buyer or self.chance(0.5)):
            if place.in_china:
                plan.tax_id = self.uscc(place, individual=name.endswith(("商行", "经营部")))
            else:
                plan.tax_id = self.fill(place.tax_pattern)
        if person is not None:
            plan.birthday = date(rng.randint(1958, 2001), rng.randint(1, 12), rng.randint(1, 28))
        plan.district = self.pick(place.districts)
        if place.in_china:
            plan.address = f"{self.pick(_ROADS)}{rng.randint(1, 399)}号"
            if self.chance(0.6):
                plan.address += (
                    f"{self.pick(_BUILDINGS)}{rng.randint(1, 28)}{rng.randint(1, 20):02d}室"
                )
            plan.postcode = place.postcode[:4] + f"{rng.randint(0, 99):02d}"
        else:
            number, street = rng.randint(1, 220), self.pick(place.streets)
            plan.address = (
                f"{street} {number}" if place.country == "Germany" else f"{number} {street}"
            )
            plan.postcode = self.fill(place.postcode)
        if plan.domain and self.chance(0.25):
            plan.website = f"www.{plan.domain}"
        if self.chance(0.12):
            plan.notes = self.pick(_CUSTOMER_NOTES[zh])
        self.plan_contacts(plan, person)
        return plan

    def plan_timeline(self, plan: _CustomerPlan) -> None:
        """When the customer was created and, for buyers, when and how often they ordered."""
        today, start = self.today, self.window_start
        if not plan.buyer:
            plan.created = today - timedelta(days=self.rng.randint(0, 540))
            return
        plan.rhythm = self.weighted((30, 61, 91, 182), (25, 30, 30, 15))
        plan.size = min(self.rng.paretovariate(1.3), 25.0)
        if plan.pattern == "lapsed":
            end = today - timedelta(days=self.rng.randint(183, 548))
        elif plan.pattern == "silent":
            # Silent for two to three of its own cycles: clearly unusual for this customer.
            plan.rhythm = min(plan.rhythm, 61)
            end = today - timedelta(
                days=self.rng.randint(max(75, 2 * plan.rhythm), 3 * plan.rhythm)
            )
        else:
            end = today
        latest_start = end - timedelta(days=120 if plan.pattern in ("lapsed", "silent") else 60)
        if self.chance(0.55) or latest_start <= start:
            # A customer from before the three years shown: already ordering when they begin.
            plan.created = start - timedelta(days=self.rng.randint(30, 900))
            first = start
        else:
            first = self.day_between(start, latest_start)
            plan.created = max(start, first - timedelta(days=self.rng.randint(0, 60)))
        plan.order_start, plan.order_end = first, max(end, first)
        plan.products = self.rng.sample(range(len(_PRODUCTS)), self.rng.randint(3, 8))

    def plan_contacts(self, plan: _CustomerPlan, person: _Person | None) -> None:
        rng, place, zh = self.rng, plan.place, plan.zh
        if person is not None:
            people = [person]
        else:
            n = self.weighted((1, 2, 3), (50, 35, 15))
            local_zh = zh or (place.in_china and self.chance(0.5))
            people = [
                self.chinese_person() if local_zh else self.english_person() for _ in range(n)
            ]
            if self.chance(0.6):
                plan.points.append(
                    _Point(ContactPointKind.PHONE, self.landline(place), "总机" if zh else "office")
                )
            if plan.domain and self.chance(0.3):
                plan.points.append(_Point(ContactPointKind.EMAIL, f"sales@{plan.domain}", None))
        for i, who in enumerate(people):
            main = i == 0
            contact = _ContactPlan(
                who.name,
                None if person else self.pick(_CN_TITLES if who.zh else _EN_TITLES),
                None if person else self.pick(_CN_DEPARTMENTS if who.zh else _EN_DEPARTMENTS),
                main,
                date(rng.randint(1965, 1998), rng.randint(1, 12), rng.randint(1, 28))
                if not person and self.chance(0.1)
                else None,
            )
            digits: str | None = None
            # Every customer is reachable by phone: the main contact always has a mobile.
            if main or self.chance(0.85):
                if place.in_china:
                    digits = self.pick(_MOBILE_PREFIXES) + self.digits(8)
                value = self.mobile(place, digits)
                contact.points.append(
                    _Point(ContactPointKind.MOBILE, value, "手机" if zh else "mobile", main)
                )
            if self.chance(0.6 if main else 0.4):
                value = self.email(who, plan.domain, at_work=person is None and self.chance(0.6))
                contact.points.append(_Point(ContactPointKind.EMAIL, value, None, main))
            if who.zh and self.chance(0.4):
                contact.points.append(
                    _Point(ContactPointKind.WECHAT, self.wechat(who, digits), None)
                )
            elif not place.in_china and self.chance(0.2):
                whatsapp = contact.points[0].value if contact.points else self.fill(place.mobile)
                contact.points.append(_Point(ContactPointKind.WHATSAPP, whatsapp, None))
            plan.contacts.append(contact)

    def assign_owners(self) -> None:
        """Current owners, the leaver's former book, a few past moves, the unassigned pool."""
        u = self.users
        sellers = [u["zhang.wei"], u["chen.jing"], u["tom.baker"], u["li.ming"]]
        for plan in self.plans:
            pool_chance = {"prospect": 0.15, "lapsed": 0.08}.get(plan.pattern, 0.015)
            weights = (40, 40, 12, 8) if plan.zh else (15, 15, 65, 5)
            owner = self.weighted(sellers, weights)
            if self.chance(pool_chance):
                if plan.pattern == "lapsed" and plan.order_end and self.chance(0.5):
                    # A lapsed customer its salesperson gave up on, back in the pool.
                    back = min(plan.order_end + timedelta(days=120), self.today - timedelta(days=1))
                    plan.history = [(plan.created, owner), (back, None)]
                else:
                    plan.history = [(plan.created, None)]
                continue
            plan.history = [(plan.created, owner)]
            if plan.created < self.left_on - timedelta(days=30) and self.chance(0.16):
                plan.history = [(plan.created, u[_LEAVER]), (self.left_on, owner)]
            elif plan.created < self.today - timedelta(days=400) and self.chance(0.04):
                before = self.pick([s for s in sellers[:3] if s != owner])
                moved = self.day_between(
                    plan.created + timedelta(days=60), self.today - timedelta(days=60)
                )
                plan.history = [(plan.created, before), (moved, owner)]

    def duplicate_of(self, original: _CustomerPlan, i: int) -> _CustomerPlan:
        """A trade-show prospect that is really an existing customer, written differently."""
        name = original.name
        if original.kind == CustomerKind.PERSON:
            name = name[0] + " " + name[1:] if original.zh else name.upper()
        elif original.zh:
            for form in ("股份有限公司", "有限责任公司", "有限公司"):
                if name.endswith(form):
                    name = name.removesuffix(form)
                    break
            else:
                name = name.removeprefix(original.place.city) + "有限公司"
        else:
            name = name.upper().replace(",", "").replace(".", "")
        dup = _CustomerPlan(
            original.kind, original.zh, name.strip(), original.place, CustomerStatus.PROSPECT,
            "prospect", self.today - timedelta(days=self.rng.randint(10, 200)),
            domain=original.domain, source=_TRADE_SHOW, birthday=original.birthday,
        )  # fmt: skip
        other = [
            s for s in (self.users["zhang.wei"], self.users["chen.jing"]) if s != original.owner_id
        ]
        dup.history = [(dup.created, self.pick(other) if i % 3 else None)]
        dup.district, dup.address, dup.postcode = original.district, None, original.postcode
        dup.from_list = True
        main = original.contacts[0]
        contact = _ContactPlan(main.name, main.title, None, True, None)
        for point in main.points:
            value = point.value
            if point.kind == ContactPointKind.MOBILE:
                digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
                digits = digits[-11:]
                value = self.mobile(original.place, digits) if original.place.in_china else value
                if value == point.value:
                    value = (
                        f"{digits[:3]} {digits[3:7]} {digits[7:]}"
                        if original.place.in_china
                        else value
                    )
            elif point.kind == ContactPointKind.EMAIL:
                value = value.upper()
            contact.points.append(_Point(point.kind, value, point.label, point.is_primary))
        dup.contacts.append(contact)
        return dup

    def link_referrals(self) -> None:
        buyers = sorted((p for p in self.plans if p.buyer), key=lambda p: p.created)
        for plan in self.plans:
            if plan.source != _REFERRAL or not self.chance(0.8):
                continue
            # Referrals come from long-standing customers: the earliest ones.
            earlier = [b for b in buyers[:200] if b.created < plan.created and b is not plan]
            if earlier:
                plan.referrer = self.pick(earlier)

    def add_tags_and_team(self, plan: _CustomerPlan) -> None:
        if self.chance(0.5):
            plan.tags.append(plan.place.region)
        if self.chance(0.3):
            plan.tags.append(self.weighted(_TAGS_BUSINESS, (60, 20, 15, 5)))
        if plan.buyer and self.chance(0.08):
            plan.tags.append(_TAG_PRICE)
        if plan.buyer and self.chance(0.1):
            plan.tags.append(_TAG_MONTHLY)
        owner = plan.owner_id
        if owner is not None and plan.buyer and self.chance(0.08):
            colleagues = [
                self.users[login]
                for login in ("zhang.wei", "chen.jing", "tom.baker", "li.ming")
                if self.users[login] != owner
            ]
            plan.team = self.rng.sample(colleagues, self.rng.randint(1, 2))

    # -- orders ---------------------------------------------------------------------------

    def plan_orders(self, total: int) -> None:
        buyers = [p for p in self.plans if p.order_start is not None and p.order_end is not None]
        weights: list[float] = []
        for p in buyers:
            assert p.order_start is not None and p.order_end is not None
            days = (p.order_end - p.order_start).days
            weights.append(days / p.rhythm + 1)
        for plan, count in zip(buyers, _allocate(total, weights), strict=True):
            self.plan_customer_orders(plan, count)
        for n, plan in enumerate(p for p in buyers if p.orders):
            plan.erp_code = f"C{n + 1:05d}"
            plan.external.append((ERP_SYSTEM, plan.erp_code))
        # Tier by revenue, Pareto style: top 20% of revenue-holders A, next 30% B, rest C.
        ranked = sorted((p for p in buyers if p.revenue > 0), key=lambda p: -p.revenue)
        for rank, plan in enumerate(ranked):
            share = rank / len(ranked)
            plan.tier = Tier.A if share < 0.2 else Tier.B if share < 0.5 else Tier.C
            if plan.tier == Tier.A and self.chance(0.6):
                plan.tags.insert(0, _TAG_VIP)

    def plan_customer_orders(self, plan: _CustomerPlan, count: int) -> None:
        assert plan.order_start is not None and plan.order_end is not None
        rng = self.rng
        start, end = plan.order_start, plan.order_end
        declining = plan.pattern == "declining"
        cut = max(start, self.today - timedelta(days=180))
        # Orders fall at the customer's rhythm; a declining customer orders less often in
        # the last six months (lower density there) and smaller amounts.
        density = 0.3 if declining else 1.0
        before, after = (cut - start).days, (end - cut).days + 1  # + 1: the end day itself
        mass = before + density * after
        rate = _CNY_PER[plan.place.currency]
        base = 250_000 * plan.size * (plan.rhythm / 30) ** 0.5  # CNY cents per order
        # Orders come at the customer's rhythm, give or take a few days, from a random point
        # in its cycle, so the whole book orders every day up to today. A new customer's
        # first order is the day it was won; a lapsed or silent one's last order is the day
        # it stopped.
        first_fixed = plan.created >= self.window_start
        last_fixed = plan.pattern in ("lapsed", "silent")
        phase = rng.random()  # where in its cycle the customer is: spreads the book evenly
        for j in range(count):
            slot = j + phase + rng.uniform(-0.3, 0.3)
            # Reflected at the ends, which keeps the density even right up to today.
            slot = -slot if slot < 0 else 2 * count - slot if slot > count else slot
            if j == 0 and first_fixed:
                slot = 0.0
            elif j == count - 1 and last_fixed:
                slot = float(count)
            x = slot / count * mass
            when = start + timedelta(days=x if x < before else before + (x - before) / density)
            when = min(when, end)
            target = base * rng.lognormvariate(0, 0.35) * (0.5 if declining and when >= cut else 1)
            lines: list[tuple[int, int, int]] = []
            n_lines = self.weighted((1, 2, 3), (50, 32, 18))
            products = rng.sample(plan.products, min(n_lines, len(plan.products)))
            shares = [rng.uniform(0.5, 1.5) for _ in products]
            for product, share in zip(products, shares, strict=True):
                price = max(1, round(_PRODUCTS[product][3] / rate))
                quantity = max(1, round(target * share / sum(shares) / rate / price))
                lines.append((product, quantity, price))
            age = (self.today - when).days
            status = "completed"
            if rng.random() < 0.015:
                status = "cancelled"
            elif age <= 3:
                status = "pending"
            elif age <= 10:
                status = "shipped"
            order = _OrderPlan(when, status, lines)
            plan.orders.append(order)
            if status != "cancelled":
                plan.revenue += order.cents * rate / 100

    # -- writing --------------------------------------------------------------------------

    @property
    def copy_capable(self) -> bool:
        bind = self.session.get_bind()
        return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"

    def insert_ids(self, model: type[Base] | Table, rows: list[dict[str, Any]]) -> list[int]:
        """Insert ``rows`` and return their new ids, in the order of ``rows``."""
        table = model if isinstance(model, Table) else _table(model)
        if not rows:
            return []
        session = self.session
        if session.get_bind().dialect.name != "sqlite":
            # PostgreSQL returns ids in parameter order from batched multi-row inserts.
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return list(session.execute(stmt, rows).scalars())
        # SQLite can only guarantee that order one row per statement (slow). Instead: the
        # transaction holds the write lock and rows are inserted one after another, each
        # getting max(id) + 1 — checked below rather than trusted.
        before = self.last_id(table)
        session.execute(insert(table), rows)
        last, count = session.execute(
            select(func.max(table.c.id), func.count()).where(table.c.id > before)
        ).one()
        if last != before + len(rows) or count != len(rows):  # pragma: no cover - defensive
            raise RuntimeError(f"Unexpected ids after a bulk insert into {table.name}.")
        return list(range(before + 1, last + 1))

    def last_id(self, table: Table) -> int:
        # Above every id ever used, not only the highest left: SQLite never hands one out again.
        return next_new_id(self.session, table) - 1

    def bulk_insert(self, model: type[Base] | Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows whose ids are not needed in row order; the database assigns them.

        On PostgreSQL this is a COPY, several times faster than INSERTs through the driver;
        elsewhere an executemany. Rows must give every column a value (no Python defaults).
        """
        table = model if isinstance(model, Table) else _table(model)
        if not rows:
            return
        if not self.copy_capable:
            self.session.execute(insert(table), rows)
            return
        from psycopg import Connection, sql

        columns = list(rows[0])
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        # The session's own connection: the COPY is part of the one transaction.
        raw = cast(Connection[Any], self.session.connection().connection.dbapi_connection)
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([_copy_value(row[column]) for column in columns])

    def create_staff(self, password_hash: str) -> None:
        start = _years_before(self.today, 5)
        users: list[User] = []
        for staff in _STAFF:
            left = staff.login == _LEAVER
            users.append(
                User(
                    login=staff.login,
                    full_name=staff.full_name,
                    role=staff.role,
                    active=not left,
                    email=f"{staff.login}@{_COMPANY_DOMAIN}",
                    phone=staff.phone,
                    city="深圳市",
                    password_hash=password_hash,
                    deactivated_at=self.left_at if left else None,
                    created_at=datetime(start.year, start.month, start.day, 2),
                )
            )
        self.session.add_all(users)
        self.session.flush()
        self.users = {user.login: user.id for user in users}

    def write_customers(self) -> None:
        rows = []
        for plan in self.plans:
            history_owner = plan.history[0][1] if plan.history else None
            created = self.moment(plan.created)
            rows.append(
                {
                    "kind": plan.kind,
                    "name": plan.name,
                    "status": plan.status,
                    "owner_id": plan.owner_id,
                    "tier": plan.tier,
                    "source": plan.source,
                    "referred_by_id": None,  # set once the referrer has an id
                    "birthday": plan.birthday,
                    "tax_id": plan.tax_id,
                    "country": plan.place.country,
                    "province": plan.place.province,
                    "city": plan.place.city,
                    "district": plan.district,
                    "address": plan.address,
                    "postcode": plan.postcode,
                    "website": plan.website,
                    "notes": plan.notes,
                    "custom_fields": {},
                    "created_by_id": history_owner or self.users["li.ming"],
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    **_derived_columns(plan),
                }
            )
        for plan, customer_id in zip(self.plans, self.insert_ids(Customer, rows), strict=True):
            plan.id = customer_id

    def write_contacts(self) -> None:
        contacts = [(plan, c) for plan in self.plans for c in plan.contacts]
        rows = [
            {
                "customer_id": plan.id,
                "name": c.name,
                "name_key": normalize_name(c.name),
                "title": c.title,
                "department": c.department,
                "is_primary": c.is_primary,
                "birthday": c.birthday,
                "notes": None,
                "created_at": self.moment(plan.created),
                "updated_at": self.moment(plan.created),
            }
            for plan, c in contacts
        ]
        for (_, contact), contact_id in zip(contacts, self.insert_ids(Contact, rows), strict=True):
            contact.id = contact_id
        points = []
        for plan in self.plans:
            # Same order as in _derived_columns: the customer's own points, then each contact's.
            owned: list[tuple[int | None, _Point]] = [(None, p) for p in plan.points]
            owned += [(c.id, p) for c in plan.contacts for p in c.points]
            for owner_contact, point in owned:
                points.append(
                    {
                        "customer_id": plan.id,
                        "contact_id": owner_contact,
                        "kind": point.kind,
                        "value": point.value,
                        "key": point.key,
                        "label": point.label,
                        "is_primary": point.is_primary,
                        "created_at": self.moment(plan.created),
                    }
                )
        self.bulk_insert(ContactPoint, points)
        external = [
            {
                "customer_id": plan.id,
                "system": system,
                "key": key,
                "key_norm": normalize_key_text(key),
                "created_at": self.moment(plan.created),
            }
            for plan in self.plans
            for system, key in plan.external
        ]
        if external:
            self.bulk_insert(ExternalId, external)

    def write_links(self) -> None:
        """Referrals, tags and account teams: rows that need the customers' ids."""
        referrals = [
            {"cid": plan.id, "rid": plan.referrer.id} for plan in self.plans if plan.referrer
        ]
        if referrals:
            table = _table(Customer)
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("cid"))
                .values(referred_by_id=bindparam("rid")),
                referrals,
            )
        names = list(dict.fromkeys(tag for plan in self.plans for tag in plan.tags))
        tag_ids: dict[str, int] = {}
        if names:
            ids = self.insert_ids(Tag, [{"name": name} for name in names])
            tag_ids = dict(zip(names, ids, strict=True))
        links = [
            {"customer_id": plan.id, "tag_id": tag_ids[tag]}
            for plan in self.plans
            for tag in dict.fromkeys(plan.tags)
        ]
        if links:
            self.bulk_insert(customer_tags, links)
        team = [
            {"customer_id": plan.id, "user_id": user_id}
            for plan in self.plans
            for user_id in plan.team
        ]
        if team:
            self.bulk_insert(customer_team, team)

    def order_batches(self, batches: int) -> list[list[tuple[_CustomerPlan, _OrderPlan]]]:
        orders = [(plan, o) for plan in self.plans for o in plan.orders]
        orders.sort(key=lambda item: (item[1].when, item[0].id))
        size = max(1, -(-len(orders) // batches))
        return [orders[i : i + size] for i in range(0, len(orders), size)]

    def write_orders(
        self, batch: list[tuple[_CustomerPlan, _OrderPlan]], numbers: dict[int, int]
    ) -> None:
        rows = []
        for plan, order in batch:
            year = order.when.year
            numbers[year] = numbers.get(year, 0) + 1
            rows.append(
                {
                    "customer_id": plan.id,
                    "source_system": ERP_SYSTEM,
                    "order_number": f"SO-{year}-{numbers[year]:06d}",
                    "order_date": order.when,
                    "amount": _cents(order.cents),
                    "currency": plan.place.currency,
                    "status": order.status,
                    "customer_ref": plan.erp_code,
                    "notes": None,
                    "import_batch_id": None,
                    "created_at": self.moment(order.when),
                }
            )
        # Order numbers are unique: they tell which id the database gave each order.
        table = _table(Order)
        before = self.last_id(table)
        self.bulk_insert(table, rows)
        ids = dict(
            self.session.execute(
                select(table.c.order_number, table.c.id).where(
                    table.c.id > before, table.c.source_system == ERP_SYSTEM
                )
            ).all()
        )
        lines = []
        for row, (_, order) in zip(rows, batch, strict=True):
            order_id = ids[row["order_number"]]
            for line_no, (product, quantity, price) in enumerate(order.lines, start=1):
                # Lines carry the ERP's product master name, whoever the customer is.
                name, _, sku, _ = _PRODUCTS[product]
                lines.append(
                    {
                        "order_id": order_id,
                        "line_no": line_no,
                        "product": name,
                        "sku": sku,
                        "quantity": Decimal(quantity),
                        "unit_price": _cents(price),
                        "amount": _cents(quantity * price),
                    }
                )
        self.bulk_insert(OrderLine, lines)

    def write_activities(self) -> int:
        rows = [row for plan in self.plans for row in self.plan_activities(plan)]
        table = _table(Activity)
        before = self.last_id(table)
        self.bulk_insert(table, rows)
        # Follow-ups link to a customer's latest activity: read back what each one has.
        by_customer = {plan.id: plan for plan in self.plans}
        written = self.session.execute(
            select(table.c.customer_id, table.c.id, table.c.occurred_at)
            .where(table.c.id > before)
            .order_by(table.c.occurred_at, table.c.id)
        )
        for customer_id, activity_id, occurred_at in written:
            by_customer[customer_id].activities.append((activity_id, occurred_at))
        return len(rows)

    def plan_activities(self, plan: _CustomerPlan) -> list[dict[str, Any]]:
        rng, zh = self.rng, plan.zh
        tier_counts = {Tier.A: (5, 10), Tier.B: (2, 5), Tier.C: (1, 3)}
        low, high = {
            "prospect": (0, 3),
            "silent": (2, 5),
            "lapsed": (1, 3),
            "declining": (3, 6),
        }.get(plan.pattern, tier_counts.get(plan.tier or Tier.C, (1, 3)))
        n = rng.randint(low, high)
        start = max(plan.created, self.window_start)
        end = self.today
        if plan.pattern in ("silent", "lapsed") and plan.order_end is not None:
            end = min(self.today, plan.order_end + timedelta(days=20))
        days = sorted(self.day_between(start, end) for _ in range(n))
        entries: list[tuple[date, ActivityKind, str, str, bool]] = []
        for day in days:
            kind = self.weighted(_ACTIVITY_KINDS, _ACTIVITY_WEIGHTS)
            if kind != ActivityKind.COMPLAINT and rng.random() < (0.25 if not plan.buyer else 0.08):
                subject, body = _OPPORTUNITY_TEXT[zh]
                entries.append(
                    (
                        day,
                        kind if kind != ActivityKind.NOTE else ActivityKind.CALL,
                        subject,
                        body,
                        True,
                    )
                )
                continue
            subject, body = self.pick(_ACTIVITY_TEXT[zh][kind])
            entries.append((day, kind, subject, body, False))
        cut = self.today - timedelta(days=180)
        if plan.pattern == "declining" and self.chance(0.8):
            kind, subject, body = self.pick(_DECLINE_TEXT[zh])
            entries.append((self.day_between(cut, self.today), kind, subject, body, False))
        if plan.pattern == "lapsed" and plan.order_end is not None and self.chance(0.6):
            subject, body = _NO_ANSWER_TEXT[zh]
            day = self.day_between(plan.order_end + timedelta(days=30), self.today)
            entries.append((day, ActivityKind.CALL, subject, body, False))
        entries.sort(key=lambda e: e[0])
        rows = []
        for day, kind, subject, body, opportunity in entries:
            contact = self.pick(plan.contacts) if plan.contacts and self.chance(0.7) else None
            product = self.product_name(plan)
            who = contact.name if contact else ("客户" if zh else "the customer")
            user = plan.owner_on(day)
            if plan.team and self.chance(0.15):
                user = self.pick(plan.team)
            when = self.moment(day)
            rows.append(
                {
                    "customer_id": plan.id,
                    "contact_id": contact.id if contact else None,
                    # Logged by whoever was responsible then; nobody for the pool: the manager.
                    "user_id": user if user is not None else self.users["li.ming"],
                    "kind": kind,
                    "occurred_at": when,
                    "subject": subject.format(c=who, p=product),
                    "body": body.format(c=who, p=product),
                    "is_opportunity": opportunity,
                    "created_at": when,
                }
            )
        return rows

    def write_follow_ups(self) -> int:
        rng, today = self.rng, self.today
        manager = self.users["li.ming"]
        owner = self.users[DEMO_OWNER_LOGIN]
        bosses = (owner, manager)
        rows = []
        for plan in self.plans:
            chance = {"prospect": 0.4, "lapsed": 0.2}.get(plan.pattern, 0.35)
            count = (2 if plan.tier == Tier.A else 1) if self.chance(chance) else 0
            for _ in range(count):
                done = self.chance(0.45)
                if done:
                    due = self.day_between(
                        max(plan.created, today - timedelta(days=400)), today - timedelta(days=3)
                    )
                    assignee = plan.owner_on(due) or manager
                else:
                    when = self.weighted(("overdue", "today", "upcoming"), (30, 10, 60))
                    offset = {"overdue": -rng.randint(1, 30), "today": 0}.get(
                        when, rng.randint(1, 30)
                    )
                    due = today + timedelta(days=offset)
                    # Open tasks are always with an active colleague (never the leaver).
                    assignee = plan.owner_id or manager
                    if plan.tier == Tier.A and plan.id % 3 == 0:
                        # The owner calls some key accounts herself: her My day has work too.
                        assignee = owner
                set_on = min(due, today) - timedelta(days=rng.randint(1, 14))
                created = max(plan.created, set_on)
                due = max(due, created)  # a brand-new prospect's task is not due before it
                creator = plan.owner_on(created) or manager
                if self.chance(0.1):
                    creator = self.pick(bosses)
                activity = [a for a in plan.activities if a[1].date() <= created]
                contact = self.pick(plan.contacts).name if plan.contacts else ""
                product = self.product_name(plan)
                done_at = self.moment(due) if done else None
                rows.append(
                    {
                        "customer_id": plan.id,
                        "assignee_id": assignee,
                        "created_by_id": creator,
                        "activity_id": activity[-1][0] if activity and self.chance(0.5) else None,
                        "title": self.pick(_FOLLOW_UP_TEXT[plan.zh]).format(c=contact, p=product),
                        "notes": None,
                        "due_date": due,
                        "done_at": done_at,
                        "created_at": self.moment(created),
                        "updated_at": done_at or self.moment(created),
                    }
                )
        if rows:
            self.bulk_insert(FollowUp, rows)
        return len(rows)

    def write_assignment_changes(self) -> None:
        leaver = next(s for s in _STAFF if s.login == _LEAVER)
        owner, manager = self.users[DEMO_OWNER_LOGIN], self.users["li.ming"]
        rows = []
        for plan in self.plans:
            for (_, before), (since, after) in zip(plan.history, plan.history[1:], strict=False):
                changed_at = self.moment(since)
                if before == self.users[_LEAVER]:
                    # One step, when the account was deactivated: nothing left orphaned.
                    reason = f"Handover: {leaver.full_name} {leaver.pinyin} left the company"
                    by, changed_at = owner, self.left_at
                elif after is None:
                    reason = "客户流失，退回公海 Lapsed customer returned to the pool"
                    by = manager
                else:
                    reason = "区域调整 Territory rebalancing"
                    by = manager
                rows.append(
                    {
                        "customer_id": plan.id,
                        "from_user_id": before,
                        "to_user_id": after,
                        "changed_by_id": by,
                        "changed_at": changed_at,
                        "reason": reason,
                        "import_batch_id": None,
                    }
                )
        if rows:
            self.bulk_insert(AssignmentChange, rows)


def _copy_value(value: object) -> object:
    # psycopg would write an Enum member's name; the columns hold the value.
    return value.value if isinstance(value, Enum) else value


def _derived_columns(plan: _CustomerPlan) -> dict[str, Any]:
    """The match keys, list columns and search text an ORM write would store.

    Computed by the same functions the flush hook uses (``smbcrm.models.derived``), from
    the points and contacts in the order they are written, as the hook would see them.
    """
    name = plan.name.strip()
    points = plan.points + [p for c in plan.contacts for p in c.points]
    return {
        "name": name,
        **customer_keys(name, plan.tax_id, plan.place.city),
        **customer_list_columns(
            name,
            city=plan.place.city,
            district=plan.district,
            province=plan.place.province,
            points=[PointData(p.kind, p.value, p.key, p.is_primary) for p in points],
            contacts=[ContactData(c.name, c.is_primary) for c in plan.contacts],
            external_keys=[key for _, key in plan.external],
        ),
    }


_STEPS = 14
_ORDER_BATCHES = 4


def create_demo_company(
    db: Database,
    *,
    customers: int = 2000,
    orders: int = 20000,
    seed: int = 2024,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo company, in one transaction.

    Refuses a database that already has a company. Cancelling (through ``progress``) or
    any failure leaves the database as it was.
    """
    errors: dict[str, str] = {}
    if customers < _MIN_CUSTOMERS:
        errors["customers"] = f"The demo company needs at least {_MIN_CUSTOMERS} customers."
    if orders < 0:
        errors["orders"] = "The number of orders cannot be negative."
    if errors:
        raise ValidationError(errors)
    progress = progress or Progress()
    today = today or date.today()
    rng = random.Random(seed)

    with db.session(audit=False) as session:
        if auth.company_exists(session):
            raise ValidationError(
                {
                    "company": "This database already belongs to a company. Open the demo "
                    "company in a new database file (or an empty team database) instead."
                }
            )
        progress.report(0, _STEPS, "Creating staff accounts…")
        builder = _Builder(session, rng, today)
        session.add_all(
            [
                Setting(key=COMPANY_NAME, value=DEMO_COMPANY_NAME),
                Setting(key=REGION_KEY, value=_REGION),
                Setting(key=DEMO_COMPANY, value=True),
                # The demo sells abroad too: its revenue adds up in yuan at these rates.
                Setting(key=currencies.HOME_KEY, value="CNY"),
                Setting(
                    key=currencies.RATES_KEY,
                    value={code: str(rate) for code, rate in _CNY_PER.items() if code != "CNY"},
                ),
            ]
        )
        # argon2 is slow on purpose: hash once, every demo account shares the password.
        builder.create_staff(auth.hash_password(DEMO_PASSWORD))
        session.info["user_id"] = builder.users[DEMO_OWNER_LOGIN]

        progress.report(1, _STEPS, "Inventing customers and prospects…")
        builder.plan_customers(customers)
        progress.report(2, _STEPS, "Planning three years of orders…")
        builder.plan_orders(orders)
        progress.report(3, _STEPS, "Creating customers…")
        builder.write_customers()
        progress.report(4, _STEPS, "Adding contacts, phones and e-mails…")
        builder.write_contacts()
        progress.report(5, _STEPS, "Adding tags, account teams and referrals…")
        builder.write_links()
        numbers: dict[int, int] = {}
        batches = builder.order_batches(_ORDER_BATCHES)
        for i in range(_ORDER_BATCHES):
            progress.report(6 + i, _STEPS, f"Writing orders ({i + 1} of {_ORDER_BATCHES})…")
            if i < len(batches):
                builder.write_orders(batches[i], numbers)
        progress.report(10, _STEPS, "Logging calls, visits and e-mails…")
        activities = builder.write_activities()
        progress.report(11, _STEPS, "Scheduling follow-ups…")
        follow_ups = builder.write_follow_ups()
        progress.report(12, _STEPS, "Handing over 刘洋 Liu Yang's customers…")
        builder.write_assignment_changes()
        from smbcrm.services.demo_cases import add_demo_cases  # service cases and promises

        activities += add_demo_cases(session, today=today, seed=seed).activities
        progress.report(13, _STEPS, "Saving the demo company…")
    db.forget_cached_settings()
    plans = builder.plans
    return DemoSummary(
        company=DEMO_COMPANY_NAME,
        staff=len(_STAFF),
        customers=len(plans),
        prospects=sum(1 for p in plans if p.status == CustomerStatus.PROSPECT),
        orders=sum(len(p.orders) for p in plans),
        activities=activities,
        follow_ups=follow_ups,
        owner_login=DEMO_OWNER_LOGIN,
    )
