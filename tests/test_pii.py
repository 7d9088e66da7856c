"""PII redaction: what must be redacted, what must be left alone, options, edge cases, speed."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.errors import UsageError
from miner.ingest.pii import BUILTIN_KINDS, OPT_IN_KINDS, Redactor, parse_pattern_option

R = Redactor()


def redact(text: str) -> str:
    return R.redact(text)[0]


# ---------------------------------------------------------------------------
# Redacted: (input, expected output)

EMAILS = [
    ("Write to john.doe@example.com please", "Write to [EMAIL] please"),
    ("Contact: Maria.Lopez+pedidos@correo.es.", "Contact: [EMAIL]."),
    ("请发邮件到zhang.wei@qq.com谢谢", "请发邮件到[EMAIL]谢谢"),
    ("メールはtanaka_taro@docomo.ne.jpまで", "メールは[EMAIL]まで"),
    ("メール：ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "メール：[EMAIL]"),  # fullwidth
    ("Email của tôi: nguyen.van.a@gmail.com", "Email của tôi: [EMAIL]"),
    ("ایمیل من ali.rezaei@yahoo.com است", "ایمیل من [EMAIL] است"),
    ("بريدي sara_ahmed@hotmail.com شكرا", "بريدي [EMAIL] شكرا"),
    ("Schreiben Sie an k.mueller@firma-gmbh.de!", "Schreiben Sie an [EMAIL]!"),
    ("(jean.dupont@orange.fr)", "([EMAIL])"),
]

PHONES = [
    # international
    ("Call me at +49 30 1234567 tomorrow", "Call me at [PHONE] tomorrow"),
    ("Ring +44 (0)20 7946 0958 after 6", "Ring [PHONE] after 6"),
    ("My cell is +1 (415) 555-2671.", "My cell is [PHONE]."),
    ("Appelez le +33 6 12 34 56 78", "Appelez le [PHONE]"),
    ("WhatsApp +39 347 123 4567", "WhatsApp [PHONE]"),
    ("تماس: +98 912 345 6789", "تماس: [PHONE]"),
    ("اتصل على +966 50 123 4567", "اتصل على [PHONE]"),
    ("Liên hệ +84 912 345 678", "Liên hệ [PHONE]"),
    ("香港電話 +852 9123 4567", "香港電話 [PHONE]"),
    ("国际 +86 138 1234 5678", "国际 [PHONE]"),
    ("Tel. 0049 30 1234567", "Tel. [PHONE]"),
    # US / UK / DE / FR / ES / IT
    ("Call (415) 555-2671 or 1-800-555-0199.", "Call [PHONE] or [PHONE]."),
    ("Ring 020 7946 0958 or 07700 900123", "Ring [PHONE] or [PHONE]"),
    ("Rufen Sie 030 12345678 oder 0151 23456789 an", "Rufen Sie [PHONE] oder [PHONE] an"),
    ("Büro: 089/1234567", "Büro: [PHONE]"),
    ("Mon portable : 06 12 34 56 78", "Mon portable : [PHONE]"),
    ("Fixe 01.23.45.67.89 le soir", "Fixe [PHONE] le soir"),
    ("Mi móvil es 612 34 56 78 y el fijo 91 123 45 67", "Mi móvil es [PHONE] y el fijo [PHONE]"),
    ("Llámame al 612 345 678", "Llámame al [PHONE]"),
    ("Chiamami al 347 123 4567 oppure 06 1234 5678", "Chiamami al [PHONE] oppure [PHONE]"),
    # zh (simplified and traditional), HK, TW
    ("我的手机号13812345678，请尽快联系", "我的手机号[PHONE]，请尽快联系"),
    ("手机：138-1234-5678", "手机：[PHONE]"),
    ("座机 010-12345678 没人接", "座机 [PHONE] 没人接"),
    ("我的手機是0912-345-678，謝謝", "我的手機是[PHONE]，謝謝"),
    ("台北市話 (02) 2345-6789", "台北市話 [PHONE]"),
    ("請致電 9123 4567 查詢", "請致電 [PHONE] 查詢"),
    # ja
    ("携帯は090-1234-5678です", "携帯は[PHONE]です"),
    ("電話：０９０－１２３４－５６７８", "電話：[PHONE]"),
    ("東京03-1234-5678にお電話ください", "東京[PHONE]にお電話ください"),
    ("フリーダイヤル0120-123-456", "フリーダイヤル[PHONE]"),
    # vi
    ("Gọi cho tôi số 091 234 5678 nhé", "Gọi cho tôi số [PHONE] nhé"),
    ("sđt: 0912345678", "sđt: [PHONE]"),
    ("Hotline 0387 654 321 không ai nghe", "Hotline [PHONE] không ai nghe"),
    # fa (Persian digits) and ar (Arabic-Indic digits)
    ("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", "شماره من [PHONE] است"),
    ("موبایل: ۰۹۱۲۳۴۵۶۷۸۹", "موبایل: [PHONE]"),
    ("رقم جوالي ٠٥٠١٢٣٤٥٦٧ من فضلكم", "رقم جوالي [PHONE] من فضلكم"),
    ("هاتف ٠٥٠ ١٢٣ ٤٥٦٧", "هاتف [PHONE]"),
    ("اتصل بي 01012345678", "اتصل بي [PHONE]"),
    # a phone next to a date or a count is still found
    ("Am 03.10.2026 0612345678 angerufen", "Am 03.10.2026 [PHONE] angerufen"),
    ("appelé 0612345678 2 fois", "appelé [PHONE] 2 fois"),
    # keyword + unusual grouping
    ("Telefon: 1234 56789", "Telefon: [PHONE]"),
]

CARDS = [
    ("Charged twice on 4111 1111 1111 1111!", "Charged twice on [CARD]!"),
    ("Card 5555-5555-5555-4444 declined", "Card [CARD] declined"),
    ("Amex 3782 822463 10005", "Amex [CARD]"),
    ("Mi tarjeta 4012888888881881 fue rechazada", "Mi tarjeta [CARD] fue rechazada"),
    ("银联卡6200000000000005被扣款", "银联卡[CARD]被扣款"),
    ("カード番号 3530 1113 3330 0000", "カード番号 [CARD]"),
    ("Karte ６０１１ ０００９ ９０１３ ９４２４ belastet", "Karte [CARD] belastet"),
]

IBANS = [
    ("Meine IBAN: DE89 3704 0044 0532 0130 00, bitte erstatten", "Meine IBAN: [IBAN], bitte erstatten"),
    ("IBAN DE89370400440532013000 bitte", "IBAN [IBAN] bitte"),
    ("Remboursez sur FR76 3000 6000 0112 3456 7890 189", "Remboursez sur [IBAN]"),
    ("Cuenta ES91 2100 0418 4502 0005 1332.", "Cuenta [IBAN]."),
    ("Conto IT60X0542811101000000123456", "Conto [IBAN]"),
    ("UK account GB29 NWBK 6016 1331 9268 19", "UK account [IBAN]"),
    ("NL91ABNA0417164300 is mijn rekening", "[IBAN] is mijn rekening"),
    ("شبا IR27 0170 0000 0010 0324 2000 01", "شبا [IBAN]"),
    ("حسابي SA03 8000 0000 6080 1016 7519", "حسابي [IBAN]"),
]

NATIONAL_IDS = [
    ("My SSN is 123-45-6789.", "My SSN is [NATIONAL_ID]."),
    ("NI number JG 10 37 48 A", "NI number [NATIONAL_ID]"),
    ("NINO: AB123456C", "NINO: [NATIONAL_ID]"),
    ("身份证号440304198506071237，请保密", "身份证号[NATIONAL_ID]，请保密"),
    ("身分證 11010519491231002X", "身分證 [NATIONAL_ID]"),
    ("Mi DNI es 12345678Z", "Mi DNI es [NATIONAL_ID]"),
    ("NIE X1234567L caducado", "NIE [NATIONAL_ID] caducado"),
    ("N° sécu 1 84 02 76 451 089 80", "N° sécu [NATIONAL_ID]"),
    ("NIR 184027645108980", "NIR [NATIONAL_ID]"),
    ("Codice fiscale RSSMRA85T10A562S", "Codice fiscale [NATIONAL_ID]"),
    ("کد ملی من ۰۰۸۴۵۷۵۹۴۸ است", "کد ملی من [NATIONAL_ID] است"),
    ("کد ملی: 4521987303", "کد ملی: [NATIONAL_ID]"),
    ("Số CCCD của tôi là 001203012345", "Số CCCD của tôi là [NATIONAL_ID]"),
    ("căn cước công dân 079190001234 bị lộ", "căn cước công dân [NATIONAL_ID] bị lộ"),
    ("CMND 123456789", "CMND [NATIONAL_ID]"),
    ("Meu CPF é 529.982.247-25", "Meu CPF é [NATIONAL_ID]"),
    ("CPF 11144477735", "CPF [NATIONAL_ID]"),
    ("Aadhaar 2345 6789 0124", "Aadhaar [NATIONAL_ID]"),
    ("aadhaar no 499187654323", "aadhaar no [NATIONAL_ID]"),
]

URL_SECRETS = [
    ("see https://bob:hunter2@example.com/x", "see https://bob:[SECRET]@example.com/x"),
    ("ftp://admin:s3cr3t!@files.example.org/pub", "ftp://admin:[SECRET]@files.example.org/pub"),
    (
        "https://api.example.com/v1?api_key=sk_live_abc123&page=2",
        "https://api.example.com/v1?api_key=[SECRET]&page=2",
    ),
    (
        "https://x.io/cb?state=xyz&code=4xZ9pQ7rT2mK8vL3nB6&lang=de",
        "https://x.io/cb?state=xyz&code=[SECRET]&lang=de",
    ),
    ("link: https://shop.example/reset?token=8f14e45fceea167a5a36dedd4bea2543", "link: https://shop.example/reset?token=[SECRET]"),
    ("https://s3.example.com/f.pdf?X-Amz-Signature=abcdef0123&X-Amz-Expires=300", "https://s3.example.com/f.pdf?X-Amz-Signature=[SECRET]&X-Amz-Expires=300"),
    ("/app;jsessionid=A1B2C3D4E5?x=1", "/app;jsessionid=[SECRET]?x=1"),
    ("http://h/?Access_Token=abc&SessionID=42&pwd=x", "http://h/?Access_Token=[SECRET]&SessionID=[SECRET]&pwd=[SECRET]"),
    ("mi contraseña password=hunter2 no funciona", "mi contraseña password=[SECRET] no funciona"),
    (
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "Bearer [SECRET] end",
    ),
]


@pytest.mark.parametrize(
    "text,expected", EMAILS + PHONES + CARDS + IBANS + NATIONAL_IDS + URL_SECRETS,
)
def test_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "cases,kind",
    [(EMAILS, "email"), (PHONES, "phone"), (CARDS, "card"), (IBANS, "iban"), (NATIONAL_IDS, "national_id"), (URL_SECRETS, "url_secret")],
)
def test_counts_use_the_right_kind(cases, kind):
    for text, expected in cases:
        _, counts = R.redact(text)
        assert set(counts) == {kind}, (text, counts)
        placeholder = "[SECRET]" if kind == "url_secret" else f"[{kind.upper()}]"
        assert counts[kind] == expected.count(placeholder), (text, counts)


def test_mixed_text_counts():
    text = (
        "Hola, soy Ana (ana.garcia@gmail.com), DNI 12345678Z, móvil 612 34 56 78. "
        "Me cobraron dos veces en la tarjeta 4111 1111 1111 1111; devolvedlo a ES91 2100 0418 4502 0005 1332. "
        "Enlace: https://tienda.es/pedido?id=77&token=abcdef123456"
    )
    out, counts = R.redact(text)
    assert counts == {"email": 1, "national_id": 1, "phone": 1, "card": 1, "iban": 1, "url_secret": 1}
    assert out == (
        "Hola, soy Ana ([EMAIL]), DNI [NATIONAL_ID], móvil [PHONE]. "
        "Me cobraron dos veces en la tarjeta [CARD]; devolvedlo a [IBAN]. "
        "Enlace: https://tienda.es/pedido?id=77&token=[SECRET]"
    )


# ---------------------------------------------------------------------------
# Not redacted: must come back unchanged with no counts

NOT_PII = [
    # en
    "Order NL-2026-48213 arrived broken, ticket #A12345678 still open.",
    "Ordered on 2026-10-03 at 14:30, delivered 03/10/2026, paid $1,299.00.",
    "App version 5.0.1 (build 2026.10.3) crashes; Android 14, iOS 17.4.1.",
    "Internet is 300 Mbps on paper but 20 Mbps at 8pm, ping 35 ms.",
    "Router at 192.168.100.200 keeps rebooting.",
    "Between 2019 2020 prices went up 15%.",
    "ISBN 978-3-16-148410-0 was the wrong book.",
    "Ticket 4111 1111 1111 1112 fails Luhn and has no card keyword.",
    "Waited 45 minutes, from 10:15 to 11:00, on 2026/10/03.",
    "Order number 0612345678 never shipped.",
    "My score is 9/10, would buy again in 2027.",
    "Promo https://shop.example/?code=SUMMER26&ref=mail did not work.",
    "Not a secret: monkey=banana and keyboard=azerty.",
    "Reference DE89 3704 0044 0532 0130 01 fails its check and has no keyword.",
    "Invalid with no keyword: 000-12-3456 and 666-12-3456 and 912-34-5678.",
    "Bare 12 digits without a keyword: 001203012345.",
    # de
    "Die Lieferung kam am 03.10.2026 um 10:30 beschädigt an, Kundennummer 0123456789.",
    "Preis 1.299,00 € statt 999,00 €, Rechnung 2026-00123.",
    "Bestellnummer 0151 23456789 ist falsch.",
    # fr
    "Colis reçu le 03/10/2026, facture n° 2026-48213, 1 299,00 €.",
    "Le forfait 5G à 19,99 €/mois, débit 1 000 Mbps annoncé.",
    # es
    "Pedido 2026-0048213 del 3 de octubre, total 1.299,00 €.",
    "Llevo 3 semanas esperando, desde el 03-10-2026.",
    # zh
    "订单号：202610031234，价格¥2,580，2026年10月3日下单。",
    "价格在3000-5000元之间，配送要3-5天。",
    "訂單編號 A12345678，金額 NT$1,299，10月3日。",
    # ja
    "注文番号 2026-1003-4821、¥2,580、2026年10月3日 14:30 配達予定。",
    "〒150-0002 東京都渋谷区、バージョン5.0.1で不具合。",
    # vi
    "Tổng tiền: 1.250.000đ, đơn hàng ngày 03/10/2026.",
    "Giá 12.990.000 ₫ mà giao hàng chậm 5 ngày.",
    "Mã đơn hàng 0912345678 chưa giao.",
    # fa
    "سفارش من بعد از ۱۰ روز هنوز نرسیده، مبلغ ۱۲۰,۰۰۰ تومان.",
    "تاریخ ۱۴۰۵/۰۷/۱۱ ساعت ۱۴:۳۰",
    # ar
    "وصل الطلب بتاريخ ٢٠٢٦/١٠/٠٣ والسعر ١٢٠٠ ريال.",
    "رقم الطلب 2026004821 ولم يصل بعد",
    # nothing numeric at all
    "Terrible service, never again!",
    "我的订单三天了还没发货，客服一直不回复。",
]


@pytest.mark.parametrize("text", NOT_PII)
def test_not_redacted(text):
    assert R.redact(text) == (text, {})


# ---------------------------------------------------------------------------
# Options


def test_kinds_and_disabled():
    assert R.kinds == tuple(k for k in BUILTIN_KINDS if k not in OPT_IN_KINDS)  # names are opt-in
    r = Redactor(disabled={"phone", "email"})
    assert "phone" not in r.kinds and "email" not in r.kinds
    text = "Mail john@example.com or call 0612345678, card 4111 1111 1111 1111"
    assert r.redact(text) == ("Mail john@example.com or call 0612345678, card [CARD]", {"card": 1})


def test_unknown_disabled_kind():
    with pytest.raises(UsageError) as exc:
        Redactor(disabled={"phones"})
    assert exc.value.code == "E303"
    assert "phone" in exc.value.hint and "national_id" in exc.value.hint


def test_extra_patterns():
    r = Redactor({"order_id": r"ORD-\d{8}", "EMPLOYEE": r"\bEMP\d{5}\b"})
    assert r.kinds[-2:] == ("order_id", "employee")
    out, counts = r.redact("ORD-12345678 from EMP00042, mail a@b.co")
    assert out == "[ORDER_ID] from [EMPLOYEE], mail [EMAIL]"
    assert counts == {"email": 1, "order_id": 1, "employee": 1}
    # a user kind can be disabled like a built-in one
    assert Redactor({"ORDER_ID": r"ORD-\d{8}"}, {"order_id"}).redact("ORD-12345678") == ("ORD-12345678", {})


def test_extra_pattern_runs_on_text_without_digits_and_spares_placeholders():
    r = Redactor({"CODENAME": r"Project [A-Z][a-z]+", "EMAIL": r"EMAIL"})
    out, counts = r.redact("Project Falcon leaked, mail x@y.org")
    assert out == "[CODENAME] leaked, mail [EMAIL]"
    assert counts == {"codename": 1, "email": 1}
    assert r.redact(out) == (out, {})


@pytest.mark.parametrize("name", ["", "1ABC", "A-B", "A" * 32, "ÄRGER", "has space"])
def test_bad_pattern_name(name):
    with pytest.raises(UsageError) as exc:
        Redactor({name: "x+"})
    assert exc.value.code == "E301" and exc.value.hint


@pytest.mark.parametrize("regex", ["(unclosed", "[a-", "*x", "", "a*", "(?:)"])
def test_bad_pattern_regex(regex):
    with pytest.raises(UsageError) as exc:
        Redactor({"NAME": regex})
    assert exc.value.code == "E302" and exc.value.hint


def test_parse_pattern_option():
    assert parse_pattern_option(r"order_id=ORD-\d{8}") == ("ORDER_ID", r"ORD-\d{8}")
    assert parse_pattern_option("K=a=b") == ("K", "a=b")  # only the first '=' splits
    for bad, code in [("NOEQUALS", "E301"), ("=x+", "E301"), ("9X=x+", "E301"), ("NAME=", "E302"), ("NAME=(", "E302")]:
        with pytest.raises(UsageError) as exc:
            parse_pattern_option(bad)
        assert exc.value.code == code, bad


# ---------------------------------------------------------------------------
# Edge cases


@pytest.mark.parametrize("text", ["", " ", "\n\t  \r\n", "\x00\x01\x1b[31m", "\ud800 lone surrogate \udfff", "🙂🙃" * 10])
def test_edge_inputs_unchanged(text):
    assert R.redact(text) == (text, {})


def test_control_characters_and_surrogates_around_pii():
    text = "\x00mail\x07 a.b@example.com\ud800 tel\x1f0612345678\udfff"
    assert R.redact(text) == ("\x00mail\x07 [EMAIL]\ud800 tel\x1f[PHONE]\udfff", {"email": 1, "phone": 1})


def test_mixed_scripts_in_one_text():
    text = "客户 Jean (jean@ex.fr) 说: llamé al +34 612 345 678, شماره ۰۹۱۲۳۴۵۶۷۸۹, 電話090-1234-5678."
    out, counts = R.redact(text)
    assert out == "客户 Jean ([EMAIL]) 说: llamé al [PHONE], شماره [PHONE], 電話[PHONE]."
    assert counts == {"email": 1, "phone": 3}


def test_huge_input():
    block = "Paid 1.299,00 € on 2026-10-03, call 0612345678 or mail x@ex.com. " + "Lorem ipsum dolor sit amet. " * 20
    text = block * 500  # ~300 KB
    start = time.perf_counter()
    out, counts = R.redact(text)
    assert time.perf_counter() - start < 5
    assert counts == {"phone": 500, "email": 500}
    assert "0612345678" not in out and "1.299,00 €" in out
    assert R.redact("9" * 200_000) == ("9" * 200_000, {})
    assert R.redact("a@" * 50_000)[1] == {}


def test_placeholders_are_stable():
    for text, expected in EMAILS + PHONES + CARDS + IBANS + NATIONAL_IDS + URL_SECRETS:
        assert R.redact(expected) == (expected, {}), expected


# ---------------------------------------------------------------------------
# Properties

PII_ALPHABET = st.sampled_from(
    list("0123456789 +-./()@=:?&#") + list("۰۹۱٠٥") + ["eyJ", "://", "tel ", "CCCD ", "a", "Z", "电话", "订单", "[PHONE]", "x.com"]
)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_idempotent_on_any_text(text):
    out, counts = R.redact(text)
    assert isinstance(out, str) and all(v > 0 for v in counts.values())
    assert R.redact(out) == (out, {})
    if not counts:
        assert out == text


@settings(max_examples=300, deadline=None)
@given(st.lists(PII_ALPHABET, max_size=40).map("".join))
def test_idempotent_on_pii_like_text(text):
    out, counts = R.redact(text)
    assert R.redact(out) == (out, {})
    assert (out == text) == (not counts)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="@=＠＝")))
def test_fast_path_leaves_text_without_triggers_alone(text):
    if "://" not in text and "eyJ" not in text:
        assert R.redact(text) == (text, {})


# ---------------------------------------------------------------------------
# Speed


def test_speed_on_typical_short_texts():
    texts = [
        "The delivery was late again, third time this month. Very disappointed.",
        "Ordered on 2026-10-03, order NL-2026-48213, still not shipped. Paid 1.299,00 €!",
        "App version 5.0.1 crashes every time I open the camera.",
        "我的订单三天了还没发货，客服电话一直打不通，太失望了。",
        "配送が遅すぎます。3日待っても届きません。¥2,580 払ったのに。",
        "Giao hàng quá chậm, tôi đã đợi 5 ngày. Tổng tiền 1.250.000đ.",
        "سفارش من بعد از ۱۰ روز هنوز نرسیده است.",
        "الخدمة سيئة جدا، انتظرت أسبوعين ولم يصل الطلب.",
        "Die Lieferung kam am 03.10.2026 beschädigt an.",
        "Call me at +49 30 1234567 or mail john.doe@example.com.",
    ]
    n = 5000
    start = time.perf_counter()
    for i in range(n):
        R.redact(texts[i % len(texts)])
    rate = n / (time.perf_counter() - start)
    # measured ~15,000/s on 2 cores shared with other jobs (load 8), ~35,000/s before the keyword
    # evidence of issue 17 on the same machine; generous margin for slow CI
    assert rate > 10_000, f"{rate:,.0f} texts/s"



# ---------------------------------------------------------------------------
# Issue 17: evidence. A number shaped like a card, IBAN or national id right after its keyword
# is redacted even when its check fails; without a keyword the check is required.

EVIDENCE = [
    # cards: Luhn fails, or the length does not fit the brand
    ("The card was declined: 4111 1111 1111 1112 (fails Luhn).", "The card was declined: [CARD] (fails Luhn)."),
    ("Numéro de carte 4970 1012 3456 789, débitée deux fois.", "Numéro de carte [CARD], débitée deux fois."),
    ("Mi tarjeta 5500-0000-0000-0005 fue cobrada dos veces.", "Mi tarjeta [CARD] fue cobrada dos veces."),
    ("Meine Kreditkarte Nr. 4000123412341234 wurde belastet.", "Meine Kreditkarte Nr. [CARD] wurde belastet."),
    ("Cartão 5162 9200 1234 567 cobrado em dobro.", "Cartão [CARD] cobrado em dobro."),
    ("银行卡号：6222 0212 3456 7890 123，扣了两次钱。", "银行卡号：[CARD]，扣了两次钱。"),
    ("カード番号 3530 1113 3330 0001 で二重請求。", "カード番号 [CARD] で二重請求。"),
    ("카드번호 9410-1234-5678-9012 이중 결제", "카드번호 [CARD] 이중 결제"),
    ("Số thẻ 9704 0000 0000 0018 bị trừ tiền hai lần.", "Số thẻ [CARD] bị trừ tiền hai lần."),
    ("شماره کارت ۶۰۳۷ ۹۹۷۵ ۱۲۳۴ ۵۶۷۸ دو بار کسر شد", "شماره کارت [CARD] دو بار کسر شد"),
    ("رقم البطاقة 4847 3522 1234 5678 تم الخصم مرتين", "رقم البطاقة [CARD] تم الخصم مرتين"),
    ("Номер карты 2200 1234 5678 9012 списали дважды.", "Номер карты [CARD] списали дважды."),
    # IBANs failing mod 97
    ("IBAN-like but wrong: DE89 3704 0044 0532 0130 01", "IBAN-like but wrong: [IBAN]"),
    ("Remboursez sur mon RIB / IBAN FR76 3000 6000 0112 3456 7890 188 svp", "Remboursez sur mon RIB / IBAN [IBAN] svp"),
    ("شماره شبا IR06 2960 0000 0000 1001 7360 01 است", "شماره شبا [IBAN] است"),
    # national ids whose check fails
    ("身份证号 11010519491231003X 写错了？", "身份证号 [NATIONAL_ID] 写错了？"),
    ("身份证号：110105194912310021，请核实。", "身份证号：[NATIONAL_ID]，请核实。"),
    ("SSN-like but invalid: 000-12-3456.", "SSN-like but invalid: [NATIONAL_ID]."),
    ("Mi DNI es 12345678A y no me dejan entrar.", "Mi DNI es [NATIONAL_ID] y no me dejan entrar."),
    ("Meu CPF é 123.456.789-00, confiram.", "Meu CPF é [NATIONAL_ID], confiram."),
    ("Numéro de sécurité sociale 1 85 05 78 006 084 99 refusé.", "Numéro de sécurité sociale [NATIONAL_ID] refusé."),
    ("Meine Steuer-ID 12 345 678 901 wurde abgefragt.", "Meine Steuer-ID [NATIONAL_ID] wurde abgefragt."),
    ("マイナンバー 1234 5678 9012 を聞かれた。", "マイナンバー [NATIONAL_ID] を聞かれた。"),
    ("주민등록번호 900101-1234560 을 요구했다", "주민등록번호 [NATIONAL_ID] 을 요구했다"),
    ("Số CCCD 00120301234 (thiếu một số).", "Số CCCD [NATIONAL_ID] (thiếu một số)."),
    ("کد ملی من ۰۰۱۲۳۴۵۶۷۸ است", "کد ملی من [NATIONAL_ID] است"),
    ("رقم الهوية 1012345678 مطلوب", "رقم الهوية [NATIONAL_ID] مطلوب"),
    ("СНИЛС 123-456-789 00 указан неверно.", "СНИЛС [NATIONAL_ID] указан неверно."),
    ("Passport number X1234567 was copied.", "Passport number [NATIONAL_ID] was copied."),
]


EVIDENCE += [
    # a label ending its line, the value on the next (support forms, chats)
    ("Card no\n4791-8895-7555-2180\nOrder 9861930733", "Card no\n[CARD]\nOrder 9861930733"),
    ("カード番号\n4010273720292640\nよろしくお願いします", "カード番号\n[CARD]\nよろしくお願いします"),
    # German compounds
    ("Kreditkartennummer: 2221 1649 7533 2570", "Kreditkartennummer: [CARD]"),
    # the keyword right after the value
    ("They asked for 4411667737319760 - that's my card number.", "They asked for [CARD] - that's my card number."),
    ("给你：4475-6654-6098-2960 - 这是我的卡号", "给你：[CARD] - 这是我的卡号"),
    ("طلبوا 4279 3716 7660 2520 - هذا رقم بطاقتي", "طلبوا [CARD] - هذا رقم بطاقتي"),
]


@pytest.mark.parametrize("text,expected", EVIDENCE)
def test_redacted_next_to_its_keyword_even_when_the_check_fails(text, expected):
    assert redact(text) == expected


KEPT_WITHOUT_KEYWORD = [
    "PN 320008A is the part that broke.",
    "Order number 4539 1488 0343 6467 was cancelled.",  # passes Luhn by chance, but it says what it is
    "Bestellnummer 4111111111111111 storniert.",
    "My card order number 4111 1111 1111 1112 never came.",  # an order word between keyword and number
    "I lost my card. 4111 1111 1111 1112 is the ticket.",  # a sentence ends between them
    "Tracking 1Z999AA10123456784 shows nothing.",
    "订单号 6222021234567890123 还没发货",
    "注文番号 3530111333300001 が届かない",
    "주문번호 9410123456789012 배송 안 됨",
    "رقم الطلب 1012345678 لم يصل",
    "Invoice INV-2026-00123 dated 14.03.2026, total 1.299,00 €.",
    "Card declined on 2026-03-14 at 18:45 for $1,249.99.",
    "My card was charged twice\n4111 1111 1111 1112 is what the shop calls my order.",  # not a label line
    "Tracking: YT9197528915113355",  # passes mod 97 as an IBAN would, but YT has no IBANs
    "Order 4411 6677 3731 9760 was paid by card.",  # an order number, whatever follows it
    "4411 6677 3731 9760 is the order number, not my card.",  # an order word between value and keyword

    "Karte kam am 14.03.2026 an, Preis 1.299,00 €.",
]


@pytest.mark.parametrize("text", KEPT_WITHOUT_KEYWORD)
def test_without_its_keyword_a_number_needs_its_check(text):
    assert R.redact(text) == (text, {})


def test_checked_ids_without_keyword():
    # Formats whose check digits make them safe on their own (python-stdnum / the SNILS sum).
    assert redact("Xin gọi lại, 900101-1234568.") == "Xin gọi lại, [NATIONAL_ID]."  # Korean RRN, valid
    assert redact("Bitte 900101-1234560 prüfen") == "Bitte 900101-1234560 prüfen"  # check digit wrong, no keyword
    assert redact("Copied 784-1990-1234567-6 here") == "Copied [NATIONAL_ID] here"  # Emirates ID, Luhn holds
    assert redact("Жалоба: 112-233-445 95.") == "Жалоба: [NATIONAL_ID]."


def test_phone_after_keyword_valid_for_the_region_of_the_script():
    # "8 (916) ..." is a Russian national number; phonenumbers decides after a phone keyword.
    assert redact("Мой телефон 8 (916) 212-26-67, звоните.") == "Мой телефон [PHONE], звоните."
    assert redact("Номер заказа 8 (916) 212-26-67.") == "Номер заказа 8 (916) 212-26-67."


# ---------------------------------------------------------------------------
# Names of people: an opt-in kind

NAMES = Redactor(enabled={"person"})

PEOPLE = [
    ("Still no refund.\nRegards, Maria Lopez", "Still no refund.\nRegards, [PERSON]"),
    ("Thanks,\nJohn Carter", "Thanks,\n[PERSON]"),
    ("Mit freundlichen Grüßen\nKlaus Müller", "Mit freundlichen Grüßen\n[PERSON]"),
    ("Cordialement,\nJean Dupont", "Cordialement,\n[PERSON]"),
    ("Saludos,\nMaría López", "Saludos,\n[PERSON]"),
    ("快递三天没到。我是王小明，请回电。", "快递三天没到。我是[PERSON]，请回电。"),
    ("山田太郎と申します。返金をお願いします。", "[PERSON]と申します。返金をお願いします。"),
    ("저는 김민준입니다. 환불해 주세요.", "저는 [PERSON]입니다. 환불해 주세요."),
    ("Tôi là Nguyễn Văn An, xin hoàn tiền.", "Tôi là [PERSON], xin hoàn tiền."),
    ("С уважением,\nИван Петров", "С уважением,\n[PERSON]"),
    ("با تشکر،\nعلی رضایی", "با تشکر،\n[PERSON]"),
    ("مع التحية،\nمحمد العتيبي", "مع التحية،\n[PERSON]"),
]


@pytest.mark.parametrize("text,expected", PEOPLE)
def test_names_redacted_when_asked(text, expected):
    out, counts = NAMES.redact(text)
    assert out == expected and counts == {"person": 1}
    assert R.redact(text) == (text, {})  # off by default


@pytest.mark.parametrize("text", [
    "I am very disappointed.\nRegards, NovaLink Support Team",
    "Ich bin sehr enttäuscht.\nMit freundlichen Grüßen",
    "我是老用户了，这次太失望了。",
    "저는 학생입니다. 요금이 너무 비싸요.",
    "من خیلی ناراحت هستم.\nبا تشکر",
    "أنا غاضب جدا",
    "مع التحية،\nخدمة العملاء",
    "Thanks in advance for your help.",
])
def test_names_on_keeps_what_is_not_a_name(text):
    assert NAMES.redact(text) == (text, {})


def test_unknown_opt_in_kind_is_a_usage_error():
    with pytest.raises(UsageError) as exc:
        Redactor(enabled={"phone"})
    assert exc.value.code == "E303"


def test_ingest_option_redacts_names_and_leaves_the_identity_of_old_runs_alone(db, write):
    from miner.ingest.pipeline import IngestOptions, ingest

    assert "redact_enabled" not in IngestOptions().identity()  # inputs stored before stay "unchanged"
    path = write("t.jsonl", '{"id": 1, "text": "The router died after two days.\\nRegards, Maria Lopez"}\n')
    summary = ingest(db, [str(path)], IngestOptions(redact_enabled=["person"]))
    row = next(iter(db.query("SELECT text, clean_text FROM documents")))
    assert row["text"].endswith("Regards, [PERSON]") and "Maria" not in row["clean_text"]
    assert summary.to_dict()["pii_redacted"] == {"person": 1}


def test_cli_redact_names_flag(tmp_path):
    from typer.testing import CliRunner

    from miner.cli.main import app

    src = tmp_path / "t.jsonl"
    src.write_text('{"id": 1, "text": "The router died after two days.\\nRegards, Maria Lopez"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(src), "--db", str(tmp_path / "s.db"), "--redact-names"])
    assert result.exit_code == 0, result.output
    assert "person 1" in result.output
