"""Random identifiers for the PII cases: valid ones (their check digits computed) and ones whose
check fails (a digit mistyped, a wrong length), as customers write them.

Used by make_tune.py and make_heldout.py; nothing here is used by miner itself.
"""

from __future__ import annotations

import random
import string

from stdnum import iban as _iban
from stdnum import luhn
from stdnum.br import cpf as _cpf
from stdnum.cn import ric as _ric
from stdnum.de import idnr as _idnr
from stdnum.es import dni as _dni
from stdnum.it import codicefiscale as _cf
from stdnum.jp import in_ as _jpin
from stdnum.kr import rrn as _rrn

D = string.digits


def digits(rng: random.Random, n: int, first: str = "123456789") -> str:
    return rng.choice(first) + "".join(rng.choice(D) for _ in range(n - 1))


def mistype(rng: random.Random, s: str, positions: str = "last") -> str:
    """Change one digit (the check digit by default) so that the check fails."""
    idx = [i for i, c in enumerate(s) if c.isdigit()]
    i = idx[-1] if positions == "last" else rng.choice(idx[1:])
    new = rng.choice([d for d in D if d != s[i]])
    return s[:i] + new + s[i + 1 :]


def group(s: str, sizes: tuple[int, ...], sep: str = " ") -> str:
    out, pos = [], 0
    for n in sizes:
        out.append(s[pos : pos + n])
        pos += n
    if pos < len(s):
        out.append(s[pos:])
    return sep.join(p for p in out if p)


# --- cards ---------------------------------------------------------------------------------

BRANDS = {  # prefix choices, length
    "visa": (["4"], 16),
    "mastercard": (["51", "52", "53", "54", "55", "2221", "2720"], 16),
    "amex": (["34", "37"], 15),
    "unionpay": (["62"], 16),
    "unionpay19": (["62"], 19),
    "jcb": (["3528", "3589"], 16),
    "mir": (["2200", "2202", "2204"], 16),
    "discover": (["6011", "65"], 16),
}


def card(rng: random.Random, brand: str, valid: bool = True, length: int | None = None) -> str:
    prefixes, n = BRANDS[brand]
    n = length or n
    p = rng.choice(prefixes)
    body = p + "".join(rng.choice(D) for _ in range(n - len(p) - 1))
    full = body + luhn.calc_check_digit(body)
    if not valid and length is None:
        full = mistype(rng, full)
    return full


def card_text(rng: random.Random, number: str, style: str | None = None) -> str:
    style = style or rng.choice(["space", "space", "dash", "compact"])
    if style == "compact":
        return number
    sizes = (4, 6, 5) if len(number) == 15 and number[:2] in ("34", "37") else (4, 4, 4, 4, 4)
    return group(number, sizes, " " if style == "space" else "-")


# --- IBAN ----------------------------------------------------------------------------------

IBAN_SHAPES = {  # country: BBAN pattern (9 digit, A upper letter)
    "DE": "9" * 18, "FR": "9" * 23, "ES": "9" * 20, "IT": "A" + "9" * 22, "PT": "9" * 21,
    "GB": "AAAA" + "9" * 14, "NL": "AAAA" + "9" * 10, "BE": "9" * 12, "SA": "9" * 20, "AE": "9" * 19,
    "IR": "9" * 22, "BR": "9" * 23 + "A9", "CH": "9" * 17, "AT": "9" * 16, "TR": "9" * 22,
}


def iban(rng: random.Random, country: str, valid: bool = True) -> str:
    for _ in range(10000):  # Spain and Belgium have national check digits too: draw until they hold
        bban = "".join(rng.choice(D) if c == "9" else rng.choice(string.ascii_uppercase) for c in IBAN_SHAPES[country])
        check = _iban.calc_check_digits(country + "00" + bban)
        s = country + check + bban
        if country == "IR" or _iban.is_valid(s):  # stdnum's table has no Iran; mod 97 holds
            break
    if not valid:
        s = mistype(rng, s, "any")
    return s


def iban_text(rng: random.Random, s: str, style: str | None = None) -> str:
    style = style or rng.choice(["space", "space", "compact"])
    return s if style == "compact" else group(s, (4,) * 9, " ")


# --- national ids ---------------------------------------------------------------------------

CN_REGIONS = ["110101", "310104", "440106", "510107", "330106", "420102", "320102", "370202"]


def birth(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)


def cn_id(rng, valid=True):
    y, m, d = birth(rng)
    body = f"{rng.choice(CN_REGIONS)}{y:04d}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    s = body + _ric.calc_check_digit(body + "0")
    if not valid:
        c = rng.choice([x for x in "0123456789X" if x != s[-1]])
        s = s[:-1] + c
    return s


def us_ssn(rng, valid=True):
    area = rng.choice([x for x in range(1, 900) if x != 666]) if valid else rng.choice([0, 666, rng.randint(900, 999)])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def es_dni(rng, valid=True):
    n = f"{rng.randint(1, 99999999):08d}"
    letter = _dni.calc_check_digit(n)
    if not valid:
        letter = rng.choice([c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != letter])
    return n + letter


def es_nie(rng, valid=True):
    p = rng.choice("XYZ")
    n = f"{rng.randint(0, 9999999):07d}"
    letter = _dni.calc_check_digit(str("XYZ".index(p)) + n)
    if not valid:
        letter = rng.choice([c for c in "TRWAGMYFPDXBNJZSQVHLCKE" if c != letter])
    return p + n + letter


def fr_nir(rng, valid=True):
    y, m, _ = birth(rng)
    body = f"{rng.choice('12')}{y % 100:02d}{m:02d}{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    key = 97 - int(body) % 97
    if not valid:
        key = (key + rng.randint(1, 96)) % 97 or 1
    s = body + f"{key:02d}"
    return group(s, (1, 2, 2, 2, 3, 3, 2), " ") if rng.random() < 0.6 else s


def br_cpf(rng, valid=True):
    body = "".join(rng.choice(D) for _ in range(9))
    s = body + _cpf._calc_check_digits(body)
    if not valid:
        s = mistype(rng, s)
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}" if rng.random() < 0.6 else s


def it_cf(rng, valid=True):
    L = string.ascii_uppercase
    y, m, d = birth(rng)
    body = ("".join(rng.choice("BCDFGHLMNPRSTVZ") for _ in range(6)) + f"{y % 100:02d}" + "ABCDEHLMPRST"[m - 1]
            + f"{d + rng.choice([0, 40]):02d}" + rng.choice("ABCDEFGHILM") + f"{rng.randint(1, 999):03d}")
    c = _cf.calc_check_digit(body)
    if not valid:
        c = rng.choice([x for x in L if x != c])
    return body + c


def de_idnr(rng, valid=True):
    while True:
        body = digits(rng, 10)
        if not _idnr.is_valid(body + "0") and not any(_idnr.is_valid(body + c) for c in D):
            continue
        good = next(body + c for c in D if _idnr.is_valid(body + c))
        s = good if valid else mistype(rng, good)
        return group(s, (2, 3, 3, 3), " ") if rng.random() < 0.5 else s


def jp_mynumber(rng, valid=True):
    body = digits(rng, 11)
    s = body + _jpin.calc_check_digit(body)
    if not valid:
        s = mistype(rng, s)
    return group(s, (4, 4, 4), rng.choice([" ", "-"])) if rng.random() < 0.6 else s


def kr_rrn(rng, valid=True):
    y, m, d = birth(rng)
    body = f"{y % 100:02d}{m:02d}{d:02d}{rng.choice('12' if y < 2000 else '34')}{rng.randint(0, 99999):05d}"
    s = body + _rrn.calc_check_digit(body)
    if not valid:
        s = mistype(rng, s)
    return s[:6] + "-" + s[6:]


def vn_cccd(rng, valid=True):
    y, _, _ = birth(rng)
    s = f"0{rng.randint(1, 96):02d}{(0 if y < 2000 else 2) + rng.choice([0, 1])}{y % 100:02d}{rng.randint(0, 999999):06d}"
    return s if valid else s[:-1]  # a digit missing: 11 digits


def vn_cmnd(rng, valid=True):
    return digits(rng, 9, "0123")


def ir_melli(rng, valid=True):
    while True:
        d = "".join(rng.choice(D) for _ in range(9))
        r = sum(int(d[i]) * (10 - i) for i in range(9)) % 11
        s = d + str(r if r < 2 else 11 - r)
        if len(set(s)) > 1:
            break
    return mistype(rng, s) if not valid else s


def sa_id(rng, valid=True):
    body = rng.choice("12") + "".join(rng.choice(D) for _ in range(8))
    s = body + luhn.calc_check_digit(body)
    return mistype(rng, s) if not valid else s


def ae_eid(rng, valid=True):
    y, _, _ = birth(rng)
    body = f"784{y:04d}{rng.randint(0, 9999999):07d}"
    s = body + luhn.calc_check_digit(body)
    if not valid:
        s = mistype(rng, s)
    return f"{s[:3]}-{s[3:7]}-{s[7:14]}-{s[14]}"


def ru_snils(rng, valid=True):
    body = f"{rng.randint(2000000, 999999999):09d}"
    total = sum(int(c) * (9 - i) for i, c in enumerate(body))
    c = total % 101
    c = 0 if c == 100 else c
    if not valid:
        c = (c + rng.randint(1, 50)) % 100
    return f"{body[:3]}-{body[3:6]}-{body[6:]} {c:02d}"


def ru_passport(rng, valid=True):
    return f"{rng.randint(1, 99):02d} {rng.randint(0, 99):02d} {rng.randint(100000, 999999)}"


def gb_nino(rng, valid=True):
    a = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
    return f"{a} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.choice('ABCD')}"


def in_aadhaar(rng, valid=True):
    from stdnum import verhoeff

    body = digits(rng, 11, "23456789")
    s = body + verhoeff.calc_check_digit(body)
    if not valid:
        s = mistype(rng, s)
    return group(s, (4, 4, 4), " ")
