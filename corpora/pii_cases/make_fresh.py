"""Write fresh.jsonl: a third part of the PII cases, written after the first held-out run had
exposed two bugs that were then fixed (so heldout.jsonl has been seen once). These cases are
messages as support forms and chats carry them: labelled fields ("Card no: ..."), several values
in one message, values on their own line. Another seed; measured once, nothing tuned on it.
Run: python corpora/pii_cases/make_fresh.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pii_ids as ids  # noqa: E402
from make_tune import native  # noqa: E402

# Per language: field labels (card, iban, id, phone, order, date, amount, tracking), the id
# generators, a chat opening and closing.
F = {
    "en": (["Card no", "IBAN", "SSN", "Phone", "Order", "Date", "Amount", "Tracking"], [ids.us_ssn], "hey, quick one", "ty"),
    "de": (["Kreditkartennummer", "IBAN", "Steuer-ID", "Telefonnummer", "Bestellung", "Datum", "Betrag", "Sendungsnr."],
           [ids.de_idnr], "Hallo zusammen", "Danke"),
    "fr": (["N° CB", "IBAN", "N° sécurité sociale", "Téléphone", "Commande", "Date", "Montant", "Suivi colis"],
           [ids.fr_nir], "Bonjour", "Merci"),
    "es": (["Tarjeta nº", "IBAN", "DNI", "Teléfono", "Pedido", "Fecha", "Importe", "Seguimiento"], [ids.es_dni], "Buenas", "Gracias"),
    "pt": (["Número do cartão de crédito", "IBAN", "CPF", "Telefone", "Pedido", "Data", "Valor", "Rastreio"], [ids.br_cpf],
           "Oi", "Obrigado"),
    "it": (["Numero carta di credito", "IBAN", "Codice fiscale", "Telefono", "Ordine", "Data", "Importo", "Tracking"],
           [ids.it_cf], "Buongiorno", "Grazie"),
    "zh": (["卡号", "IBAN", "身份证号", "手机号", "订单号", "日期", "金额", "快递单号"], [ids.cn_id], "你好", "谢谢"),
    "ja": (["カード番号", "IBAN", "マイナンバー", "電話番号", "注文番号", "日付", "金額", "追跡番号"], [ids.jp_mynumber], "お世話になります", "よろしくお願いします"),
    "ko": (["카드 번호", "IBAN", "주민등록번호", "전화번호", "주문번호", "날짜", "금액", "운송장 번호"], [ids.kr_rrn], "안녕하세요", "감사합니다"),
    "vi": (["Số thẻ ngân hàng", "IBAN", "Số CCCD", "Số điện thoại", "Mã đơn hàng", "Ngày", "Số tiền", "Mã vận đơn"], [ids.vn_cccd],
           "Chào shop", "Cảm ơn"),
    "fa": (["شماره کارت", "شماره شبا", "کد ملی", "شماره تماس", "شماره سفارش", "تاریخ", "مبلغ", "کد رهگیری"], [ids.ir_melli],
           "سلام", "ممنون"),
    "ar": (["رقم بطاقتي", "IBAN", "رقم الهوية", "رقم الجوال", "رقم الطلب", "التاريخ", "المبلغ", "رقم التتبع"], [ids.sa_id],
           "السلام عليكم", "شكرا"),
    "ru": (["Карта", "IBAN", "СНИЛС", "Телефон", "Заказ", "Дата", "Сумма", "Трек-номер"], [ids.ru_snils], "Добрый день", "Спасибо"),
}
PHONES = {"en": "+1 (917) 555-{4}", "de": "+49 172 {7}", "fr": "+33 7 {2} {2} {2} {2}", "es": "+34 7{2} {3} {3}",
          "pt": "+55 (31) 9{4}-{4}", "it": "+39 320 {3} {4}", "zh": "+86 186 {4} {4}", "ja": "+81 80-{4}-{4}",
          "ko": "+82 10-{4}-{4}", "vi": "+84 98 {3} {4}", "fa": "+98 935 {3} {4}", "ar": "+966 55 {3} {4}",
          "ru": "+7 903 {3}-{2}-{2}"}
IBAN_C = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "pt": "PT", "it": "IT", "zh": "DE", "ja": "FR",
          "ko": "DE", "vi": "NL", "fa": "IR", "ar": "SA", "ru": "AT"}


def build(seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    cases: list[dict] = []

    def add(lang, kind, text, pii=(), keep=()):
        cases.append({"id": f"fresh-{len(cases) + 1:04d}", "part": "fresh", "lang": lang, "kind": kind,
                      "text": text, "pii": list(pii), "keep": list(keep)})

    num = lambda n: rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(n - 1))  # noqa: E731

    def phone(lang):
        import re

        return re.sub(r"\{(\d)\}", lambda m: "".join(rng.choice("0123456789") for _ in range(int(m.group(1)))), PHONES[lang])

    for lang, (lab, gens, hello, bye) in F.items():
        card_l, iban_l, id_l, phone_l, order_l, date_l, amount_l, track_l = lab

        def decoy_fields():
            order = num(rng.choice([8, 10, 12, 16]))
            date = rng.choice(["2026-05-02", "02.05.2026", "05/02/2026", "2026/05/02"])
            amount = rng.choice(["129,90 €", "$129.90", "¥12,990", "1.290.000đ", "12 990 ₽", "129.90 SAR", "R$ 129,90"])
            track = rng.choice([f"1Z{num(4)}X{num(11)}", f"LP{num(14)}", f"{num(20)}", f"YT{num(16)}"])
            fields = [(order_l, order), (date_l, date), (amount_l, amount), (track_l, track)]
            rng.shuffle(fields)
            return fields[: rng.choice([2, 3])]

        def form(pii_field):
            fields = decoy_fields()
            if pii_field:
                fields.insert(rng.randrange(len(fields) + 1), pii_field)
            return "\n".join(f"{k}: {v}" for k, v in fields), [v for k, v in fields if (k, v) != pii_field]

        for i in range(2):  # cards: valid, and mistyped, as a form field
            v = native(rng, lang, ids.card_text(rng, ids.card(rng, rng.choice(["visa", "mastercard"]), i == 0)))
            text, keep = form((card_l, v))
            add(lang, "card", text, [v], keep)
        for i in range(2):  # IBANs
            v = ids.iban_text(rng, ids.iban(rng, IBAN_C[lang], i == 0))
            text, keep = form((iban_l, v))
            add(lang, "iban", text, [v], keep)
        for gen in gens:  # national ids: valid and mistyped
            for valid in (True, False):
                v = native(rng, lang, gen(rng, valid))
                text, keep = form((id_l, v))
                add(lang, "national_id", text, [v], keep)
        v = native(rng, lang, phone(lang))
        text, keep = form((phone_l, v))
        add(lang, "phone", text, [v], keep)
        # a chat with the value on its own line under its keyword, then a decoy line
        v = native(rng, lang, ids.card_text(rng, ids.card(rng, "visa", False)))
        o = num(10)
        add(lang, "card", f"{hello}\n{card_l}\n{v}\n{order_l} {o}\n{bye}", [v], [o])
        # decoy-only forms and chats
        for _ in range(7):
            text, keep = form(None)
            add(lang, "decoy:form", text, [], keep)
        for _ in range(2):
            o, t = num(rng.choice([11, 13, 15])), f"{num(12)}"
            add(lang, "decoy:chat", f"{hello}\n{order_l} {o}\n{track_l} {t}\n{bye}", [], [o, t])
    return cases


if __name__ == "__main__":
    out = Path(__file__).parent / "fresh.jsonl"
    cases = build()
    with out.open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    from collections import Counter

    print(len(cases), "cases;", Counter(c["kind"].split(":")[0] for c in cases), Counter(c["lang"] for c in cases))
