"""Write heldout.jsonl: the held-out half of the PII cases, written after the rules in
miner/ingest/pii.py were fixed on tune.jsonl, from other templates (other sentences, other
keyword phrasings, other look-alikes: contract, case and ticket numbers, other carriers' tracking
numbers, serial numbers, versions, times) and another seed. Nothing was tuned on it.
Run: python corpora/pii_cases/make_heldout.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import pii_ids as ids  # noqa: E402
from make_tune import NATIVE_DIGITS, native  # noqa: E402  (Persian/Arabic digits, as writers type them)

H = {
    "en": dict(
        frames=["I was billed twice last week ({}), what is going on?", "Your app stored {} and now I get spam.",
                "Please delete my data: {}", "The agent asked me for {} over chat, is that normal?"],
        card=("debit card number", "card ending in full:"), iban=("bank account (IBAN):", "IBAN no."),
        ids=[(ids.us_ssn, "social security no."), (ids.gb_nino, "national insurance number")],
        phone=[("reach me at", "+1-646-555-{a4}"), ("text me on", "+44 7911 {b6}")],
        closing=("Best regards,\n{n}", "My name is {n} and"), names=["Robert Brown", "Linda Green"],
        order="my order ref", contract="contract number", case="case no.", ticket="ticket",
    ),
    "de": dict(
        frames=["Letzte Woche doppelt belastet ({}), was ist da los?", "Ihre App hat {} gespeichert.",
                "Bitte löschen Sie meine Daten: {}", "Der Mitarbeiter wollte {} am Telefon wissen."],
        card=("Kartennr.", "meine EC-Karte"), iban=("Konto IBAN", "IBAN lautet"),
        ids=[(ids.de_idnr, "steuerliche Identifikationsnummer (Steuer-ID)")],
        phone=[("Sie erreichen mich unter", "0171 {c7}"), ("Tel.", "+49 (0)40 {d7}")],
        closing=("Beste Grüße\n{n}", "Mein Name ist {n} und"), names=["Thomas Becker", "Sabine Wagner"],
        order="meine Bestellung Nr.", contract="Vertragsnummer", case="Vorgangsnummer", ticket="Ticket",
    ),
    "fr": dict(
        frames=["Prélevé deux fois la semaine dernière ({}), que se passe-t-il ?", "Votre appli a enregistré {}.",
                "Merci de supprimer mes données : {}", "Le conseiller m'a demandé {} par chat."],
        card=("ma CB n°", "carte bancaire numéro"), iban=("mon IBAN est", "coordonnées bancaires IBAN :"),
        ids=[(ids.fr_nir, "n° de sécu")],
        phone=[("joignable au", "07 {e8}"), ("tél :", "+33 1 {e8}")],
        closing=("Salutations,\n{n}", "Je m'appelle {n} et"), names=["Claire Petit", "Nicolas Durand"],
        order="ma commande réf.", contract="numéro de contrat", case="dossier n°", ticket="ticket",
    ),
    "es": dict(
        frames=["Me cobraron dos veces la semana pasada ({}), ¿qué pasa?", "Su app guardó {} sin permiso.",
                "Borren mis datos, por favor: {}", "El agente me pidió {} por chat."],
        card=("nº de tarjeta", "tarjeta de débito"), iban=("mi IBAN:", "cuenta bancaria IBAN"),
        ids=[(ids.es_dni, "número de DNI"), (ids.es_nie, "mi NIE")],
        phone=[("contacto", "+34 6{f8}"), ("mi teléfono es el", "6{f8}")],
        closing=("Un saludo,\n{n}", "Me llamo {n} y"), names=["Elena Torres", "Miguel Sánchez"],
        order="mi pedido nº", contract="número de contrato", case="expediente", ticket="incidencia",
    ),
    "pt": dict(
        frames=["Fui cobrado duas vezes semana passada ({}), o que houve?", "O app de vocês salvou {}.",
                "Apaguem meus dados, por favor: {}", "O atendente pediu {} pelo chat."],
        card=("nº do cartão", "cartão de débito"), iban=("meu IBAN:", "IBAN da conta"),
        ids=[(ids.br_cpf, "número do CPF")],
        phone=[("whatsapp", "+55 21 9{g8}"), ("meu telefone é", "(21) 9{g8}")],
        closing=("Abraços,\n{n}", "Meu nome é {n} e"), names=["Lucas Pereira", "Beatriz Alves"],
        order="meu pedido nº", contract="número do contrato", case="protocolo", ticket="chamado",
    ),
    "it": dict(
        frames=["Addebitato due volte la settimana scorsa ({}), cosa succede?", "La vostra app ha salvato {}.",
                "Cancellate i miei dati: {}", "L'operatore mi ha chiesto {} in chat."],
        card=("n. carta", "carta di debito"), iban=("il mio IBAN è", "coordinate IBAN"),
        ids=[(ids.it_cf, "il mio codice fiscale è")],
        phone=[("recapito", "+39 333 {h7}"), ("tel.", "333 {h7}")],
        closing=("Distinti saluti,\n{n}", "Mi chiamo {n} e"), names=["Alessandro Conti", "Chiara Ricci"],
        order="il mio ordine n.", contract="numero di contratto", case="pratica n.", ticket="segnalazione",
    ),
    "zh": dict(
        frames=["上周被重复扣款（{}），怎么回事？", "你们的APP存了{}，现在天天收到骚扰。", "请删除我的信息：{}", "客服在聊天里要我提供{}，正常吗？"],
        card=("信用卡卡号", "储蓄卡号"), iban=("收款账户IBAN：", "IBAN账号"),
        ids=[(ids.cn_id, "居民身份证号码")],
        phone=[("手机：", "1{i10}"), ("联系电话", "0755-{j8}")],
        closing=("我叫{n}，", "联系人：{n}"), names=["陈志强", "林美玲"],
        order="订单号：", contract="合同编号", case="工单号", ticket="投诉单号",
    ),
    "ja": dict(
        frames=["先週二重引き落としがありました（{}）。", "アプリに{}が保存されています。", "私の情報を削除してください：{}", "チャットで{}を聞かれましたが大丈夫ですか。"],
        card=("クレジットカード番号", "デビットカード"), iban=("IBAN：", "口座IBAN"),
        ids=[(ids.jp_mynumber, "個人番号（マイナンバー）")],
        phone=[("携帯番号", "080-{k4}-{l4}"), ("TEL", "06-{k4}-{l4}")],
        closing=("{n}と申します。", "以上、よろしくお願いいたします。\n{n}"), names=["中村翔太", "小林美咲"],
        order="注文番号：", contract="契約番号", case="受付番号", ticket="問い合わせ番号",
    ),
    "ko": dict(
        frames=["지난주에 이중 결제되었습니다 ({}).", "앱에 {} 정보가 저장되어 있어요.", "제 정보를 삭제해 주세요: {}", "상담원이 채팅으로 {}를 물어봤어요."],
        card=("체크카드 번호", "카드번호는"), iban=("IBAN:", "계좌 IBAN"),
        ids=[(ids.kr_rrn, "주민등록번호는")],
        phone=[("휴대폰 번호", "010-{k4}-{l4}"), ("연락처", "010 {k4} {l4}")],
        closing=("제 이름은 {n}입니다.", "저는 {n}이에요."), names=["정수빈", "강하늘"],
        order="주문번호:", contract="계약번호", case="접수번호", ticket="문의번호",
    ),
    "vi": dict(
        frames=["Tuần trước tôi bị trừ tiền hai lần ({}).", "Ứng dụng lưu {} của tôi.", "Vui lòng xóa thông tin: {}", "Nhân viên hỏi {} qua chat."],
        card=("số thẻ tín dụng", "thẻ ATM số"), iban=("IBAN:", "số tài khoản IBAN"),
        ids=[(ids.vn_cccd, "số căn cước công dân"), (ids.vn_cmnd, "số CMND")],
        phone=[("SĐT", "09{m8}"), ("liên hệ", "+84 9{m8}")],
        closing=("Tên tôi là {n}", "Thân ái,\n{n}"), names=["Hoàng Thu Hà", "Vũ Đức Thắng"],
        order="mã đơn", contract="số hợp đồng", case="mã hồ sơ", ticket="mã yêu cầu",
    ),
    "fa": dict(
        frames=["هفته پیش دو بار پول کم شد ({}).", "برنامه شما {} را ذخیره کرده است.", "لطفا اطلاعاتم را پاک کنید: {}", "کارشناس در چت {} را پرسید."],
        card=("شماره کارت بانکی", "کارت"), iban=("شماره شبا:", "شبا"),
        ids=[(ids.ir_melli, "کد ملی:")],
        phone=[("شماره همراه", "0935 {n7}"), ("تلفن", "021-{n8}")],
        closing=("ارادتمند،\n{n}", "با سپاس\n{n}"), names=["حسین کریمی", "فاطمه موسوی"],
        order="شماره سفارش:", contract="شماره قرارداد", case="شماره پرونده", ticket="شماره تیکت",
    ),
    "ar": dict(
        frames=["تم خصم المبلغ مرتين الأسبوع الماضي ({}).", "التطبيق حفظ {} لديكم.", "أرجو حذف بياناتي: {}", "طلب الموظف {} في المحادثة."],
        card=("رقم بطاقة الائتمان", "بطاقة مدى رقم"), iban=("الآيبان:", "رقم الحساب IBAN"),
        ids=[(ids.sa_id, "رقم الهوية الوطنية"), (ids.ae_eid, "رقم الهوية")],
        phone=[("جوالي", "05{o8}"), ("رقم الهاتف", "+971 55 {p7}")],
        closing=("تحياتي،\n{n}", "اسمي {n}"), names=["خالد الحربي", "نورة السبيعي"],
        order="رقم الطلب:", contract="رقم العقد", case="رقم البلاغ", ticket="رقم التذكرة",
    ),
    "ru": dict(
        frames=["На прошлой неделе списали дважды ({}).", "Ваше приложение сохранило {}.", "Удалите мои данные: {}", "Оператор спросил {} в чате."],
        card=("номер банковской карты", "картой"), iban=("IBAN:", "счёт IBAN"),
        ids=[(ids.ru_snils, "номер СНИЛС"), (ids.ru_passport, "паспорт")],
        phone=[("телефон:", "+7 (925) {q3}-{r2}-{s2}"), ("мобильный", "8 925 {q3} {r2} {s2}")],
        closing=("С наилучшими пожеланиями,\n{n}", "Меня зовут {n}, и"), names=["Сергей Волков", "Елена Морозова"],
        order="заказ №", contract="номер договора", case="номер обращения", ticket="заявка №",
    ),
}
IBAN_C = {"en": "IE", "de": "AT", "fr": "BE", "es": "ES", "pt": "BR", "it": "IT", "zh": "GB", "ja": "DE",
          "ko": "FR", "vi": "NL", "fa": "IR", "ar": "AE", "ru": "CH"}
ids.IBAN_SHAPES.setdefault("IE", "AAAA" + "9" * 14)
BRAND = {"zh": "unionpay19", "ru": "mir", "ja": "jcb", "en": "amex", "ar": "mastercard", "ko": "mastercard"}


def _digits(rng, spec: str) -> str:
    """{a4}, {b6}...: the number after the letter is how many random digits."""
    import re

    return re.sub(r"\{[a-z](\d+)\}", lambda m: "".join(rng.choice("0123456789") for _ in range(int(m.group(1)))), spec)


def build(seed: int = 1717) -> list[dict]:
    rng = random.Random(seed)
    cases: list[dict] = []

    def add(lang, kind, text, pii=(), keep=()):
        cases.append({"id": f"heldout-{len(cases) + 1:04d}", "part": "heldout", "lang": lang, "kind": kind,
                      "text": text, "pii": list(pii), "keep": list(keep)})

    num = lambda n: rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(n - 1))  # noqa: E731
    for lang, t in H.items():
        fr = lambda: rng.choice(t["frames"])  # noqa: E731
        brand = BRAND.get(lang, "visa")
        # cards: one valid with a keyword, one mistyped with a keyword, one valid bare
        for valid, kw in ((True, True), (False, True), (True, False)):
            v = native(rng, lang, ids.card_text(rng, ids.card(rng, brand, valid)))
            add(lang, "card", fr().format(f"{rng.choice(t['card'])} {v}" if kw else v), [v])
        # IBANs: mistyped with a keyword, valid bare
        for valid, kw in ((False, True), (True, False)):
            v = ids.iban_text(rng, ids.iban(rng, IBAN_C[lang], valid))
            add(lang, "iban", fr().format(f"{rng.choice(t['iban'])} {v}" if kw else v), [v])
        # national ids: valid and mistyped, with the keyword phrase
        for gen, kw in t["ids"]:
            for valid in (True, False):
                v = native(rng, lang, gen(rng, valid))
                add(lang, "national_id", fr().format(f"{kw} {v}"), [v])
        # phones, e-mail, a secret in a URL
        for kw, spec in t["phone"]:
            v = native(rng, lang, _digits(rng, spec))
            add(lang, "phone", fr().format(f"{kw} {v}"), [v])
        user = rng.choice(["li.na", "p.nguyen", "omar.k", "j.schulz", "m.rossi", "s.ivanova"]) + str(rng.randint(10, 99))
        v = f"{user}@{rng.choice(['outlook.com', 'mail.ru', '163.com', 'naver.com', 'gmx.de', 'libero.it'])}"
        add(lang, "email", fr().format(v), [v])
        sec = "".join(rng.choice("abcdef0123456789") for _ in range(32))
        add(lang, "url_secret", fr().format(f"https://api.example.net/v2/orders?api_key={sec}&page=2"), [sec],
                ["https://api.example.net/v2/orders?api_key="])
        # names (opt-in)
        for n, closing in zip(t["names"], t["closing"]):
            o = num(7)
            add(lang, "person", fr().format(f"{t['order']} {o}") + "\n" + closing.format(n=n), [n], [o])
        # look-alikes that must stay
        decoys = [
            ("order", f"{t['order']} {num(rng.choice([9, 11, 14]))}", None),
            ("order", f"{t['order']} 0{num(10)}", None),  # phone-shaped
            ("order", f"{t['order']} {num(16)}", None),
            ("contract", f"{t['contract']} {num(10)}", None),
            ("case", f"{t['case']} {rng.choice(['C', 'K', ''])}{num(8)}", None),
            ("ticket", f"{t['ticket']} #{num(7)}", None),
            ("tracking", f"JJD{num(18)}", None),
            ("tracking", f"9400 1{num(3)} {num(4)} {num(4)} {num(4)} {num(2)}", None),
            ("tracking", f"SF{num(12)}", None),
            ("serial", f"S/N {rng.choice(['C02', 'F4G', 'R58'])}{num(6)}{rng.choice(['JG5H', 'XK0A', 'MD6T'])}", None),
            ("version", f"v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)} build {num(8)}", None),
            ("date", rng.choice(["2025-12-31 23:59", "31.12.2025", "12/31/2025", "2025年12月31日 23:59", "31/12/2025"]), None),
            ("price", rng.choice(["€ 2.499,00", "US$ 2,499.00", "￥3,980", "12.500.000 VND", "45 000 ₽", "1,250 ر.س",
                                  "R$ 2.499,00", "₩39,000"]), None),
        ]
        for what, phrase, _ in decoys:
            value = phrase.split(" ", 1)[1] if what in ("order", "contract", "case", "ticket") and " " in phrase else phrase
            if what in ("order", "contract", "case", "ticket"):
                value = phrase[len(t[what if what != "order" else "order"]) + 1 :] if what != "order" else phrase[len(t["order"]) + 1 :]
            if lang in NATIVE_DIGITS and what in ("order", "contract") and rng.random() < 0.4:
                native_value = value.translate(str.maketrans("0123456789", NATIVE_DIGITS[lang]))
                phrase, value = phrase.replace(value, native_value), native_value
            add(lang, f"decoy:{what}", fr().format(phrase), [], [value])
    return cases


if __name__ == "__main__":
    out = Path(__file__).parent / "heldout.jsonl"
    cases = build()
    with out.open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    from collections import Counter

    print(len(cases), "cases;", Counter(c["kind"].split(":")[0] for c in cases), Counter(c["lang"] for c in cases))
