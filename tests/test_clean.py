"""Tests for miner.ingest.clean: character repair, pinyin, line filters, speed."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miner.errors import UsageError
from miner.ingest import clean as clean_mod
from miner.ingest.clean import REASONS, clean_text

GENUINE = "NovaLink charged me twice this month and nobody answers the phone."


def cleaned(text: str) -> str:
    return clean_text(text)[0]


def in_page(line: str) -> str:
    """Put a line between genuine content lines, as it would sit in an extracted page."""
    return f"{GENUINE}\n{line}\nThe router still reboots every evening."


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize("text", ["", " ", "   \t  ", "\n\n\n", "\u200b\u200b", "\x00\x01"])
def test_empty_and_whitespace(text):
    out, counts = clean_text(text)
    assert out == ""
    assert counts == {"boilerplate": 0, "spam": 0, "mt_placeholder": 0}


def test_counts_always_have_all_reasons():
    _, counts = clean_text("hello")
    assert set(counts) == set(REASONS) == {"boilerplate", "spam", "mt_placeholder"}


@pytest.mark.parametrize(
    "text",
    [
        "App keeps crashing since 5.0, can't log in. OTP never arrives!!",
        "宽带从7月开始涨价了，也没有任何通知，太坑了！",
        "路由器一直重開機，客服只會叫我等。",
        "アプリが起動しない。ログインもできない。",
        "Nhân viên tổng đài rất nhiệt tình, lắp đặt nhanh 👍",
        "از وقتی قیمت‌ها رفت بالا اینترنت مدام قطع میشه",
        "الإنترنت مقطوع منذ ثلاثة أيام ولا أحد يرد",
        "El router se reinicia solo cada hora, pésimo servicio",
        "Seit dem Update 5.0 kommt kein SMS-Code mehr an.",
        "Le technicien n'est jamais venu, trois rendez-vous annulés.",
        "A fatura veio em dobro este mês",
        "Il tecnico non si è mai presentato",
        "Интернет пропадает каждый вечер",
        "NovaLink 网速 fine but app 登录不了 😡",
    ],
)
def test_clean_short_texts_pass_through(text):
    out, counts = clean_text(text)
    assert out == unicodedata.normalize("NFKC", text)
    assert sum(counts.values()) == 0


@pytest.mark.parametrize("text", ["n/a", "-", "ok", "OK", "nothing", "no comment", "No comments", "不知道", "无",
                                  "không có", "hông có gì", "هیچی", "لا شيء", "なし", "keine", "rien", "nada", "—"])
def test_noninformative_answers_survive(text):
    assert cleaned(text) == unicodedata.normalize("NFKC", text)


# --------------------------------------------------------------------------- characters


@pytest.mark.parametrize(
    "original",
    [
        "Die Rückerstattung fehlt immer noch",
        "J'ai été facturé deux fois",
        "宽带又断了，客服也不回",
        "Интернет не работает",
        "ما زال الإنترنت مقطوعا",
        "Tôi đã bị tính phí hai lần",
        "アプリが起動しない",
        "It’s been “fixed” twice — still broken",
    ],
)
@pytest.mark.parametrize("codec", ["sloppy-windows-1252", "latin-1"])
def test_mojibake_is_repaired(original, codec):
    import ftfy.bad_codecs  # noqa: F401  (registers the sloppy codecs)

    broken = original.encode("utf-8").decode(codec)
    assert broken != original
    assert cleaned(broken) == unicodedata.normalize("NFKC", original)


def test_genuine_latin1_text_is_not_touched_by_mojibake_repair():
    text = "Ça coûte 29,99 € — à payer avant le 5 ; São Paulo, Ærø, Ñandú"
    assert cleaned(text) == unicodedata.normalize("NFKC", text)


def test_nfkc():
    assert cleaned("ＮｏｖａＬｉｎｋ　ｆｉｂｒｅ　１Ｇ") == "NovaLink fibre 1G"
    assert cleaned("ﬁbre ① ㎒") == "fibre 1 MHz"
    assert cleaned("网速太慢！！") == "网速太慢!!"


def test_control_and_zero_width_characters_removed_but_newlines_kept():
    text = "a\u200bb\u200ec\u202ed\ufeff e\x00f\x07g\x1bh\xadi\nnext\tline"
    assert cleaned(text) == "abcd efghi\nnext line"


def test_zwnj_and_zwj_are_kept():
    persian = "نمی\u200cتونم وارد حسابم بشم"
    assert cleaned(persian) == persian
    family = "👨\u200d👩\u200d👧 all offline"
    assert cleaned(family) == family


def test_lone_surrogates_removed():
    assert cleaned("\ud800router\udfff broken") == "router broken"


def test_line_breaks_normalised():
    assert cleaned("a\r\nb\rc\u2028d\u2029e\x0bf\x85g") == "a\nb\nc\nd\ne\nf\ng"


def test_whitespace_normalisation():
    text = "  first   line \t with\t\ttabs  \n\n\n\n\n second line  \n\n third\u3000line\u00a0end "
    assert cleaned(text) == "first line with tabs\n\nsecond line\n\nthird line end"


# --------------------------------------------------------------------------- pinyin


@pytest.mark.parametrize(
    "text, expected",
    [
        ("細(xì)節(jié)很重要", "細節很重要"),
        ("寬(kuān)頻(pín)一直斷線", "寬頻一直斷線"),
        ("寬頻(kuān pín)很慢", "寬頻很慢"),
        ("细 (xì) 节 (jié) 决定成败", "细节决定成败"),
        ("建 (jiàn) 議 (yì) 你申 (shēn) 訴 (sù)，比較有用", "建議你申訴,比較有用"),
        ("網(wǎng)路(lù)真(zhēn)的(de)很慢", "網路真的很慢"),
        ("路(lu4)由(you2)器(qi4)坏了", "路由器坏了"),
        ("细（xì）节（jié）", "细节"),
    ],
)
def test_inline_pinyin_removed(text, expected):
    assert cleaned(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "请看上面(see above)的说明",
        "费用(注:含税)已经扣了",
        "路由器(NovaBox 2)坏了",
        "宽带(fibre)又断了",
        "我(me)觉得不行",  # valid pinyin but toneless and alone: not an annotation
        "套餐(300M)每月99元",
        "I paid (again) for nothing",
        "Router (see photo) is dead",
    ],
)
def test_ordinary_parentheses_untouched(text):
    assert cleaned(text) == unicodedata.normalize("NFKC", text)


def test_fullwidth_note_untouched():
    assert cleaned("已经扣费（注：含税）") == "已经扣费(注:含税)"


# --------------------------------------------------------------------------- boilerplate

BOILERPLATE_LINES = [
    # navigation / login / share / post buttons
    "Share on Facebook · Tweet · WhatsApp · Copy link",
    "Share this: Facebook Twitter LinkedIn",
    "Log in | Sign up",
    "Home | News | Login | Register",
    "Replies (2)",
    "Was this review helpful? Yes (14) · No (2) · Report",
    "Reply | Quote | Report",
    "Back to top",
    "分享到：微博 微信 QQ空间 复制链接",
    "登录 | 注册",
    "首頁 | 論壇 | 精華區 | 排行榜 | 搜尋",
    "回覆 | 引用 | 檢舉 | 分享到 Facebook | LINE | 複製連結",
    "上一篇",
    "ログイン | 新規登録",
    "シェア ツイート いいね",
    "Trang chủ | Đăng nhập | Đăng ký",
    "Chia sẻ | Bình luận",
    "خانه | ورود | ثبت نام",
    "اشتراک‌گذاری: تلگرام | واتساپ | توییتر",
    "پاسخ‌ها و نظرات (۳)",
    "الرئيسية | تسجيل الدخول | اتصل بنا",
    "Inicio | Iniciar sesión | Registrarse",
    "Compartir en Facebook | Twitter | WhatsApp",
    "Startseite | Forum | News | Tarifrechner | Anmelden | Registrieren",
    "Teilen: Facebook | X | WhatsApp | E-Mail",
    "Zitieren",
    "Accueil | Forums | Actualités | Guides | Connexion | S'inscrire",
    "Répondre | Citer | Signaler | Partager : Facebook | Twitter | WhatsApp | E-mail",
    "Início | Entrar | Cadastre-se",
    "Accedi | Registrati | Cerca",
    "Главная | Войти | Регистрация",
    "Поделиться: ВКонтакте Одноклассники Телеграм",
    # breadcrumbs
    "当前位置：首页 > 通信投诉 > 宽带 > NovaLink",
    "首頁 > 3C討論區 > 網路寬頻 > NovaLink",
    "Home › Telecom › Internet providers › NovaLink",
    "Startseite › Forum › Internet & Festnetz › NovaLink",
    "Accueil › Forums › Internet, box et fibre › NovaLink",
    "خانه » اینترنت و مخابرات » NovaLink",
    "You are here: Home > Forum > Broadband",
    # ads
    "【广告】千兆宽带新装首月1元，立即抢购>>",
    "Anzeige: Glasfaser ab 19,99 €/Monat – jetzt Verfügbarkeit prüfen",
    "Sponsored: Compare broadband deals in your area",
    "Publicité — Comparez les box internet",
    # copyright footers
    "© 2026 ReviewHub Ltd. All rights reserved. | Privacy Policy | Terms of Use",
    "© 2026 民声投诉台 版权所有 京ICP备2026000001号-1",
    "Copyright © 2026 寬頻大家談 All Rights Reserved. 版權所有，轉載請註明出處",
    "© 2026 ForumConso — Tous droits réservés | Mentions légales | Contact",
    "© 2026 Breitband-Forum.example – Alle Rechte vorbehalten | Impressum | Datenschutz",
    "© ۱۴۰۵ شکایت‌نامه - کلیه حقوق مادی و معنوی این سایت محفوظ است.",
    "Copyright 2026 Quejas.example. Todos los derechos reservados.",
    "(c) 2026 Reclami.example - Tutti i diritti riservati",
    "Todos os direitos reservados a Reclamações.example 2026",
    "© 2026 Жалобы.example. Все права защищены.",
    "Bản quyền thuộc về KhieuNai.example 2026",
    "جميع الحقوق محفوظة © 2026",
    "Copyright © 2026 苦情.example 無断転載を禁じます",
    "京ICP备2026000001号-1 京公网安备11010502000001号",
    "本站投诉内容由用户发布，不代表本站观点。",
    # cookie banners
    "We use cookies to improve your experience. By continuing you agree to our Cookie Policy. Accept all",
    "Ce site utilise des cookies pour améliorer votre expérience. OK | En savoir plus",
    "Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten. Alle akzeptieren",
    "Utilizamos cookies propias y de terceros para mejorar nuestros servicios.",
    "Questo sito utilizza i cookie per migliorare l'esperienza.",
    "Este site utiliza cookies para melhorar a sua experiência.",
    "Мы используем файлы cookie для улучшения работы сайта.",
    "Trang web này sử dụng cookie để cải thiện trải nghiệm.",
    "این سایت برای بهبود تجربه شما از کوکی استفاده می‌کند. متوجه شدم",
    "يستخدم هذا الموقع ملفات تعريف الارتباط لتحسين تجربتك",
    "本网站使用Cookie以提升您的浏览体验",
    "当サイトではCookieを使用しています。",
    # comment policies
    "Comments are moderated and may take 24h to appear.",
    "请文明发言，理性维权。评论需审核后显示。",
    "請遵守版規，文明發言。",
    "Les messages sont modérés et peuvent mettre jusqu'à 24 h à apparaître.",
    "Beiträge werden moderiert und erscheinen ggf. erst nach 24 Stunden.",
    "Los comentarios son moderados antes de publicarse.",
    "I commenti sono moderati.",
    "Os comentários são moderados.",
    "Комментарии модерируются.",
    "Bình luận sẽ được kiểm duyệt trước khi hiển thị.",
    "نظرات پس از تایید مدیر سایت منتشر خواهد شد.",
    "التعليقات تخضع للمراجعة قبل النشر",
    "コメントは承認制です。",
    "Your email address will not be published. Required fields are marked *",
]


@pytest.mark.parametrize("line", BOILERPLATE_LINES)
def test_boilerplate_lines_dropped(line):
    out, counts = clean_text(in_page(line))
    assert out == GENUINE + "\nThe router still reboots every evening."
    assert counts["boilerplate"] == 1, counts


# --------------------------------------------------------------------------- spam

SPAM_LINES = [
    "北京|上海|广州|深圳|天津|重庆|杭州|南京|武汉|成都|西安|苏州|长沙|郑州|青岛|沈阳",
    "NovaLink寬頻安裝：台北|新北|桃園|台中|台南|高雄|基隆|新竹|嘉義|苗栗",
    "Glasfaser Techniker Berlin | Hamburg | München | Köln | Frankfurt | Stuttgart | Düsseldorf",
    "Dépannage box internet Paris | Lyon | Marseille | Toulouse | Nice | Nantes | Strasbourg",
    "تهران|مشهد|اصفهان|کرج|شیراز|تبریز|قم|اهواز|کرمانشاه",
    "北京、上海、广州、深圳、天津、重庆、杭州、南京、武汉、成都",
    "Madrid, Barcelona, Valencia, Sevilla, Zaragoza, Málaga, Bilbao, Murcia, Alicante",
    "Hà Nội | Hồ Chí Minh | Đà Nẵng | Hải Phòng | Cần Thơ | Huế",
    "東京|大阪|名古屋|横浜|札幌|福岡|京都",
    "NovaLink投诉 NovaLink宽带投诉 NovaLink客服电话 NovaLink怎么投诉 宽带投诉电话 宽带乱扣费投诉 宽带涨价投诉",
    "broadband deals cheap broadband best broadband deals fibre broadband deals cheap fibre broadband uk",
    "DSL Vergleich Glasfaser Vergleich günstig DSL Anbieter Vergleich Internet Anbieter Vergleich billig Glasfaser",
    "宽带|光纤|路由器|资费|套餐|靓号|流量卡|手机卡|宽带办理|宽带安装",
    "澳门葡京娱乐城 真人视讯 百家乐 注册即送38元彩金 日赚千元不是梦 加微信：pj8888",
    "激情視訊 美女主播一對一裸聊 免費註冊送點數 加賴 line:abc888",
    "Günstig Viagra & Cialis ohne Rezept bestellen – diskreter Versand",
    "Online Casino Bonus ohne Einzahlung ✓ 500 Freispiele ✓ Jetzt sichern!!!",
    "Rencontres coquines gratuites près de chez vous, inscription en 30 secondes",
    "Casino en ligne : 200 % de bonus + 100 tours gratuits, jouez maintenant !!!",
    "HOT SINGLES in your area want to meet you tonight",
    "Best online casino 2026, free spins every day",
    "خرید فالوور ارزان اینستاگرام | خرید لایک | خرید بک لینک | سئو سایت",
    "بهترین سایت شرط بندی و کازینو آنلاین با بونوس هدیه ثبت نام",
    "Nhà cái uy tín nhất 2026, cá độ bóng đá online",
    "Лучшее онлайн казино, бонус 200% новым игрокам",
    "オンラインカジノ 今なら入金不要ボーナス",
    "أفضل كازينو أون لاين مع مكافأة ترحيبية",
    "Apuestas: bono sin depósito y giros gratis en el mejor casino online",
    "注册即送彩金 日赚千元 详情加微信",  # weak signals only, but three of them
]


@pytest.mark.parametrize("line", SPAM_LINES)
def test_spam_lines_dropped(line):
    out, counts = clean_text(in_page(line))
    assert out == GENUINE + "\nThe router still reboots every evening."
    assert counts["spam"] == 1, counts


@pytest.mark.parametrize("line", SPAM_LINES[:6] + SPAM_LINES[13:16])
def test_spam_dropped_in_single_line_texts_too(line):
    out, counts = clean_text(line)
    assert out == "" and counts["spam"] == 1


# --------------------------------------------------------------------------- MT placeholders

MT_LINES = [
    "Translating, please wait...",
    "Translation in progress…",
    "See translation",
    "Show original",
    "正在翻译，请稍候……",
    "正在翻譯，請稍候",
    "翻訳中...しばらくお待ちください",
    "Đang dịch, vui lòng chờ...",
    "در حال ترجمه، لطفاً صبر کنید...",
    "جاري الترجمة، يرجى الانتظار",
    "Traduciendo, por favor espere...",
    "Wird übersetzt … bitte warten",
    "Übersetzung anzeigen",
    "Traduction en cours... veuillez patienter",
    "Traduction en cours...",
    "Traduzione in corso...",
    "Traduzindo... aguarde",
    "Идёт перевод, пожалуйста подождите...",
]


@pytest.mark.parametrize("line", MT_LINES)
def test_mt_placeholders_dropped(line):
    out, counts = clean_text(in_page(line))
    assert out == GENUINE + "\nThe router still reboots every evening."
    assert counts["mt_placeholder"] == 1, counts


@pytest.mark.parametrize("line", MT_LINES[:6])
def test_mt_placeholder_as_whole_text(line):
    assert clean_text(line) == ("", {"boilerplate": 0, "spam": 0, "mt_placeholder": 1})


# --------------------------------------------------------------------------- false positives

GENUINE_LINES = [
    "I got a copyright notice email from NovaLink instead of a fix for my line.",
    "Copyright is not my problem, my internet is.",
    "I want to share this so nobody else falls for the 'connected in 48 hours' promise.",
    "Please share this post, NovaLink must answer!",
    "I will share on Facebook how they treated me if nothing happens by Friday.",
    "We have the same outage in Paris | Lyon offices since Monday.",
    "Störung in Berlin, Hamburg, München, Köln, Frankfurt und Stuttgart laut Störungskarte.",
    "我在北京、上海、广州都试过，信号都很差",
    "路由器发热、掉线、重启、网速慢、客服不理、退款不到",
    "Login failed again, OTP never arrives.",
    "Can't login since the update",
    "登录不了，验证码收不到",
    "微信客服一直不回复",
    "App登录后闪退",
    "Reply from support: 'we are looking into it' – three weeks ago.",
    "The technician said he would contact us. He never did.",
    "Home internet down for 5 days, working from home impossible.",
    "Their privacy policy says they won't share my number but I get spam calls.",
    "The website wouldn't let me pay until I accepted cookies, then it crashed.",
    "The app shows 'translating, please wait' forever when I open my bill.",
    "The casino next door has better wifi than my NovaLink fibre.",
    "no internet no internet no internet for 3 weeks",
    "I called and called and called and called and nobody answered and nobody cared",
    "They promised a free router, bonus data and a discount, none of it happened.",
    "客服电话打不通客服电话一直占线客服电话根本没人接",
    "Wi-Fi | Ethernet | 4G all dead at the same time",
    "Der Techniker kam nicht. Teilen Sie mir bitte einen neuen Termin mit.",
    "Je voudrais partager mon expérience: trois mois sans connexion.",
    "Comparto mi experiencia: el router no funciona desde marzo.",
    "Chia sẻ để mọi người biết: mạng NovaLink rớt liên tục mỗi tối.",
    "بعد از آپدیت نمی‌تونم وارد بشم، ورود با کد تایید کار نمی‌کنه",
    "لا أستطيع تسجيل الدخول إلى التطبيق منذ التحديث",
    "Не могу войти в приложение после обновления",
    "ログインできない。アプリの返信もない。",
    "Contact us? I tried 14 times!",
    "Terms changed without notice and my price went up 20%.",
    "The ad said 1 Gbps, advertisement was a lie.",
    "Sponsored by NovaLink? No, I pay 59,99 € for this mess.",
    "My order NL-2026-48213 | delivered: never | refund: never",
    # short messages made of navigation words: kept when they ask, shout or say more
    "回复慢",
    "Reply?",
    "Comments?",
    "Teilen?",
    "Ответить?",
    "分享一下我的经历",
    "微博投诉也没用",
    "ログインできない",
    "Đăng nhập không được",
    "ورود نمیشه",
    "Login problem",
    "Contact support",
    "Sign up bonus never paid",
    "美女客服一对一帮我解决了，点赞",
    "Poker night ruined again: the casino-grade router you sold me drops every hour.",
]


@pytest.mark.parametrize("line", GENUINE_LINES)
def test_genuine_lines_survive(line):
    out, counts = clean_text(in_page(line))
    assert unicodedata.normalize("NFKC", line) in out.split("\n"), (counts, out)
    assert sum(counts.values()) == 0


@pytest.mark.parametrize("line", ["Share on Facebook", "Login", "Home", "登录", "Contact us", "Reply"])
def test_single_line_messages_are_not_treated_as_navigation(line):
    # a one-line text is someone's message; navigation rules apply to multi-line pages only
    assert cleaned(line) == line


def test_full_noisy_page_text():
    text = "\n".join([
        "首页 | 投诉 | 曝光台 | 登录 | 注册",
        "当前位置：首页 > 通信投诉 > 宽带 > NovaLink",
        "本人是NovaLink光纤宽带老用户，7月起每月从99元涨到119元，没有任何通知。",
        "",
        "",
        "",
        "8月1号扣了两次费，一共238元。",
        "正在翻译，请稍候",
        "北京|上海|广州|深圳|天津|重庆|杭州|南京|武汉|成都",
        "分享到：微博 微信 QQ空间",
        "请文明发言，理性维权。",
        "© 2026 民声投诉台 版权所有",
    ])
    out, counts = clean_text(text)
    assert out == ("本人是NovaLink光纤宽带老用户,7月起每月从99元涨到119元,没有任何通知。\n\n"
                   "8月1号扣了两次费,一共238元。")
    assert counts == {"boilerplate": 5, "spam": 1, "mt_placeholder": 1}


# --------------------------------------------------------------------------- robustness


def test_huge_input_is_handled_quickly():
    para = "NovaLink fibre drops every evening, the hotline keeps me on hold for 40 minutes. "
    text = "\n".join([para * 3] * 20_000 + ["Share on Facebook | Twitter", "© 2026 Example. All rights reserved."])
    start = time.perf_counter()
    out, counts = clean_text(text)
    assert time.perf_counter() - start < 20
    assert counts["boilerplate"] == 2
    assert out.count("\n") == 19_999


def test_huge_single_line():
    text = "宽带又断了" * 400_000 + " (xì) " + "x" * 100_000
    out, _ = clean_text(text)
    assert out.startswith("宽带又断了")


def test_mixed_scripts_in_one_text():
    text = "NovaLink 客服 support は最悪 — خدمات بد — dịch vụ tệ — сервис ужасный 😡"
    assert cleaned(text) == text


def test_non_string_rejected():
    with pytest.raises(TypeError):
        clean_text(None)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_never_raises_on_arbitrary_text(text):
    out, counts = clean_text(text)
    assert isinstance(out, str)
    assert set(counts) == set(REASONS) and all(v >= 0 for v in counts.values())
    assert "\r" not in out and "\x00" not in out and "\u200b" not in out
    assert "\n\n\n" not in out
    assert out == out.strip("\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(BOILERPLATE_LINES + SPAM_LINES + MT_LINES + GENUINE_LINES + ["", " ", "细(xì)节(jié)"]),
                max_size=12))
def test_never_raises_on_page_like_text(lines):
    out, counts = clean_text("\n".join(lines))
    assert isinstance(out, str) and isinstance(counts, dict)


# --------------------------------------------------------------------------- speed


def test_short_texts_speed():
    texts = [
        "App keeps crashing since 5.0, can't log in at all. OTP never arrives!!",
        "Internet drops every evening, called support 3 times, 40 min wait each time",
        "ok", "n/a", "不知道", "không có", "هیچی",
        "宽带从7月开始涨价了，也没有任何通知，太坑了！",
        "Le technicien n'est jamais venu, trois rendez-vous annulés. Nul.",
        "Seit dem Update 5.0 kann ich mich nicht mehr einloggen, SMS-Code kommt nicht an.",
        "Nhân viên tổng đài rất nhiệt tình, lắp đặt nhanh, mạng ổn định 👍",
        "از وقتی قیمت‌ها رفت بالا دیگه راضی نیستم، اینترنت هم مدام قطع میشه",
        "アプリが起動しない。ログインもできない。最悪です。",
        "El router se reinicia solo cada hora, pésimo servicio técnico",
        "Great speeds, install was quick and the technician was lovely :)",
        "I'd like a cheaper plan without the TV bundle please",
    ] * 1250  # 20,000 texts
    clean_text("warm up")
    best = float("inf")
    for _ in range(3):  # best of 3: shared CI machines are noisy
        start = time.perf_counter()
        for t in texts:
            clean_text(t)
        best = min(best, time.perf_counter() - start)
    rate = len(texts) / best
    assert rate >= 20_000, f"{rate:,.0f} texts/s"


# --------------------------------------------------------------------------- configuration


def test_rules_file_loads_and_is_cached():
    assert clean_mod._rules() is clean_mod._rules()


@pytest.mark.parametrize(
    "data",
    [
        ["not", "a", "mapping"],
        {"boilerplate": ["list", "instead", "of", "mapping"]},
        {"boilerplate": {"markers": [1, 2]}},
        {"boilerplate": {"marker_patterns": ["(unclosed"]}},
        {"boilerplate": {"max_marker_chars": "long"}},
    ],
)
def test_bad_rules_raise_usage_error(data):
    with pytest.raises(UsageError) as exc:
        clean_mod._compile_rules(data)
    assert exc.value.code == "E261"


def test_unreadable_rules_file(tmp_path, monkeypatch):
    bad = tmp_path / "cleaning.yaml"
    bad.write_text("boilerplate: [unclosed", encoding="utf-8")
    monkeypatch.setattr(clean_mod, "model_file", lambda name: bad)
    clean_mod.reload_rules()
    try:
        with pytest.raises(UsageError) as exc:
            clean_text("hello")
        assert exc.value.code == "E260"
        monkeypatch.setattr(clean_mod, "model_file", lambda name: tmp_path / "missing.yaml")
        clean_mod.reload_rules()
        with pytest.raises(UsageError) as exc:
            clean_text("hello")
        assert exc.value.code == "E260"
    finally:
        monkeypatch.undo()
        clean_mod.reload_rules()


def test_minimal_rules_work():
    rules = clean_mod._compile_rules({})
    assert rules.words is None and rules.places == frozenset()


# Real one-line reviews and tweets that an earlier version dropped whole: a single line is
# someone's whole message, so one spam word, a ©, self-repetition or 、-commas do not drop it.
@pytest.mark.parametrize(
    "text",
    [
        "新品で届いて初めての使用で片方がバイブしません。完全な不良品ですね。アダルトグッズなので諦めました。",
        "相変わらず納品書が来ない 相変わらず納品書が来ない 相変わらず納品書が来ない",
        "El porno es motivación, no lo pueden prohibir",
        "Mi è piaciuto un video di @user http Paolo Meneguzzi - Ho Bisogno D'amore (Videoclip ©NiHi",
        "入住感想如下、供参考。1、离机场很近、无车接送、走路约八分钟。夜晚、雨天走路艰难。2、谈不上服务、一切自助。",
        "حركة المرور كثيفة من اوتوستراد زوق مكايل باتجاه مفرق غزير وصولا الى كازينو لبنان",
    ],
)
def test_single_line_messages_are_never_dropped_whole(text):
    cleaned, _ = clean_text(text)
    assert cleaned.strip()


def test_single_line_with_several_spam_markers_is_still_spam():
    cleaned, dropped = clean_text("Hot porn cams xxx free sign up casino bonus http")
    assert cleaned == "" and dropped["spam"] == 1
