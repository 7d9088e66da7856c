
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
