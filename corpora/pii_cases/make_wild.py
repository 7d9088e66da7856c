"""Write wild.jsonl: a fifth part of the PII cases, written by someone who had not read
miner/ingest/pii.py nor its tests, in forms the earlier parts (tune, heldout, fresh, final) do not
use: chat transcripts with timestamps and speaker names, form dumps ("Name: ... / Card: ..."),
signatures, quoted e-mail reply headers, numbers split over two lines or grouped oddly (dots,
slashes, groups of 2-5 digits), full-width digits (１２３４), Arabic-Indic and Persian digits,
keywords abbreviated or misspelled ("CC#", "acct", "Kto.", "rib", "身份證字號", "ｶｰﾄﾞ番号",
"شماره كارت" with an Arabic kaf), national ids with a wrong check digit next to their keyword,
e-mail addresses written out ("name [at] domain [dot] com"), secrets in URL paths, fragments and
signed-URL parameters; and look-alikes: masked cards, IMEIs (check digit valid), serial, tracking,
flight, booking, ticket, invoice and order numbers grouped oddly, dates and amounts in native
digits, postcodes, creditor references (RF.., mod-97 valid), EAN-13 codes.

Decoys are drawn at random and never filtered against a check digit: a ticket or postcode that
happens to pass a Luhn or national-id check is still a ticket or a postcode to a reader.

Masked card numbers (decided before the first measurement): a card written with at most its last
four digits visible ("**** **** **** 1234", "XXXX-XXXX-XXXX-1234", "•••• 1234") or in the
truncated form PCI DSS allows to be shown (first six and last four, "4539 14** **** 6467") is not
a leak; it is a decoy that must stay verbatim, so that "card ending 1234" still tells the support
team which card was charged.

Measured once as it came out (bench/bench_pii.py, FIRST_RUNS["wild"]), before pii.py was read.
Run: python corpora/pii_cases/make_wild.py
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from stdnum import ean, luhn
from stdnum.iso7064 import mod_97_10

sys.path.insert(0, str(Path(__file__).parent))
import pii_ids as ids  # noqa: E402

FW = "０１２３４５６７８９"
NATIVE = {"fa": "۰۱۲۳۴۵۶۷۸۹", "ar": "٠١٢٣٤٥٦٧٨٩", "zh": FW, "ja": FW, "ko": FW}

# Per language. ask: the agent's request; said: the customer's line before a value; body: a
# complaint sentence; bye: a closing word; lab: form labels (name, card, iban, id, phone, email,
# order, amount, date, customer); card/iban/phone kw: abbreviated or misspelled keywords;
# reply: a quoted-reply header ({e} the address, {d} a date).
W = {
    "en": dict(
        cust="Customer", agent="Agent Kim", ask="Can you confirm the details on the account?",
        said="sure, here:", body="The refund from March still has not arrived and nobody answers.", bye="Cheers",
        lab=["Name", "Card", "Bank", "SSN", "Phone", "Email", "Order", "Amount", "Date", "Customer ID"],
        card=["CC#", "cc no", "credti card", "card#"], iban=["acct", "bank acct:", "IBAN:"], cc="GB",
        idg=ids.us_ssn, idkw=["SS#", "soc sec no", "ssn:"],
        phone=["({a3}) {b3}-{4}", "{a3}.{b3}.{4}", "+1 {a3}-{b3}-{4}"], phkw=["ph.", "cell#", "Tel:"],
        mail=("jenny.morris", "outlook.com"), reply="On Sat, Mar 14, 2026 at 10:42 AM Jenny <{e}> wrote:",
        names=["Jennifer Morris", "Kevin O'Brien"], title="Procurement Lead, Brightwell Ltd",
        imei="IMEI", serial="Serial:", track=("FedEx tracking", "{4} {4} {4}"), flight=("flight", "booking ref"),
        ticket="ticket no.", inv="Inv#", post=("ZIP", ["90210", "SW1A 2AA", "10001-2345"]), ref="payment reference",
        ean="EAN", date="Mar 14, 2026, 10:42 PM", amount="$1,249.99", masked="card ending",
    ),
    "de": dict(
        cust="Kunde", agent="Support (Jana)", ask="Können Sie mir bitte die Daten bestätigen?",
        said="klar, hier:", body="Die Erstattung vom März ist immer noch nicht da.", bye="Gruß",
        lab=["Name", "Karte", "Bankverbindung", "Steuer-ID", "Telefon", "E-Mail", "Bestellnr.", "Betrag", "Datum", "Kd.-Nr."],
        card=["Kreditkarten-Nr.", "KK-Nr", "Kartennr", "Kreditkarte#"], iban=["Kto.", "Konto-Nr.", "Bankverb.:"], cc="DE",
        idg=ids.de_idnr, idkw=["St-IdNr", "Steuer-IdNr.", "IdNr:"],
        phone=["(030) {7}", "0171/{7}", "+49 (0) 171 {3} {4}"], phkw=["Tel.", "Mobil:", "Handynr."],
        mail=("s.hoffmann", "gmx.net"), reply="Am 14.03.2026 um 10:42 schrieb Stefan Hoffmann <{e}>:",
        names=["Stefan Hoffmann", "Birgit Krause"], title="Einkauf, Nordwerk GmbH",
        imei="IMEI-Nr.", serial="Seriennr.", track=("DHL Sendungsnr.", "00340434{12}"), flight=("Flug", "Buchungscode"),
        ticket="Fahrkarte Nr.", inv="Rg.-Nr.", post=("PLZ", ["10115", "80331", "50667"]), ref="Verwendungszweck",
        ean="EAN", date="14.3.26, 10:42 Uhr", amount="1.249,99 €", masked="Karte endet auf",
    ),
    "fr": dict(
        cust="Client", agent="Conseiller Hugo", ask="Pouvez-vous me confirmer vos coordonnées ?",
        said="oui voilà :", body="Le remboursement de mars n'est toujours pas arrivé.", bye="Cdlt",
        lab=["Nom", "CB", "RIB", "N° SS", "Tél", "Courriel", "Commande", "Montant", "Date", "N° adhérent"],
        card=["n° CB", "CB:", "carte bleue n", "numero carte"], iban=["RIB", "rib :", "cpte"], cc="FR",
        idg=ids.fr_nir, idkw=["n° SS", "num secu", "N.I.R."],
        phone=["06.{2}.{2}.{2}.{2}", "+33 (0)6 {2} {2} {2} {2}", "07-{2}-{2}-{2}-{2}"], phkw=["tel", "port.", "Tél :"],
        mail=("aurelie.girard", "orange.fr"), reply="Le sam. 14 mars 2026 à 10:42, Aurélie Girard <{e}> a écrit :",
        names=["Aurélie Girard", "Mathieu Lefèvre"], title="Responsable achats, Maison Lumen",
        imei="IMEI", serial="N° de série", track=("Colissimo n°", "6A{11}"), flight=("vol", "réf. de réservation"),
        ticket="billet n°", inv="Fact. n°", post=("CP", ["75011", "69003", "13008"]), ref="réf. virement",
        ean="EAN", date="14/03/26 à 10h42", amount="1 249,99 €", masked="carte se terminant par",
    ),
    "es": dict(
        cust="Cliente", agent="Agente Laura", ask="¿Me confirma sus datos, por favor?",
        said="sí, aquí:", body="El reembolso de marzo todavía no ha llegado.", bye="Saludos",
        lab=["Nombre", "Tarjeta", "Cuenta", "DNI", "Tlf", "Correo", "Pedido", "Importe", "Fecha", "Nº socio"],
        card=["tarj.", "nro tarjeta", "tarjeta cred.", "num. de tarjeta"], iban=["cta.", "nº cuenta", "IBAN nº"], cc="ES",
        idg=ids.es_dni, idkw=["D.N.I.", "dni nº", "NIF"],
        phone=["6{2} {2} {2} {2}", "+34 6{2}-{3}-{3}", "(+34) 7{2} {3} {3}"], phkw=["tlf", "móvil", "tel."],
        mail=("pablo.iglesias.r", "hotmail.es"), reply="El sáb, 14 mar 2026 a las 10:42, Pablo <{e}> escribió:",
        names=["Pablo Iglesias Romero", "Marta Gil"], title="Compras, Talleres Sur S.L.",
        imei="IMEI", serial="Nº de serie", track=("Correos envío", "PK{10}ES"), flight=("vuelo", "localizador"),
        ticket="billete nº", inv="Fra. nº", post=("C.P.", ["28013", "08001", "41004"]), ref="concepto transferencia",
        ean="EAN", date="14-03-2026 10:42", amount="1.249,99 €", masked="tarjeta terminada en",
    ),
    "pt": dict(
        cust="Cliente", agent="Atendente Bruna", ask="Pode confirmar seus dados, por favor?",
        said="claro, segue:", body="O reembolso de março ainda não caiu na conta.", bye="Abs",
        lab=["Nome", "Cartão", "NIB", "CPF", "Tel", "E-mail", "Pedido", "Valor", "Data", "Nº cliente"],
        card=["cartao", "nº cartão", "cc:", "n. do cartao"], iban=["NIB", "conta", "IBAN nº"], cc="PT",
        idg=ids.br_cpf, idkw=["C.P.F.", "cpf nº", "CPF/MF"],
        phone=["91{1} {3} {3}", "(21) 9{4} {4}", "+55 21 9{4}.{4}"], phkw=["tel", "cel.", "whats"],
        mail=("rafael.souza88", "uol.com.br"), reply="Em sáb., 14 de mar. de 2026 às 10:42, Rafael <{e}> escreveu:",
        names=["Rafael Souza", "Juliana Martins"], title="Compras, Casa Nova Ltda",
        imei="IMEI", serial="Nº de série", track=("rastreio Correios", "Q{1}{9}BR"), flight=("voo", "localizador"),
        ticket="bilhete nº", inv="NF nº", post=("CEP", ["01310-100", "1100-148", "20040-002"]), ref="referência da transferência",
        ean="EAN", date="14/03/2026 às 10:42", amount="R$ 1.249,99", masked="cartão final",
    ),
    "it": dict(
        cust="Cliente", agent="Operatore Davide", ask="Mi conferma i suoi dati, per favore?",
        said="certo, ecco:", body="Il rimborso di marzo non è ancora arrivato.", bye="Saluti",
        lab=["Nome", "Carta", "IBAN", "C.F.", "Tel", "Email", "Ordine", "Importo", "Data", "Cod. cliente"],
        card=["carta cred.", "n° carta", "cc n.", "num carta"], iban=["c/c", "IBAN n.", "conto corr."], cc="IT",
        idg=ids.it_cf, idkw=["C.F.", "cod. fiscale", "CF:"],
        phone=["333-{7}", "+39 3{2}/{7}", "34{1} {3} {2} {2}"], phkw=["cell.", "tel", "recapito tel."],
        mail=("f.esposito", "libero.it"), reply="Il giorno sab 14 mar 2026 alle ore 10:42 Federica <{e}> ha scritto:",
        names=["Federica Esposito", "Giorgio Marchetti"], title="Ufficio acquisti, Ferri & C. S.r.l.",
        imei="IMEI", serial="Matricola", track=("spedizione BRT", "{4}{4}{4}{2}"), flight=("volo", "codice prenotazione"),
        ticket="biglietto n.", inv="Fatt. n.", post=("CAP", ["00184", "20121", "80133"]), ref="causale bonifico",
        ean="EAN", date="14/3/2026 ore 10:42", amount="€ 1.249,99", masked="carta che termina con",
    ),
    "zh": dict(
        cust="客户", agent="客服小李", ask="麻烦核对一下您的信息。",
        said="好的：", body="三月份的退款到现在还没到账。", bye="谢谢",
        lab=["姓名", "卡号", "账号", "证件号", "电话", "邮箱", "订单号", "金额", "日期", "会员号"],
        card=["卡號", "信用卡号码", "银行卡", "卡号码"], iban=["账号", "国际银行账号", "IBAN号"], cc="CH",
        idg=ids.cn_id, idkw=["身份证号码", "身份證字號", "证件号"],
        phone=["13{1}-{4}-{4}", "15{1} {4} {4}", "(+86)18{1}{8}"], phkw=["电话", "手机", "联系方式"],
        mail=("liu.fang1990", "163.com"), reply="在 2026年3月14日 10:42，刘芳 <{e}> 写道：",
        names=["刘芳", "赵建国"], title="采购部 经理",
        imei="IMEI", serial="序列号", track=("顺丰单号", "SF{13}"), flight=("航班", "订座记录"),
        ticket="票号", inv="发票号", post=("邮编", ["100020", "200040", "510620"]), ref="转账附言",
        ean="条码", date="2026-3-14 10:42", amount="￥1,299.00", masked="尾号",
    ),
    "ja": dict(
        cust="お客様", agent="担当 佐々木", ask="ご登録内容を確認させてください。",
        said="はい、こちらです：", body="3月分の返金がまだ振り込まれていません。", bye="以上です",
        lab=["氏名", "カード", "口座", "個人番号", "電話", "メール", "注文番号", "金額", "日付", "会員ID"],
        card=["ｶｰﾄﾞ番号", "クレカ番号", "カード No.", "カード#"], iban=["口座", "IBAN番号", "振込口座"], cc="NL",
        idg=ids.jp_mynumber, idkw=["個人番号", "ﾏｲﾅﾝﾊﾞｰ", "マイナンバー（個人番号）"],
        phone=["090({4}){4}", "080 {4} {4}", "03({4}){4}"], phkw=["TEL", "携帯", "電話"],
        mail=("k.watanabe", "yahoo.co.jp"), reply="2026年3月14日(土) 10:42 渡辺 <{e}>:",
        names=["渡辺健太", "石井由美"], title="購買部 課長",
        imei="IMEI", serial="製造番号", track=("ゆうパック追跡番号", "{4}-{4}-{4}"), flight=("便名", "予約番号"),
        ticket="チケット番号", inv="請求書No.", post=("〒", ["150-0001", "530-0011", "060-0042"]), ref="振込依頼人番号",
        ean="JANコード", date="２０２６年３月１４日 10:42", amount="１２，８００円", masked="下4桁",
    ),
    "ko": dict(
        cust="고객", agent="상담원 민지", ask="가입 정보를 확인해 주시겠어요?",
        said="네 여기요:", body="3월 환불이 아직도 안 들어왔어요.", bye="수고하세요",
        lab=["이름", "카드", "계좌", "주민번호", "연락처", "이메일", "주문번호", "금액", "날짜", "회원번호"],
        card=["카드#", "카드넘버", "신용카드번호", "카드 No"], iban=["계좌", "계좌번호", "IBAN 번호"], cc="BE",
        idg=ids.kr_rrn, idkw=["주민번호", "주민등록번호:", "주민 번호"],
        phone=["010.{4}.{4}", "010 {4}-{4}", "+82 (0)10 {4} {4}"], phkw=["연락처", "HP", "전화"],
        mail=("jiwoo.han", "naver.com"), reply="2026년 3월 14일 (토) 오전 10:42, 한지우 <{e}>님이 작성:",
        names=["한지우", "오세훈"], title="구매팀 대리",
        imei="IMEI", serial="시리얼 번호", track=("CJ대한통운 송장", "{4}-{4}-{4}"), flight=("항공편", "예약번호"),
        ticket="티켓번호", inv="세금계산서 번호", post=("우편번호", ["06236", "04524", "48058"]), ref="입금자명 참조",
        ean="바코드", date="2026. 3. 14. 10:42", amount="₩1,250,000", masked="끝자리",
    ),
    "vi": dict(
        cust="Khách", agent="CSKH Linh", ask="Anh/chị xác nhận giúp em thông tin nhé.",
        said="đây em:", body="Tiền hoàn của tháng 3 đến giờ vẫn chưa về.", bye="Thanks shop",
        lab=["Họ tên", "Thẻ", "STK", "CCCD", "ĐT", "Email", "Mã đơn", "Số tiền", "Ngày", "Mã KH"],
        card=["so the", "thẻ #", "the tin dung", "số thẻ visa"], iban=["STK", "số tk", "tài khoản"], cc="GB",
        idg=ids.vn_cccd, idkw=["số cccd", "CCCD số", "căn cước"],
        phone=["09{2}.{3}.{3}", "+84 (0) 9{2} {3} {3}", "03{2} {3} {3}"], phkw=["ĐT", "sđt", "Zalo"],
        mail=("tran.quang.minh", "gmail.com"), reply="Vào 10:42 14/3/2026, Trần Quang Minh <{e}> đã viết:",
        names=["Trần Quang Minh", "Đỗ Thị Hạnh"], title="Phòng mua hàng",
        imei="IMEI", serial="Số serial", track=("mã vận đơn GHN", "GHN{9}VN"), flight=("chuyến bay", "mã đặt chỗ"),
        ticket="số vé", inv="HĐ số", post=("mã bưu chính", ["700000", "100000", "550000"]), ref="nội dung chuyển khoản",
        ean="mã vạch", date="14/3/2026 10:42", amount="1.290.000đ", masked="thẻ đuôi",
    ),
    "fa": dict(
        cust="مشتری", agent="پشتیبان سارا", ask="لطفا اطلاعات حساب را تایید کنید.",
        said="بله، این هم:", body="بازپرداخت اسفند هنوز به حسابم نیامده.", bye="ممنون",
        lab=["نام", "کارت", "شبا", "کد ملی", "تلفن", "ایمیل", "سفارش", "مبلغ", "تاریخ", "کد اشتراک"],
        card=["ش.کارت", "شماره كارت", "کارت‌بانکی", "شماره‌کارت"], iban=["شبا:", "شماره‌شبا", "حساب شبا"], cc="IR",
        idg=ids.ir_melli, idkw=["کدملی", "شماره ملی", "کد ملي"],
        phone=["0912-{3}-{4}", "0935 {3} {4}", "+98 (912) {3} {4}"], phkw=["تلفن", "همراه", "موبایل"],
        mail=("m.karimi", "yahoo.com"), reply="در تاریخ ۲۳ اسفند ۱۴۰۴، محمد کریمی <{e}> نوشت:",
        names=["محمد کریمی", "نرگس صادقی"], title="واحد خرید",
        imei="IMEI", serial="شماره سریال", track=("کد رهگیری پست", "{24}"), flight=("پرواز", "کد رزرو"),
        ticket="شماره بلیت", inv="فاکتور شماره", post=("کد پستی", ["۱۴۳۵۹-۱۶۴۷۱", "1983963113", "۷۱۳۴۸-۱۴۳۳۶"]),
        ref="شناسه واریز", ean="بارکد", date="۱۴۰۴/۱۲/۲۳ ساعت ۱۰:۴۲", amount="۱۲۰٬۰۰۰ تومان", masked="کارت با چهار رقم آخر",
    ),
    "ar": dict(
        cust="العميل", agent="الموظف خالد", ask="ممكن تأكيد بياناتك من فضلك؟",
        said="أكيد، تفضل:", body="المبلغ المسترد من شهر مارس لم يصل حتى الآن.", bye="شكرا",
        lab=["الاسم", "البطاقة", "الحساب", "الهوية", "الجوال", "البريد", "الطلب", "المبلغ", "التاريخ", "رقم العضوية"],
        card=["رقم البطاقه", "بطاقة ائتمان", "رقم الكرت", "فيزا رقم"], iban=["ايبان", "رقم الايبان", "الحساب"], cc="SA",
        idg=ids.sa_id, idkw=["رقم الهويه", "هوية رقم", "السجل المدني"],
        phone=["+966 5{1} {3} {4}", "05{1}-{3}-{4}", "009665{1}{7}"], phkw=["جوال", "هاتف", "واتساب"],
        mail=("abdullah.alharbi", "gmail.com"), reply="في السبت، ١٤ مارس ٢٠٢٦، ١٠:٤٢ ص، كتب عبدالله <{e}>:",
        names=["عبدالله الحربي", "ريم الدوسري"], title="قسم المشتريات",
        imei="IMEI", serial="الرقم التسلسلي", track=("رقم شحنة سمسا", "{12}"), flight=("رحلة", "رقم الحجز"),
        ticket="رقم التذكرة", inv="فاتورة رقم", post=("الرمز البريدي", ["12271", "٢٣٤٣٢", "31952"]), ref="مرجع التحويل",
        ean="الباركود", date="١٤/٠٣/٢٠٢٦ ١٠:٤٢", amount="٣٤٥٫٥٠ ر.س", masked="بطاقة تنتهي بـ",
    ),
    "ru": dict(
        cust="Клиент", agent="Оператор Алексей", ask="Подтвердите, пожалуйста, ваши данные.",
        said="да, вот:", body="Возврат за март до сих пор не пришёл.", bye="Спасибо",
        lab=["ФИО", "Карта", "Счёт", "СНИЛС", "Тел.", "Эл. почта", "Заказ", "Сумма", "Дата", "Лицевой счёт"],
        card=["№ карты", "карт.", "номер кард", "номер карточки"], iban=["р/с", "счет", "IBAN №"], cc="TR",
        idg=ids.ru_snils, idkw=["снилс", "СНИЛС №", "страх. номер"],
        phone=["+7(916){3}-{2}-{2}", "8-9{2}-{3}-{2}-{2}", "8 (9{2}) {3} {4}"], phkw=["тел.", "моб.", "телефон"],
        mail=("a.sokolova", "yandex.ru"), reply="14.03.2026, 10:42, Анна Соколова <{e}> пишет:",
        names=["Анна Соколова", "Павел Григорьев"], title="Отдел закупок, ООО «Север»",
        imei="IMEI", serial="Серийный номер", track=("трек Почты России", "8{13}"), flight=("рейс", "код бронирования"),
        ticket="билет №", inv="Счёт №", post=("индекс", ["101000", "190000", "620014"]), ref="назначение платежа",
        ean="штрихкод", date="14.03.2026 г. 10:42", amount="12 990,00 ₽", masked="карта на",
    ),
}
FLIGHTS = ["LH 441", "AF1234", "IB 3170", "CA 982", "NH-204", "SU 2131", "EK 202", "QR1027", "KE 17", "VN 310", "W5 115"]
LATIN_WS = ["en", "de", "fr", "es", "pt", "it", "ru"]
OBFUSCATED = {"en": "{u} [at] {d} [dot] {t}", "de": "{u}(at){d}.{t}", "fr": "{u} arobase {d} point {t}",
              "es": "{u} (arroba) {d} . {t}", "ru": "{u} собака {d} точка {t}"}


def build(seed: int = 90210) -> list[dict]:
    rng = random.Random(seed)
    cases: list[dict] = []

    def add(lang, kind, text, pii=(), keep=()):
        for k in keep:
            assert k in text, (k, text)
        for p in pii:
            assert p in text, (p, text)
        cases.append({"id": f"wild-{len(cases) + 1:04d}", "part": "wild", "lang": lang, "kind": kind,
                      "text": text, "pii": list(pii), "keep": list(keep)})

    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    num = lambda n: rng.choice("123456789") + d(n - 1)  # noqa: E731

    def fill(p: str) -> str:
        p = re.sub(r"\{a3\}", lambda m: rng.choice("23456789") + d(1) + rng.choice("0123456789"), p)
        p = re.sub(r"\{b3\}", lambda m: rng.choice("23456789") + d(2), p)
        return re.sub(r"\{(\d+)\}", lambda m: d(int(m.group(1))), p)

    def native(lang: str, s: str, p: float = 0.5) -> str:
        if lang in NATIVE and rng.random() < p:
            return s.translate(str.maketrans("0123456789", NATIVE[lang]))
        return s

    def odd(s: str) -> str:
        """Digits grouped as people do when they copy them by hand."""
        style = rng.choice(["dots", "slashes", "sizes", "double", "mixed"])
        if style == "dots":
            return ids.group(s, (4,) * 5, ".")
        if style == "slashes":
            return ids.group(s, (4,) * 5, "/")
        if style == "double":
            return ids.group(s, (4,) * 5, "  ")
        if style == "mixed":
            parts = ids.group(s, (4,) * 5, " ").split(" ")
            return "".join(p + rng.choice([" ", "-", "."]) for p in parts[:-1]) + parts[-1]
        sizes, left = [], len(s)
        while left > 0:
            n = min(rng.randint(2, 5), left)
            sizes.append(n)
            left -= n
        return ids.group(s, tuple(sizes), " ")

    def stamp(style: int, i: int) -> str:
        h, m = 9 + i // 2, 10 + 7 * i
        return [f"[{h:02d}:{m:02d}]", f"14/03/2026, {h:02d}:{m:02d} -", f"{h:02d}:{m:02d}:{11 + i:02d}"][style]

    def chat(t: dict, customer_msgs: list[str], agent_first: bool = True) -> tuple[str, str]:
        """A transcript; returns it and its first timestamp (a look-alike that must stay)."""
        style = rng.randrange(3)
        who = [(t["agent"], t["ask"])] if agent_first else []
        who += [(t["cust"], m) for m in customer_msgs] + [(t["agent"], t["bye"] if rng.random() < 0.3 else "OK, 👍")]
        lines = []
        for i, (name, msg) in enumerate(who):
            s = stamp(style, i)
            lines.append(f"{s} <{name}> {msg}" if style == 2 else f"{s} {name}: {msg}")
        first = stamp(style, 0)
        return "\n".join(lines), first

    def form(t: dict, fields: list[tuple[str, str]]) -> str:
        style = rng.randrange(4)
        if style == 0:
            return "\n".join(f"{k}: {v}" for k, v in fields)
        if style == 1:
            return " / ".join(f"{k}: {v}" for k, v in fields)
        if style == 2:
            return "\n".join(f"| {k} | {v} |" for k, v in fields)
        return "; ".join(f"{k}={v}" for k, v in fields)

    def filler(t: dict, lang: str) -> list[tuple[str, str]]:
        lab = t["lab"]
        opts = [(lab[6], num(rng.choice([8, 10, 11]))), (lab[7], t["amount"]), (lab[8], t["date"]), (lab[9], num(7))]
        rng.shuffle(opts)
        return opts[: rng.choice([1, 2])]

    for lang, t in W.items():
        lab = t["lab"]
        kwc = lambda: rng.choice(t["card"])  # noqa: E731
        # ---- cards -----------------------------------------------------------------------
        v = odd(ids.card(rng, rng.choice(["visa", "mastercard"]), True))  # valid, odd grouping, in a chat
        text, ts = chat(t, [f"{t['said']} {kwc()} {v}"])
        add(lang, "card", text, [v], [ts])
        n = ids.card(rng, "visa", False)  # mistyped, split over two lines under an abbreviated keyword
        v = n[:4] + " " + n[4:8] + "\n" + n[8:12] + " " + n[12:]
        text, ts = chat(t, [f"{kwc()}", v])
        add(lang, "card", text, [v], [ts])
        v = native(lang, ids.card_text(rng, ids.card(rng, "mastercard", True)), 0.9)  # native / full-width digits, form
        fields = filler(t, lang)
        fields.insert(rng.randrange(len(fields) + 1), (lab[1], v))
        add(lang, "card", form(t, fields), [v], [x for _, x in fields if x != v])
        v = ids.card_text(rng, ids.card(rng, "visa", True, 15), "compact")  # wrong length for its brand, form
        fields = filler(t, lang)
        fields.insert(0, (lab[1], v))
        add(lang, "card", form(t, fields), [v], [x for _, x in fields if x != v])
        v = ids.card_text(rng, ids.card(rng, rng.choice(["visa", "amex"]), False), "space")  # with expiry and CVV
        exp = f"{rng.randint(1, 12):02d}/{rng.randint(27, 31)}"
        add(lang, "card", f"{t['body']}\n{kwc()} {v} exp {exp} cvv {d(3)}", [v])
        # ---- IBANs ---------------------------------------------------------------------------
        s = ids.iban(rng, t["cc"], True)
        v = rng.choice([s.lower(), ids.group(s, (4,) * 9, "  "), ids.group(s, (4,) * 9, "-"), ids.group(s, (2, 2) + (5,) * 6, " ")])
        fields = filler(t, lang)
        fields.insert(rng.randrange(len(fields) + 1), (rng.choice(t["iban"]), v))
        add(lang, "iban", form(t, fields), [v], [x for _, x in fields if x != v])
        s = ids.group(ids.iban(rng, t["cc"], False), (4,) * 9, " ")
        cut = 10 if len(s) > 20 else 5
        v = s[:cut].rstrip() + "\n" + s[cut:].lstrip()
        text, ts = chat(t, [f"{t['said']} {rng.choice(t['iban'])}", v])
        add(lang, "iban", text, [v], [ts])
        # ---- national ids: valid in a form, check failing in a chat --------------------------
        v = native(lang, t["idg"](rng, True), 0.5)
        fields = filler(t, lang)
        fields.insert(rng.randrange(len(fields) + 1), (rng.choice(t["idkw"]), v))
        add(lang, "national_id", form(t, fields), [v], [x for _, x in fields if x != v])
        v = native(lang, t["idg"](rng, False), 0.5)
        text, ts = chat(t, [f"{rng.choice(t['idkw'])} {v}"])
        add(lang, "national_id", text, [v], [ts])
        # ---- phones: in a signature and in a form --------------------------------------------
        pats = t["phone"][:]
        rng.shuffle(pats)
        v = native(lang, fill(pats[0]), 0.5)
        add(lang, "phone", f"{t['body']}\n\n{t['bye']}\n--\n{rng.choice(t['phkw'])} {v}", [v])
        v = native(lang, fill(pats[1]), 0.5)
        fields = filler(t, lang)
        fields.insert(rng.randrange(len(fields) + 1), (rng.choice(t["phkw"]), v))
        add(lang, "phone", form(t, fields), [v], [x for _, x in fields if x != v])
        # ---- e-mails: quoted reply header, form field, written out -----------------------------
        u, dom = t["mail"]
        v = f"{u}{rng.randint(1, 99)}@{dom}"
        add(lang, "email", f"{t['body']}\n\n{t['reply'].format(e=v)}\n> {t['ask']}", [v])
        v = f"{u.replace('.', '_')}+shop@{dom}"
        fields = filler(t, lang)
        fields.insert(rng.randrange(len(fields) + 1), (lab[5], v))
        add(lang, "email", form(t, fields), [v], [x for _, x in fields if x != v])
        if lang in OBFUSCATED:
            name, tld = dom.rsplit(".", 1)
            v = OBFUSCATED[lang].format(u=u, d=name, t=tld)
            add(lang, "email", f"{t['body']} {lab[5]}: {v}", [v])
        # ---- secrets in URLs ------------------------------------------------------------------
        alnum = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        tok = "".join(rng.choice("0123456789abcdef") for _ in range(40))
        base = rng.choice(["https://account.novashop.com/password/reset/", "https://id.kaufhaus24.de/pw-reset/confirm/"])
        add(lang, "url_secret", f"{t['body']} {base}{tok}", [tok], [base])
        tok = "".join(rng.choice(alnum) for _ in range(rng.choice([28, 36])))
        base = rng.choice(["https://app.tixly.io/invite#access_token=", "https://files.cdn-store.net/invoices/8812.pdf?X-Amz-Expires=3600&X-Amz-Signature=",
                           "https://login.mercato.example/magic?t="])
        text, ts = chat(t, [f"{t['said']} {base}{tok}"])
        add(lang, "url_secret", text, [tok], [base, ts])
        # ---- a name in a signature (opt-in kind) ---------------------------------------------
        o = num(9)
        name = t["names"][0]
        add(lang, "person", f"{t['body']} {lab[6]} {o}\n\n-- \n{name}\n{t['title']}", [name], [o])
        name = t["names"][1]
        fields = [(lab[0], name), (lab[6], o := num(10))]
        add(lang, "person", form(t, fields), [name], [o])

        # ---- look-alikes that must stay ------------------------------------------------------
        last4 = d(4)
        m = rng.choice([f"**** **** **** {last4}", f"XXXX-XXXX-XXXX-{last4}", f"•••• {last4}", f"************{last4}"])
        text, ts = chat(t, [f"{t['said']} {t['masked']} {m}"])
        add(lang, "decoy:masked", text, [], [m, ts])
        c = ids.card(rng, "visa", True)
        m = rng.choice([f"{c[:4]} {c[4:6]}** **** {c[12:]}", f"{c[:6]}******{c[12:]}"])
        fields = filler(t, lang) + [(lab[1], m)]
        add(lang, "decoy:masked", form(t, fields), [], [x for _, x in fields])
        body = "35" + d(12)
        imei = body + luhn.calc_check_digit(body)  # an IMEI's check digit is a Luhn digit
        add(lang, "decoy:imei", f"{t['body']} {t['imei']} {imei}", [], [imei])
        sn = rng.choice(["C02", "R58", "SN", "F9K"]) + num(7) + rng.choice(["JG5H", "X", "MD6T", "KR"])
        text, ts = chat(t, [f"{t['serial']} {sn}"])
        add(lang, "decoy:serial", text, [], [sn, ts])
        tk = fill(t["track"][1])
        tk = native(lang, tk, 0.3)
        add(lang, "decoy:tracking", f"{t['body']} {t['track'][0]}: {tk}", [], [tk])
        fl, pnr = rng.choice(FLIGHTS), "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        text, ts = chat(t, [f"{t['flight'][0]} {fl}, {t['flight'][1]} {pnr}"])
        add(lang, "decoy:booking", text, [], [fl, pnr, ts])
        o = rng.choice([f"{num(3)}.{d(3)}.{d(3)}", f"{num(4)}/{d(4)}/{d(4)}", f"2026/{d(6)}", f"{num(2)} {d(3)} {d(3)} {d(3)}"])
        add(lang, "decoy:order", f"{t['body']} {lab[6]} {o}", [], [o])
        inv = rng.choice([num(10), f"2026/{d(6)}", num(12)])
        fields = [(t["inv"], inv)] + filler(t, lang)
        add(lang, "decoy:invoice", form(t, fields), [], [x for _, x in fields])
        tic = " ".join(num(4) if i == 0 else d(4) for i in range(4))  # shaped like a card, drawn at random
        add(lang, "decoy:ticket", f"{t['body']} {t['ticket']} {tic}", [], [tic])
        dt, am = native(lang, t["date"], 0.5), native(lang, t["amount"], 0.5)
        add(lang, "decoy:date+amount", f"{t['body']} {lab[8]}: {dt}, {lab[7]}: {am}", [], [dt, am])
        pc = rng.choice(t["post"][1])
        add(lang, "decoy:postcode", form(t, [(t["post"][0], pc)] + filler(t, lang)), [], [pc])
        body = num(rng.choice([8, 10, 12]))
        rf = "RF" + mod_97_10.calc_check_digits(body + "RF") + body
        rf = ids.group(rf, (4,) * 6, " ")
        add(lang, "decoy:transfer_ref", f"{t['body']} {t['ref']}: {rf}", [], [rf])
        e12 = num(12)
        code = e12 + ean.calc_check_digit(e12)
        model = rng.choice(["SM-A536B/DS", "MQ8N3ZP/A", "WH-1000XM5", "KDL-43W660F"])
        add(lang, "decoy:product", f"{t['body']} {model}, {t['ean']} {code}", [], [model, code])
        fields = [(lab[9], num(8)), (lab[6], f"#{num(9)}"), (lab[8], t["date"])]
        add(lang, "decoy:form", form(t, fields), [], [x for _, x in fields])
        case_id = f"CASE-{d(8)}"
        text, ts = chat(t, [f"{case_id}, {lab[6]} {(o := num(11))}"])
        add(lang, "decoy:chat", text, [], [case_id, o, ts])
        sig = f"{t['body']}\n\n{t['bye']}\n--\n{t['title']}"
        add(lang, "decoy:signature", sig, [], [t["title"]])
    return cases


if __name__ == "__main__":
    out = Path(__file__).parent / "wild.jsonl"
    cases = build()
    with out.open("w", encoding="utf-8") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    from collections import Counter

    print(len(cases), "cases;", Counter(c["kind"].split(":")[0] for c in cases), Counter(c["lang"] for c in cases))
