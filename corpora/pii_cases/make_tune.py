"""Write tune.jsonl: the tuning half of the PII cases (the rules in miner/ingest/pii.py were
fitted to these). make_heldout.py writes the held-out half from other templates, written after
the rules were fixed. Run: python corpora/pii_cases/make_tune.py

Each case: {"id", "part", "lang", "kind", "text", "pii": [strings that must go],
"keep": [strings that must stay]}. kind is the PII kind of the case (card, iban, national_id,
phone, email, url_secret, person) or "decoy:WHAT" for cases that hold only look-alikes.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pii_ids as ids  # noqa: E402

# Per language: keywords next to a value (the value follows them), national ids of the
# country, phone numbers, sentence frames ({} is the phrase with the value).
L = {
    "en": dict(
        card=["my card number is", "card no.", "the Visa card", "credit card:"],
        iban=["IBAN", "refund to my account IBAN"],
        ids=[(ids.us_ssn, ["SSN", "social security number"]), (ids.gb_nino, ["NI number", "national insurance no."]),
             (ids.in_aadhaar, ["Aadhaar"])],
        phones=["+1 415 555 {a}", "(212) 555-{a}", "+44 20 7946 {b}", "07700 9{c}"],
        phone_kw=["call me on", "my phone:", "mobile"],
        frames=["They charged me twice, {}. Please fix it.", "Hi, {} and nobody called back.", "Refund not received ({})."],
        order=["order #", "order number", "Order ID:"], tracking=["tracking number", "tracking no."],
        invoice=["invoice", "invoice no."], part=["part number", "model", "SKU"], customer=["customer no."],
        names=[("Regards, {n}", ["Maria Lopez", "John Carter", "Emily Watson"]), ("Thanks,\n{n}", ["David Miller", "Sarah Johnson"])],
    ),
    "de": dict(
        card=["Kartennummer", "meine Kreditkarte", "Karte Nr."],
        iban=["IBAN", "Bankverbindung IBAN:"],
        ids=[(ids.de_idnr, ["Steuer-ID", "Steueridentifikationsnummer"])],
        phones=["+49 30 {d}", "0151 {e}", "089/{d}"],
        phone_kw=["Rufnummer", "Telefon:", "erreichbar unter"],
        frames=["Sie haben doppelt abgebucht, {}. Bitte erstatten.", "Hallo, {} und keiner meldet sich.", "Beschwerde: {}."],
        order=["Bestellnummer", "Bestellung Nr.", "Auftragsnummer"], tracking=["Sendungsnummer", "Sendungsverfolgung"],
        invoice=["Rechnungsnummer", "Rechnung Nr."], part=["Artikelnummer", "Modell", "Teilenummer"], customer=["Kundennummer"],
        names=[("Mit freundlichen Grüßen\n{n}", ["Klaus Müller", "Anna Schmidt", "Jürgen Weber"]), ("Viele Grüße, {n}", ["Petra Fischer"])],
    ),
    "fr": dict(
        card=["numéro de carte", "ma carte bancaire", "carte n°"],
        iban=["IBAN", "RIB / IBAN"],
        ids=[(ids.fr_nir, ["numéro de sécurité sociale", "n° INSEE", "NIR"])],
        phones=["+33 6 {f}", "06 {f}", "01.{g}"],
        phone_kw=["appelez-moi au", "mon portable :", "tél."],
        frames=["Vous m'avez débité deux fois, {}. Merci de corriger.", "Bonjour, {} et toujours rien.", "Réclamation : {}."],
        order=["commande n°", "numéro de commande", "réf. commande"], tracking=["numéro de suivi", "colis n°"],
        invoice=["facture n°", "numéro de facture"], part=["référence", "modèle", "pièce"], customer=["n° client"],
        names=[("Cordialement,\n{n}", ["Jean Dupont", "Camille Martin", "Sophie Bernard"]), ("Bien à vous, {n}", ["Luc Moreau"])],
    ),
    "es": dict(
        card=["número de tarjeta", "mi tarjeta", "tarjeta de crédito"],
        iban=["IBAN", "cuenta IBAN"],
        ids=[(ids.es_dni, ["DNI", "mi DNI es"]), (ids.es_nie, ["NIE"])],
        phones=["+34 612 {h}", "612 {h}", "91 {i}"],
        phone_kw=["llámame al", "mi móvil:", "teléfono"],
        frames=["Me cobraron dos veces, {}. Por favor, revisen.", "Hola, {} y nadie responde.", "Reclamación: {}."],
        order=["pedido n.º", "número de pedido", "pedido"], tracking=["número de seguimiento", "envío n.º"],
        invoice=["factura n.º", "número de factura"], part=["referencia", "modelo", "pieza"], customer=["n.º de cliente"],
        names=[("Saludos,\n{n}", ["María López", "Carlos García", "Lucía Fernández"]), ("Atentamente, {n}", ["Javier Ruiz"])],
    ),
    "pt": dict(
        card=["número do cartão", "meu cartão de crédito", "cartão"],
        iban=["IBAN", "conta IBAN"],
        ids=[(ids.br_cpf, ["CPF", "meu CPF é"])],
        phones=["+55 11 9{j}", "(11) 9{j}", "+351 912 {h}"],
        phone_kw=["ligue para", "meu celular:", "telefone"],
        frames=["Cobraram duas vezes, {}. Por favor, resolvam.", "Olá, {} e ninguém responde.", "Reclamação: {}."],
        order=["pedido nº", "número do pedido", "pedido"], tracking=["código de rastreio", "rastreamento"],
        invoice=["nota fiscal nº", "fatura nº"], part=["referência", "modelo", "peça"], customer=["nº de cliente"],
        names=[("Atenciosamente,\n{n}", ["João Silva", "Ana Souza", "Pedro Oliveira"]), ("Obrigado, {n}", ["Mariana Costa"])],
    ),
    "it": dict(
        card=["numero della carta", "la mia carta di credito", "carta n."],
        iban=["IBAN", "conto IBAN"],
        ids=[(ids.it_cf, ["codice fiscale", "C.F."])],
        phones=["+39 347 {k}", "347 {k}", "06 {l}"],
        phone_kw=["chiamatemi al", "cellulare:", "telefono"],
        frames=["Mi avete addebitato due volte, {}. Per favore rimborsate.", "Salve, {} e nessuno risponde.", "Reclamo: {}."],
        order=["ordine n.", "numero d'ordine", "ordine"], tracking=["numero di tracking", "spedizione n."],
        invoice=["fattura n.", "numero fattura"], part=["codice articolo", "modello", "ricambio"], customer=["codice cliente"],
        names=[("Cordiali saluti,\n{n}", ["Marco Rossi", "Giulia Bianchi", "Luca Romano"]), ("Grazie, {n}", ["Francesca Greco"])],
    ),
    "zh": dict(
        card=["卡号", "银行卡号：", "我的信用卡"],
        iban=["IBAN", "收款账户IBAN"],
        ids=[(ids.cn_id, ["身份证号", "身份证号码：", "身份證"])],
        phones=["138{m}", "+86 139 {n4} {o4}", "021-{p}"],
        phone_kw=["手机号", "电话：", "联系电话"],
        frames=["你们重复扣款了，{}，请尽快处理。", "客服你好，{}，一直没人回复。", "投诉：{}。"],
        order=["订单号", "订单编号：", "订单"], tracking=["快递单号", "运单号"],
        invoice=["发票号码", "发票号"], part=["型号", "零件号", "货号"], customer=["会员号"],
        names=[("我是{n}", ["王小明", "李娜", "张伟"]), ("联系人：{n}", ["刘洋"])],
    ),
    "ja": dict(
        card=["カード番号", "クレジットカード", "カード番号："],
        iban=["IBAN", "振込先IBAN"],
        ids=[(ids.jp_mynumber, ["マイナンバー", "個人番号"])],
        phones=["090-{q}", "03-{r}", "+81 90 {q2}"],
        phone_kw=["電話番号", "携帯：", "連絡先"],
        frames=["二重に請求されました。{}。至急対応してください。", "お問い合わせです。{}、返事がありません。", "苦情：{}。"],
        order=["注文番号", "ご注文番号：", "注文"], tracking=["追跡番号", "伝票番号"],
        invoice=["請求書番号", "請求番号"], part=["型番", "品番", "部品番号"], customer=["会員番号"],
        names=[("{n}と申します", ["山田太郎", "佐藤花子", "鈴木一郎"]), ("よろしくお願いします。\n{n}", ["高橋健"])],
    ),
    "ko": dict(
        card=["카드번호", "신용카드", "카드 번호:"],
        iban=["IBAN", "환불 계좌 IBAN"],
        ids=[(ids.kr_rrn, ["주민등록번호", "주민번호"])],
        phones=["010-{s}", "02-{t}", "+82 10 {s2}"],
        phone_kw=["전화번호", "연락처:", "휴대폰"],
        frames=["이중으로 결제되었습니다. {}. 빨리 처리해 주세요.", "안녕하세요, {} 아직 답이 없습니다.", "불만: {}."],
        order=["주문번호", "주문 번호:", "주문"], tracking=["운송장 번호", "송장번호"],
        invoice=["청구서 번호", "인보이스"], part=["모델명", "부품 번호", "품번"], customer=["회원번호"],
        names=[("저는 {n}입니다", ["김민준", "이서연", "박지훈"]), ("감사합니다.\n{n} 드림", ["최유진"])],
    ),
    "vi": dict(
        card=["số thẻ", "thẻ tín dụng", "thẻ ngân hàng"],
        iban=["IBAN", "tài khoản IBAN"],
        ids=[(ids.vn_cccd, ["CCCD", "số căn cước"]), (ids.vn_cmnd, ["CMND", "chứng minh nhân dân"])],
        phones=["0912 {u}", "+84 912 {u}", "090{v}"],
        phone_kw=["số điện thoại", "SĐT:", "gọi cho tôi"],
        frames=["Tôi bị trừ tiền hai lần, {}. Mong được giải quyết.", "Xin chào, {} mà không ai trả lời.", "Khiếu nại: {}."],
        order=["mã đơn hàng", "đơn hàng số", "đơn"], tracking=["mã vận đơn", "mã theo dõi"],
        invoice=["số hóa đơn", "hóa đơn"], part=["mã sản phẩm", "model", "mã linh kiện"], customer=["mã khách hàng"],
        names=[("Tôi là {n}", ["Nguyễn Văn An", "Trần Thị Mai", "Lê Minh Tuấn"]), ("Trân trọng,\n{n}", ["Phạm Quốc Huy"])],
    ),
    "fa": dict(
        card=["شماره کارت", "کارت بانکی", "کارت"],
        iban=["شماره شبا", "IBAN"],
        ids=[(ids.ir_melli, ["کد ملی", "شماره ملی"])],
        phones=["0912 {w}", "+98 912 {w}", "021 {x}"],
        phone_kw=["شماره تماس", "تلفن:", "موبایل"],
        frames=["دو بار از حسابم کم شد، {}. لطفا پیگیری کنید.", "سلام، {} و کسی جواب نمی‌دهد.", "شکایت: {}."],
        order=["شماره سفارش", "سفارش", "کد سفارش"], tracking=["کد رهگیری", "شماره مرسوله"],
        invoice=["شماره فاکتور", "فاکتور"], part=["مدل", "کد کالا", "شماره قطعه"], customer=["کد مشتری"],
        names=[("با تشکر،\n{n}", ["علی رضایی", "مریم احمدی", "رضا محمدی"]), ("من {n} هستم", ["زهرا حسینی"])],
    ),
    "ar": dict(
        card=["رقم البطاقة", "بطاقتي الائتمانية", "بطاقة"],
        iban=["رقم الآيبان IBAN", "IBAN"],
        ids=[(ids.sa_id, ["رقم الهوية", "الهوية الوطنية"]), (ids.ae_eid, ["رقم الهوية الإماراتية"])],
        phones=["+966 50 {y}", "050 {y}", "+971 50 {y}"],
        phone_kw=["رقم الجوال", "هاتفي:", "اتصلوا على"],
        frames=["تم خصم المبلغ مرتين، {}. أرجو الحل.", "مرحبا، {} ولا أحد يرد.", "شكوى: {}."],
        order=["رقم الطلب", "طلب رقم", "الطلب"], tracking=["رقم التتبع", "رقم الشحنة"],
        invoice=["رقم الفاتورة", "فاتورة"], part=["رقم القطعة", "الموديل", "رمز المنتج"], customer=["رقم العميل"],
        names=[("مع التحية،\n{n}", ["محمد العتيبي", "فاطمة الزهراني", "أحمد الشمري"]), ("أنا {n}", ["سارة القحطاني"])],
    ),
    "ru": dict(
        card=["номер карты", "моя карта", "карта №"],
        iban=["IBAN", "счёт IBAN"],
        ids=[(ids.ru_snils, ["СНИЛС"]), (ids.ru_passport, ["паспорт серия и номер", "паспорт"])],
        phones=["+7 916 {z}", "8 (916) {z}", "8 495 {z}"],
        phone_kw=["мой телефон", "звоните", "номер телефона"],
        frames=["С меня списали дважды, {}. Прошу вернуть.", "Здравствуйте, {} и никто не отвечает.", "Жалоба: {}."],
        order=["номер заказа", "заказ №", "заказ"], tracking=["трек-номер", "номер отправления"],
        invoice=["счёт-фактура №", "номер счёта"], part=["артикул", "модель", "номер детали"], customer=["номер клиента"],
        names=[("С уважением,\n{n}", ["Иван Петров", "Анна Смирнова", "Дмитрий Иванов"]), ("Меня зовут {n}", ["Ольга Кузнецова"])],
    ),
}

# Closings and introductions with no name after them: kept even with names on.
NAME_DECOYS = {
    "en": ["I am very disappointed with the service.\nRegards, NovaLink Customer", "This is the third time I write.\nThanks"],
    "de": ["Ich bin sehr enttäuscht.\nMit freundlichen Grüßen", "Viele Grüße an das Support-Team"],
    "fr": ["Je suis très déçu du service.\nCordialement", "Merci de me rappeler rapidement."],
    "es": ["Soy cliente desde 2019 y nunca me pasó esto.\nSaludos", "Gracias por nada."],
    "pt": ["Sou cliente há cinco anos.\nAtenciosamente", "Obrigado pela atenção."],
    "it": ["Sono molto arrabbiato.\nCordiali saluti", "Grazie in anticipo."],
    "zh": ["我是老用户了，这次太失望了。", "谢谢，请尽快处理。"],
    "ja": ["とても困っています。\nよろしくお願いします。", "会員です。対応をお願いします。"],
    "ko": ["저는 학생입니다. 요금이 너무 비싸요.", "감사합니다.\n빨리 처리해 주세요."],
    "vi": ["Tôi là khách hàng lâu năm.\nTrân trọng", "Cảm ơn."],
    "fa": ["من خیلی ناراحت هستم.\nبا تشکر", "با تشکر از پیگیری شما"],
    "ar": ["أنا غاضب جدا", "مع التحية،\nخدمة العملاء"],
    "ru": ["Я очень недоволен.\nС уважением", "Спасибо за ответ."],
}


IBAN_COUNTRY = {"en": "GB", "de": "DE", "fr": "FR", "es": "ES", "pt": "PT", "it": "IT", "zh": "DE", "ja": "NL",
                "ko": "BE", "vi": "CH", "fa": "IR", "ar": "SA", "ru": "AT"}
CARD_BRANDS = {"zh": "unionpay", "ru": "mir", "ja": "jcb"}
EMAILS = ["maria.lopez{n}@gmail.com", "k.mueller{n}@web.de", "zhang.wei{n}@qq.com", "tanaka{n}@docomo.ne.jp",
          "nguyen.an{n}@yahoo.com.vn", "ali.rezaei{n}@yahoo.com", "sara{n}@hotmail.com"]
EMAIL_KW = {"en": "email me at", "de": "E-Mail:", "fr": "mon e-mail :", "es": "mi correo es", "pt": "meu e-mail:",
            "it": "la mia email:", "zh": "邮箱", "ja": "メール：", "ko": "이메일:", "vi": "email:", "fa": "ایمیل من",
            "ar": "بريدي", "ru": "почта:"}


# Identifiers with no check digit, or one that 1 in 10 random numbers pass: without a keyword
# nothing tells them from an order or tracking number, so no case has them bare.
NEED_KEYWORD = {ids.vn_cmnd, ids.vn_cccd, ids.ru_passport, ids.de_idnr, ids.jp_mynumber, ids.sa_id}
NATIVE_DIGITS = {"fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩"}


def native(rng: random.Random, lang: str, v: str) -> str:
    """Persian and Arabic writers often type their own digits."""
    if lang in NATIVE_DIGITS and rng.random() < 0.4:
        return v.translate(str.maketrans("0123456789", NATIVE_DIGITS[lang]))
    return v


def _fill(rng: random.Random, pattern: str) -> str:
    """Replace {a}..{z} in a phone pattern with random digit groups of plausible sizes."""
    sizes = {"a": 4, "b": 4, "c": 5, "d": 7, "e": 8, "f": "99 99 99 99", "g": "99.99.99.99", "h": "999 999",
             "i": "999 99 99", "j": "9999-9999", "k": "999 9999", "l": "9999 9999", "m": 8, "n4": 4, "o4": 4, "p": 8,
             "q": "9999-9999", "r": "9999-9999", "q2": "9999 9999", "s": "9999-9999", "t": "999-9999", "s2": "9999 9999",
             "u": "999 999", "v": 7, "w": "999 9999", "x": "9999 9999", "y": "999 9999", "z": "999-99-99"}
    out = pattern
    for key, spec in sorted(sizes.items(), key=lambda kv: -len(kv[0])):
        token = "{" + key + "}"
        while token in out:
            if isinstance(spec, int):
                val = "".join(rng.choice("0123456789") for _ in range(spec))
            else:
                val = "".join(rng.choice("0123456789") if c.isdigit() else c for c in spec)
            out = out.replace(token, val, 1)
    return out


def _kv(what: str, kw: str, value: str) -> tuple[str, str, str]:
    return what, (kw + " " + value if kw else value), value


def _decoys(rng: random.Random, lang: str, t: dict) -> list[tuple[str, str, str]]:
    """(what, phrase, value) look-alikes that must be kept, each with its keyword."""
    D = "0123456789"
    num = lambda n: rng.choice("123456789") + "".join(rng.choice(D) for _ in range(n - 1))  # noqa: E731
    c = rng.choice
    out = [
        _kv("order", c(t["order"]), num(c([8, 10, 12]))),
        _kv("order", c(t["order"]), num(16)),  # marketplace order numbers are long
        _kv("order", c(t["order"]), "0" + num(9)),  # shaped like a phone number
        _kv("order", c(t["order"]), f"{num(3)}-{num(7)}-{num(7)}"),
        _kv("tracking", c(t["tracking"]), f"1Z{num(3)}AA{num(10)}"),
        _kv("tracking", c(t["tracking"]), f"{c(['RR', 'LX', 'CP'])}{num(9)}{c(['CN', 'DE', 'FR'])}"),
        _kv("tracking", c(t["tracking"]), num(12)),
        _kv("invoice", c(t["invoice"]), f"INV-2026-{num(5)}"),
        _kv("invoice", c(t["invoice"]), num(10)),
        _kv("part", c(t["part"]), f"PN {num(6)}A"),
        _kv("part", c(t["part"]), f"SM-G{num(3)}B"),
        _kv("part", c(t["part"]), num(13)),  # an EAN barcode
        _kv("customer", c(t["customer"]), num(8)),
        _kv("date", "", c(["2026-03-14", "14.03.2026", "03/14/2026", "2026年3月14日", "14/03/2026 18:45"])),
        _kv("price", "", c(["1.299,00 €", "$1,249.99", "¥12,800", "25.000.000 đồng", "1 299 руб.", "2,450,000 تومان",
                            "R$ 1.299,90", "₩1,250,000"])),
        _kv("quantity", "", c(["20000 mAh", "3 x 250 ml", "1000 Mbps", "12 500 km"])),
    ]
    return out


def build(seed: int = 17) -> list[dict]:
    rng = random.Random(seed)
    cases = []

    def add(lang, kind, text, pii=(), keep=()):
        cases.append({"id": f"tune-{len(cases) + 1:04d}", "part": "tune", "lang": lang, "kind": kind, "text": text,
                      "pii": list(pii), "keep": list(keep)})

    for lang, t in L.items():
        frame = lambda: rng.choice(t["frames"])  # noqa: E731
        brand = CARD_BRANDS.get(lang, "visa")
        # cards: valid with and without keyword; check failing or brand length wrong, with keyword
        for valid, kw, length in ((True, True, None), (True, False, None), (False, True, None), (False, True, None),
                                  (False, True, 15 if brand != "amex" else 16), (True, True, None)):
            b = brand if rng.random() < 0.6 else rng.choice(["visa", "mastercard", "amex"])
            n = ids.card(rng, b, valid, length)
            v = native(rng, lang, ids.card_text(rng, n))
            phrase = f"{rng.choice(t['card'])} {v}" if kw else v
            add(lang, "card", frame().format(phrase), [v])
        # IBANs
        c = IBAN_COUNTRY[lang]
        for valid, kw in ((True, True), (True, False), (False, True), (False, True)):
            v = ids.iban_text(rng, ids.iban(rng, c, valid))
            add(lang, "iban", frame().format(f"{rng.choice(t['iban'])} {v}" if kw else v), [v])
        # national ids: valid with keyword, check failing with keyword, valid without keyword
        for gen, kws in t["ids"]:
            for valid, kw in ((True, True), (False, True), (False, True), (True, False)):
                if not kw and gen in NEED_KEYWORD:
                    continue  # no check digit, or a weak one: only a keyword says what they are
                v = gen(rng, valid)
                if not kw and gen is ids.br_cpf and "." not in v:
                    v = f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"  # bare, a CPF is known by its dots
                v = native(rng, lang, v)
                add(lang, "national_id", frame().format(f"{rng.choice(kws)} {v}" if kw else v), [v])
        # phones
        for p in t["phones"]:
            v = native(rng, lang, _fill(rng, p))
            add(lang, "phone", frame().format(f"{rng.choice(t['phone_kw'])} {v}"), [v])
        # e-mail and a secret URL
        v = rng.choice(EMAILS).format(n=rng.randint(1, 99))
        add(lang, "email", frame().format(f"{EMAIL_KW[lang]} {v}"), [v])
        tok = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(24))
        add(lang, "url_secret", frame().format(f"https://shop.example.com/reset?token={tok}"), [tok],
            ["https://shop.example.com/reset?token="])
        # names in signatures and greetings (an opt-in kind)
        for fmt, names in t["names"]:
            for n in names[:2]:
                o = str(rng.randint(100000, 999999))
                add(lang, "person", frame().format(rng.choice(t["order"]) + " " + o) + "\n" + fmt.format(n=n), [n], [o])
        for text in NAME_DECOYS[lang]:
            words = [w.strip(".,،。") for w in text.split() if len(w.strip(".,،。")) > 1][:3]
            add(lang, "decoy:name", text, [], words)
        # decoys: one case each, some with two look-alikes
        ds = _decoys(rng, lang, t)
        for what, phrase, v in ds:
            add(lang, f"decoy:{what}", frame().format(phrase), [], [v])
        for _ in range(4):
            (w1, p1, v1), (w2, p2, v2) = rng.sample(ds, 2)
            add(lang, f"decoy:{w1}+{w2}", frame().format(f"{p1}, {p2}"), [], [v1, v2])
    return cases


if __name__ == "__main__":
    out = Path(__file__).parent / "tune.jsonl"
    cases = build()
    with out.open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    from collections import Counter

    print(len(cases), "cases;", Counter(c["kind"].split(":")[0] for c in cases), Counter(c["lang"] for c in cases))
