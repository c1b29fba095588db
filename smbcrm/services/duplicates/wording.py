"""The reasons two customers look alike, in Chinese.

The scan writes its reasons in English ("same mobile +86 138 0013 8000", "names 94% alike");
the review queue and the CLI report keep them so. A window in Chinese shows each through
:func:`reason_in`, which knows every reason the scan and the warning on create can give.
A reason it does not know is shown as it is, never dropped.
"""

from __future__ import annotations

import re

_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), chinese)
    for pattern, chinese in (
        # names
        (r"same name", "名称相同"),
        (r"same name, legal form aside", "名称相同（不计公司类型）"),
        (r"same name apart from the place", "除地名外名称相同"),
        (r"same name, words in another order", "名称相同，词序不同"),
        (r"names sound alike: (.+) / (.+)", r"名称读音相近：\1 / \2"),
        (r"same name in pinyin: (.+) / (.+)", r"拼音名称相同：\1 / \2"),
        (r"one name holds the other", "一个名称包含另一个"),
        (r"names (\d+)% alike", r"名称相似度 \1%"),
        (r"different given names", "名字不同"),
        (r"different people's names", "人名不同"),
        (r"different branches", "不同的分店或分公司"),
        # identifiers
        (r"same mobile (.+)", r"手机相同 \1"),
        (r"same phone (.+)", r"电话相同 \1"),
        (r"same e-mail name: (.+) / (.+)", r"邮箱用户名相同：\1 / \2"),
        (r"same e-mail (.+)", r"邮箱相同 \1"),
        (r"e-mails alike: (.+) / (.+)", r"邮箱相近：\1 / \2"),
        (r"same ID number (.+)", r"证件号相同 \1"),
        (r"same tax number (.+)", r"税号相同 \1"),
        (r"ID numbers alike: (.+) / (.+)", r"证件号相近：\1 / \2"),
        (r"tax numbers alike: (.+) / (.+)", r"税号相近：\1 / \2"),
        (r"different ID numbers", "证件号不同"),
        (r"different tax numbers", "税号不同"),
        # dates and places
        (r"same birthday (.+)", r"生日相同 \1"),
        (r"birthdays alike: (.+) / (.+)", r"生日相近：\1 / \2"),
        (r"different birthdays (.+) / (.+)", r"生日不同：\1 / \2"),
        (r"same postcode (.+)", r"邮编相同 \1"),
        (r"same city (.+)", r"城市相同 \1"),
        (r"different cities (.+) / (.+)", r"城市不同：\1 / \2"),
        (r"same contact (.+)", r"联系人相同 \1"),
        (r"same address", "地址相同"),
        (r"addresses (\d+)% alike", r"地址相似度 \1%"),
        (r"different addresses", "地址不同"),
    )
)


def reason_in(reason: str, lang: str) -> str:
    """One reason in ``lang`` ("en" as written, "zh" in Chinese)."""
    if lang != "zh":
        return reason
    for pattern, chinese in _ZH:
        match = pattern.fullmatch(reason)
        if match is not None:
            return match.expand(chinese)
    return reason


def reasons_in(reasons: tuple[str, ...] | list[str], lang: str) -> tuple[str, ...]:
    return tuple(reason_in(r, lang) for r in reasons)
