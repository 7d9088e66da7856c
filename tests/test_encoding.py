
import pytest

from miner.errors import UsageError
from miner.ingest.encoding import decode_bytes, detect_encoding, looks_binary, normalise_codec

ZH_HANS = "快递三天都没到，客服电话一直占线，退款也不处理。宽带装好以后每天晚上都断网。"
ZH_HANT = "寬頻安裝師傅遲到了四個小時，客服說會回電但是一直沒有消息。帳單還多收了一個月的費用。"
# Windows-1256 has no Persian yeh/kaf (ی ک): files in it use the Arabic letters (ي ك).
FA = "اینترنت من سه روز است که قطع است و پشتیبانی جواب نمی‌دهد. قبض این ماه هم دو برابر شده است.".replace("ی", "ي").replace("ک", "ك")
FR = "La box est tombée en panne après la mise à jour, le SAV ne répond pas et la facture a augmenté."


@pytest.mark.parametrize(
    "text, codec",
    [(ZH_HANS * 3, "gb18030"), (ZH_HANT * 3, "big5"), (FA * 3, "cp1256"), (FR * 3, "cp1252")],
)
def test_legacy_encodings_are_detected_and_decoded(text, codec):
    decoded, used, bad = decode_bytes(text.encode(codec))
    assert decoded == text
    assert bad == 0


@pytest.mark.parametrize("codec", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_unicode_encodings_with_and_without_bom(codec):
    text = "id,text\n1," + ZH_HANS + "\n2," + FA + "\n"
    decoded, used, _ = decode_bytes(text.encode(codec))
    assert decoded == text


def test_declared_charset_subset_uses_superset():
    # Pages declare gb2312 but use characters only GB18030 has.
    text = "𠀀" + ZH_HANS
    decoded, used, _ = decode_bytes(text.encode("gb18030"), declared=normalise_codec("gb2312"))
    assert decoded == text and used == "gb18030"


def test_forced_encoding_and_unknown_encoding():
    assert decode_bytes("é".encode("cp1252"), encoding="latin-1")[0] == "é"
    with pytest.raises(UsageError):
        decode_bytes(b"x", encoding="no-such-codec")


def test_binary_detection():
    assert looks_binary(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert not looks_binary("hello, world".encode("utf-16"))
    assert not looks_binary("hello, world".encode("utf-16-le"))
    assert not looks_binary(ZH_HANS.encode("utf-8"))


def test_truncated_utf8_sample_still_utf8():
    data = ("é" * 10).encode("utf-8")[:-1]
    assert detect_encoding(data) == "utf-8"


# ---------------------------------------------------------------------------
# Files that mix encodings (exports stitched from several systems), decided line by line

from miner.ingest.encoding import decode, repair_mojibake  # noqa: E402

ZH_LINE = "快递太慢了，客服电话一直占线，退款也不处理，我要投诉。"
ES_LINE = "¿Por qué me cobraron dos veces? El técnico nunca llegó y nadie contesta."
DE_LINE = "Der Techniker kam nicht, völlig unmöglich, und die Rechnung ist falsch."


def _mixed_csv() -> bytes:
    return (
        b"id,text\n"
        + ('1,"' + FR + '"\n').encode("cp1252")
        + ('2,"' + ZH_LINE + '"\n').encode("gbk")
        + ('3,"' + DE_LINE + '"\n').encode("utf-8")
        + ('4,"' + ES_LINE + '"\n').encode("cp1252")
    )


def test_mixed_utf8_cp1252_gbk_lines_each_decoded_with_their_own_codec():
    d = decode(_mixed_csv())
    assert d.text.split("\n")[1:5] == [f'{i},"{t}"' for i, t in enumerate((FR, ZH_LINE, DE_LINE, ES_LINE), 1)]
    assert d.codec == "cp1252"  # the codec of most non-ASCII lines
    assert d.line_codecs == {"cp1252": 2, "gb18030": 1, "utf-8": 1}
    assert d.other_lines == 2 and d.replaced == 0


def test_single_encoding_files_are_not_split_by_the_line_rule():
    for text, codec in ((ZH_HANS + "\n" + ZH_HANS[::-1] + "\n" + "短句。\n", "gb18030"), (FR + "\n" + ES_LINE + "\n" + DE_LINE, "cp1252")):
        d = decode(text.encode(codec))
        assert d.text == text and d.other_lines == 0, codec
    # A clean UTF-8 file is never looked at line by line.
    d = decode((FR + "\n" + ZH_LINE).encode("utf-8"))
    assert d.codec == "utf-8" and d.other_lines == 0 and d.line_codecs == {}


def test_mojibake_is_repaired_line_by_line_and_counted():
    broken = "Le technicien est arrivÃ© en retard\n宽带 OK\nplain line"
    fixed, n = repair_mojibake(broken)
    assert fixed == "Le technicien est arrivé en retard\n宽带 OK\nplain line" and n == 1
    assert repair_mojibake("Café crème, prix 3€")[1] == 0  # real accents are left alone


def test_ingest_of_a_mixed_file_stores_the_chinese_line_as_chinese_and_counts_it(db, write):
    from miner.ingest.pipeline import ingest

    path = write("mixed.csv", _mixed_csv())
    summary = ingest(db, [str(path)])
    rows = {r["external_id"]: r for r in db.query("SELECT external_id, text, clean_text, lang FROM documents")}
    assert rows["2"]["text"] == ZH_LINE and rows["2"]["lang"] == "zh"
    assert rows["1"]["text"] == FR and rows["4"]["text"] == ES_LINE and rows["3"]["text"] == DE_LINE
    assert summary.to_dict()["warnings"]["lines_decoded_otherwise"] == 2


def test_mojibake_repaired_in_the_stored_original_text(db, write):
    from miner.ingest.pipeline import ingest

    # UTF-8 read once as cp1252 and saved again as UTF-8, as a bad export step does.
    garbled = ('1,"' + FR + '"\n').encode("utf-8").decode("cp1252").encode("utf-8")
    path = write("moji.csv", b"id,text\n" + garbled)
    summary = ingest(db, [str(path)])
    row = next(iter(db.query("SELECT text, clean_text FROM documents")))
    assert row["text"] == FR and row["clean_text"] == FR
    assert summary.to_dict()["warnings"]["mojibake_lines_repaired"] == 1
