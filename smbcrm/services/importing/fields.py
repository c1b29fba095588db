"""The fields a spreadsheet column can be mapped to, with the header names that suggest them.

Header names are matched after folding (NFKC, case, spaces and punctuation removed), so
"E-mail", "email" and "ＥＭＡＩＬ" are one name; Chinese and English names are first-class.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from smbcrm.models import ImportKind


class Field(StrEnum):
    # customers
    CUSTOMER_ID = "customer_id"  # smbcrm's own ID, as written by exports: round-trips
    EXTERNAL_ID = "external_id"  # the source system's customer code
    NAME = "name"
    # A person's name in two columns; together they make the customer's name.
    GIVEN_NAME = "given_name"
    FAMILY_NAME = "family_name"
    KIND = "kind"
    STATUS = "status"
    CONTACT = "contact"
    CONTACT_TITLE = "contact_title"
    MOBILE = "mobile"
    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    OWNER = "owner"
    PROVINCE = "province"
    CITY = "city"
    DISTRICT = "district"
    ADDRESS = "address"
    POSTCODE = "postcode"
    COUNTRY = "country"
    BIRTHDAY = "birthday"
    TAX_ID = "tax_id"
    SOURCE = "source"
    TIER = "tier"
    TAGS = "tags"
    WEBSITE = "website"
    NOTES = "notes"
    # orders
    ORDER_NUMBER = "order_number"
    ORDER_DATE = "order_date"
    AMOUNT = "amount"
    CURRENCY = "currency"
    ORDER_STATUS = "order_status"
    PRODUCT = "product"
    QUANTITY = "quantity"
    UNIT_PRICE = "unit_price"
    LINE_AMOUNT = "line_amount"


@dataclass(frozen=True)
class FieldSpec:
    field: Field
    label: str
    label_zh: str
    headers: tuple[str, ...]
    kinds: tuple[ImportKind, ...]
    # Several columns may feed one field (two phone columns); others take one column only.
    repeatable: bool = False


_C = (ImportKind.CUSTOMERS,)
_O = (ImportKind.ORDERS,)
_CO = (ImportKind.CUSTOMERS, ImportKind.ORDERS)

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        Field.CUSTOMER_ID,
        "smbcrm ID",
        "smbcrm编号",
        ("id", "smbcrm id", "customer id (smbcrm)", "smbcrm编号"),
        _CO,
    ),
    FieldSpec(
        Field.EXTERNAL_ID,
        "Customer code",
        "客户编号",
        (
            "customer code",
            "customer no",
            "customer number",
            "account code",
            "account id",
            "client code",
            "code",
            "客户编号",
            "客户编码",
            "客户代码",
            "编号",
            "客户号",
            "customer ref",
            "customer reference",
            "客户id",
            "客户代号",
            "rec id",
            "record id",
            "record no",
            "记录号",
        ),
        _CO,
    ),
    FieldSpec(
        Field.NAME,
        "Name",
        "客户名称",
        (
            "name",
            "customer",
            "customer name",
            "company",
            "company name",
            "account name",
            "account",
            "client",
            "client name",
            "organisation",
            "organization",
            "客户名称",
            "客户",
            "公司名称",
            "公司",
            "单位名称",
            "单位",
            "客户名",
            "企业名称",
            "名称",
            "姓名",
            "买方",
            "购买方",
        ),
        _CO,
    ),
    FieldSpec(
        Field.GIVEN_NAME,
        "Given name",
        "名",
        ("given name", "first name", "forename", "christian name", "名", "名字"),
        _C,
    ),
    FieldSpec(
        Field.FAMILY_NAME,
        "Family name",
        "姓",
        ("family name", "surname", "last name", "姓", "姓氏"),
        _C,
    ),
    FieldSpec(
        Field.KIND, "Kind", "类型", ("kind", "type", "customer type", "类型", "客户类型"), _C
    ),
    FieldSpec(Field.STATUS, "Status", "状态", ("status", "lifecycle", "状态", "客户状态"), _C),
    FieldSpec(
        Field.CONTACT,
        "Contact",
        "联系人",
        ("contact", "contact name", "contact person", "联系人", "联系人姓名", "对接人"),
        _C,
    ),
    FieldSpec(
        Field.CONTACT_TITLE,
        "Contact title",
        "职务",
        ("title", "job title", "position", "职务", "职位"),
        _C,
    ),
    FieldSpec(
        Field.MOBILE,
        "Mobile",
        "手机",
        ("mobile", "mobile phone", "cell", "cellphone", "手机", "手机号", "手机号码", "移动电话"),
        _CO,
        repeatable=True,
    ),
    FieldSpec(
        Field.PHONE,
        "Phone",
        "电话",
        (
            "phone",
            "telephone",
            "tel",
            "phone number",
            "电话",
            "联系电话",
            "电话号码",
            "座机",
            "固定电话",
            "联系方式",
        ),
        _CO,
        repeatable=True,
    ),
    FieldSpec(
        Field.EMAIL,
        "E-mail",
        "邮箱",
        ("email", "e-mail", "mail", "email address", "邮箱", "电子邮箱", "电子邮件", "邮件"),
        _CO,
        repeatable=True,
    ),
    FieldSpec(Field.WECHAT, "WeChat", "微信", ("wechat", "weixin", "微信", "微信号"), _C),
    FieldSpec(
        Field.OWNER,
        "Owner",
        "负责销售",
        (
            "owner",
            "sales rep",
            "salesperson",
            "sales",
            "account manager",
            "responsible",
            "负责销售",
            "业务员",
            "销售",
            "负责人",
            "客户经理",
            "销售员",
            "跟进人",
        ),
        _C,
    ),
    FieldSpec(
        Field.PROVINCE,
        "Province",
        "省份",
        ("province", "state", "region", "省份", "省", "所在省"),
        _C,
    ),
    FieldSpec(
        Field.CITY, "City", "城市", ("city", "town", "suburb", "城市", "市", "所在城市"), _CO
    ),
    FieldSpec(Field.DISTRICT, "District", "区县", ("district", "county", "区县", "区", "县"), _C),
    FieldSpec(
        Field.ADDRESS,
        "Address",
        "地址",
        (
            "address",
            "street",
            "street address",
            "地址",
            "详细地址",
            "联系地址",
            "公司地址",
            "street number",
            "street no",
            "house number",
            "address 1",
            "address 2",
            "address line 1",
            "address line 2",
            "门牌号",
            "地址1",
            "地址2",
        ),
        _C,
        # Street number and address lines: joined in column order into one address.
        repeatable=True,
    ),
    FieldSpec(
        Field.POSTCODE,
        "Postcode",
        "邮编",
        ("postcode", "postal code", "zip", "zip code", "邮编", "邮政编码"),
        _C,
    ),
    FieldSpec(Field.COUNTRY, "Country", "国家", ("country", "国家", "国家地区"), _C),
    FieldSpec(
        Field.BIRTHDAY,
        "Birthday",
        "生日",
        ("birthday", "date of birth", "birth date", "dob", "生日", "出生日期"),
        _C,
    ),
    FieldSpec(
        Field.TAX_ID,
        "Tax ID",
        "税号",
        (
            "tax id",
            "tax number",
            "vat",
            "vat number",
            "registration number",
            "税号",
            "统一社会信用代码",
            "纳税人识别号",
            "信用代码",
            "id number",
            "soc sec id",
            "social security number",
            "ssn",
            "national id",
            "身份证号",
            "身份证号码",
            "身份证",
            "证件号码",
        ),
        _C,
    ),
    FieldSpec(
        Field.SOURCE,
        "Source",
        "来源",
        ("source", "lead source", "channel", "来源", "客户来源", "渠道"),
        _C,
    ),
    FieldSpec(
        Field.TIER, "Tier", "等级", ("tier", "grade", "class", "等级", "客户等级", "级别"), _C
    ),
    FieldSpec(Field.TAGS, "Tags", "标签", ("tags", "tag", "labels", "标签"), _C),
    FieldSpec(Field.WEBSITE, "Website", "网站", ("website", "web", "url", "网站", "网址"), _C),
    FieldSpec(
        Field.NOTES,
        "Notes",
        "备注",
        ("notes", "note", "remarks", "comment", "comments", "备注", "说明"),
        _CO,
        repeatable=True,
    ),
    FieldSpec(
        Field.ORDER_NUMBER,
        "Order number",
        "订单号",
        (
            "order number",
            "order no",
            "order id",
            "order",
            "invoice",
            "invoice number",
            "订单号",
            "订单编号",
            "单号",
            "销售单号",
        ),
        _O,
    ),
    FieldSpec(
        Field.ORDER_DATE,
        "Date",
        "日期",
        ("date", "order date", "invoice date", "日期", "下单日期", "订单日期", "销售日期"),
        _O,
    ),
    FieldSpec(
        Field.AMOUNT,
        "Amount",
        "金额",
        (
            "amount",
            "total",
            "order total",
            "value",
            "金额",
            "订单金额",
            "总金额",
            "合计金额",
            "销售额",
        ),
        _O,
    ),
    FieldSpec(Field.CURRENCY, "Currency", "币种", ("currency", "币种", "货币"), _O),
    FieldSpec(
        Field.ORDER_STATUS,
        "Order status",
        "订单状态",
        ("status", "order status", "订单状态", "状态"),
        _O,
    ),
    FieldSpec(
        Field.PRODUCT,
        "Product",
        "产品",
        ("product", "item", "product name", "产品", "产品名称", "商品", "品名"),
        _O,
    ),
    FieldSpec(Field.QUANTITY, "Quantity", "数量", ("quantity", "qty", "数量"), _O),
    FieldSpec(Field.UNIT_PRICE, "Unit price", "单价", ("unit price", "price", "单价"), _O),
    FieldSpec(
        Field.LINE_AMOUNT,
        "Line amount",
        "行金额",
        ("line amount", "line total", "小计", "行金额"),
        _O,
    ),
)

SPECS: dict[Field, FieldSpec] = {spec.field: spec for spec in FIELDS}

_FOLD_RE = re.compile(r"[\s\-_./:：()（）\[\]【】*#]+")
# Taiwan and Hong Kong systems write headers in traditional characters (客戶名稱, 電話):
# the traditional forms of the characters the header names use fold to the simplified ones.
_TRADITIONAL = str.maketrans(
    "來備傳價別動務區員單國對帳幣態戶數曆會業標機歷狀產碼稅種稱籤納級細絡統經網編縣總繫聯職號訂計記註話詳說説證識負貨責買賬購進遞郵鄉銷錄鎮門電額類齡",
    "来备传价别动务区员单国对账币态户数历会业标机历状产码税种称签纳级细络统经网编县总系联职号订计记注话详说说证识负货责买账购进递邮乡销录镇门电额类龄",
)
# Words those systems use where mainland ones say otherwise, in simplified characters.
_TAIWAN_HONG_KONG_WORDS: dict[Field, tuple[str, ...]] = {
    Field.OWNER: ("负责业务", "业务", "业务员", "业务代表"),
    Field.TAX_ID: ("统一编号", "统编"),
    Field.CONTACT: ("联络人",),
    Field.MOBILE: ("行动电话",),
    Field.EMAIL: ("电邮", "电邮地址"),
    Field.PHONE: ("联络电话", "公司电话"),
    Field.POSTCODE: ("邮递区号",),
    Field.CONTACT_TITLE: ("职称",),
    Field.CURRENCY: ("币别",),
    Field.CITY: ("县市",),
    Field.EXTERNAL_ID: ("客户代号",),
}


def fold_header(text: str) -> str:
    """'E-mail', 'email' and 'ＥＭＡＩＬ：' fold to 'email'; '客户 名称' and '客戶名稱' to '客户名称'."""
    folded = _FOLD_RE.sub("", unicodedata.normalize("NFKC", str(text)).casefold())
    return folded.translate(_TRADITIONAL)


def fields_for(kind: ImportKind) -> list[FieldSpec]:
    return [spec for spec in FIELDS if kind in spec.kinds]


def header_index(kind: ImportKind) -> dict[str, Field]:
    """Folded header name → field, for one kind of import."""
    index: dict[str, Field] = {}
    for spec in fields_for(kind):
        regional = _TAIWAN_HONG_KONG_WORDS.get(spec.field, ())
        for name in (*spec.headers, spec.label, spec.label_zh, *regional):
            index.setdefault(fold_header(name), spec.field)
    return index


def column_length(table_column: Any) -> int:
    """The most characters a text column of the book holds, as the model declares it.

    PostgreSQL refuses longer text where SQLite keeps it, so an import checks it first.
    """
    length = table_column.type.length
    assert isinstance(length, int)
    return length
