"""Write final.jsonl: the last part of the PII cases, written after every fix (commit 0b0334a)
and measured once, as it came out. Reviews and e-mail replies with quoted lines; values inside
parentheses or after a dash; some with the keyword after the value ("... - that's my card
number"), which the rules do not look for; other look-alikes (booking codes, flight numbers,
postcodes, bank transfer references, long amounts, Amazon-style order numbers).
Run: python corpora/pii_cases/make_final.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pii_ids as ids  # noqa: E402
from make_tune import native  # noqa: E402

# lang: (card kw, iban kw, [(id gen, id kw)], phone kw, phone pattern, order kw, review frames, after-phrase)
FINAL = {
    "en": ("Visa", "IBAN", [(ids.us_ssn, "SSN")], "cell", "+1 312 555 {4}", "order",
           ["Terrible service! They asked for {} on the phone.", "> Your request was received.\nOK, here it is: {}"],
           "that's my card number"),
    "de": ("Kreditkarte", "IBAN", [(ids.de_idnr, "Steuer-ID")], "Handy", "0160 {7}", "Bestellung",
           ["Unmöglicher Service! Am Telefon wollten sie {} wissen.", "> Ihre Anfrage ist eingegangen.\nHier bitte: {}"],
           "das ist meine Kartennummer"),
    "fr": ("carte", "IBAN", [(ids.fr_nir, "numéro de sécurité sociale")], "portable", "06 {2} {2} {2} {2}", "commande",
           ["Service nul ! Au téléphone on m'a demandé {}.", "> Votre demande a été reçue.\nVoici : {}"],
           "c'est mon numéro de carte"),
    "es": ("tarjeta", "IBAN", [(ids.es_nie, "NIE")], "móvil", "6{2} {3} {3}", "pedido",
           ["¡Pésimo servicio! Por teléfono me pidieron {}.", "> Hemos recibido su solicitud.\nAquí está: {}"],
           "es mi número de tarjeta"),
    "pt": ("cartão", "IBAN", [(ids.br_cpf, "CPF")], "celular", "(11) 9{4}-{4}", "pedido",
           ["Péssimo atendimento! Pediram {} por telefone.", "> Recebemos sua solicitação.\nSegue: {}"],
           "é o número do meu cartão"),
    "it": ("carta", "IBAN", [(ids.it_cf, "codice fiscale")], "cellulare", "34{1} {3} {4}", "ordine",
           ["Servizio pessimo! Al telefono mi hanno chiesto {}.", "> Abbiamo ricevuto la richiesta.\nEcco: {}"],
           "è il numero della mia carta"),
    "zh": ("银行卡", "IBAN", [(ids.cn_id, "身份证")], "手机", "13{9}", "订单",
           ["服务太差了！电话里还要我报{}。", "> 您的请求已收到。\n给你：{}"], "这是我的卡号"),
    "ja": ("カード", "IBAN", [(ids.jp_mynumber, "マイナンバー")], "携帯", "090-{4}-{4}", "注文",
           ["最悪です。電話で{}を聞かれました。", "> お問い合わせを受け付けました。\nこちらです：{}"], "これがカード番号です"),
    "ko": ("카드", "IBAN", [(ids.kr_rrn, "주민번호")], "핸드폰", "010-{4}-{4}", "주문",
           ["최악이에요! 전화로 {}를 물어봤어요.", "> 문의가 접수되었습니다.\n여기요: {}"], "제 카드 번호예요"),
    "vi": ("thẻ", "IBAN", [(ids.vn_cccd, "CCCD")], "điện thoại", "09{1} {3} {4}", "đơn hàng",
           ["Dịch vụ quá tệ! Họ hỏi {} qua điện thoại.", "> Chúng tôi đã nhận yêu cầu.\nĐây: {}"], "là số thẻ của tôi"),
    "fa": ("کارت", "شبا", [(ids.ir_melli, "کد ملی")], "موبایل", "0912{7}", "سفارش",
           ["خدمات افتضاح! پشت تلفن {} را خواستند.", "> درخواست شما دریافت شد.\nبفرمایید: {}"], "شماره کارت من است"),
    "ar": ("بطاقة", "IBAN", [(ids.sa_id, "رقم الهوية")], "جوال", "05{1}{7}", "الطلب",
           ["خدمة سيئة! طلبوا {} على الهاتف.", "> تم استلام طلبك.\nتفضل: {}"], "هذا رقم بطاقتي"),
    "ru": ("карта", "IBAN", [(ids.ru_snils, "СНИЛС")], "мобильный", "8 (9{2}) {3}-{2}-{2}", "заказ",
           ["Ужасный сервис! По телефону спросили {}.", "> Ваше обращение получено.\nВот: {}"], "это номер моей карты"),
}
IBAN_C = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "pt": "PT", "it": "IT", "zh": "GB", "ja": "DE",
          "ko": "FR", "vi": "CH", "fa": "IR", "ar": "SA", "ru": "AT"}


def build(seed: int = 4242) -> list[dict]:
    import re

    rng = random.Random(seed)
    cases: list[dict] = []

    def add(lang, kind, text, pii=(), keep=()):
        cases.append({"id": f"final-{len(cases) + 1:04d}", "part": "final", "lang": lang, "kind": kind,
                      "text": text, "pii": list(pii), "keep": list(keep)})

    num = lambda n: rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(n - 1))  # noqa: E731
    fill = lambda p: re.sub(r"\{(\d)\}", lambda m: "".join(rng.choice("0123456789") for _ in range(int(m.group(1)))), p)  # noqa: E731
    for lang, (card_kw, iban_kw, id_list, phone_kw, phone_p, order_kw, frames, after) in FINAL.items():
        fr = lambda: rng.choice(frames)  # noqa: E731
        for valid in (True, False, False):  # cards, keyword before
            v = native(rng, lang, ids.card_text(rng, ids.card(rng, rng.choice(["visa", "mastercard", "amex"]), valid)))
            add(lang, "card", fr().format(f"{card_kw} ({v})" if rng.random() < 0.5 else f"{card_kw} - {v}"), [v])
        v = ids.card_text(rng, ids.card(rng, "visa", False))  # keyword after the value
        add(lang, "card", fr().format(f"{v} - {after}"), [v])
        v = ids.card_text(rng, ids.card(rng, "mastercard", True))  # valid, bare, next to an order number
        o = f"{num(3)}-{num(7)}-{num(7)}"
        add(lang, "card", fr().format(f"{order_kw} {o}, {v}"), [v], [o])
        for valid in (True, False):
            v = ids.iban_text(rng, ids.iban(rng, IBAN_C[lang], valid))
            add(lang, "iban", fr().format(f"{iban_kw} ({v})"), [v])
        for gen, kw in id_list:
            for valid in (True, False):
                v = native(rng, lang, gen(rng, valid))
                add(lang, "national_id", fr().format(f"{kw} ({v})"), [v])
        v = native(rng, lang, fill(phone_p))
        add(lang, "phone", fr().format(f"{phone_kw} {v}"), [v])
        decoys = [
            f"{order_kw} {num(3)}-{num(7)}-{num(7)}", f"{order_kw} #{num(9)}", f"{order_kw} {num(18)}",
            f"PNR {rng.choice(['XKQ7LM', 'B4TZ9P', 'QW8RTY'])}", f"{rng.choice(['LH', 'AF', 'IB', 'CA', 'NH', 'SU'])} {num(4)}",
            f"{rng.choice(['28013', '75011', '10115', '00184', '100020'])}", f"REF {num(4)}-{num(6)}",
            rng.choice(["1,234,567.89", "1.234.567,89 €", "12 345 678 ₽", "¥1,234,567", "₩12,345,678"]),
            f"{order_kw} {num(5)} ({num(2)}.{num(2)}.20{rng.randint(24, 26)})", f"v{rng.randint(2, 9)}.{rng.randint(0, 99)}.{num(4)}",
            f"{num(4)} {num(4)} {num(4)} {num(4)} {num(4)} {num(2)}",  # a 22-digit tracking number in groups
        ]
        for d in decoys:
            keep = d.split(" ", 1)[1] if d.startswith((order_kw + " ", "PNR ", "REF ")) else d
            add(lang, "decoy:final", fr().format(d), [], [keep])
    return cases


if __name__ == "__main__":
    out = Path(__file__).parent / "final.jsonl"
    cases = build()
    with out.open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    from collections import Counter

    print(len(cases), "cases;", Counter(c["kind"].split(":")[0] for c in cases), Counter(c["lang"] for c in cases))
