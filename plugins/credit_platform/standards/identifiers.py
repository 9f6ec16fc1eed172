"""Check digits of Chinese identifiers (../shared/domain/standards.md §6).

- USCC, 统一社会信用代码, GB 32100-2015: 18 chars, mod 31.
- Resident ID, 居民身份证号码, GB 11643-1999: 18 chars (characters 7–14 a birth date), mod 11, may end in X.
- Organisation code, 组织机构代码, GB 11714-1997: 8 + 1 chars, mod 11.
Each `*_status` returns "ok", "invalid_format" or "invalid_checksum" (the contract's reason codes).
"""

from __future__ import annotations

import re
from datetime import date, datetime

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"^\d{17}[\dX]$")
BIRTH_MIN = date(1870, 1, 1)  # before any living holder (GB 11643's own example is born 1880)

ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_RE = re.compile(r"^[0-9A-Z]{8}-?[0-9X]$")


def uscc_check_char(body17: str) -> str:
    total = sum(USCC_VALUE[c] * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_status(code: str) -> str:
    if not USCC_RE.match(code):
        return "invalid_format"
    return "ok" if uscc_check_char(code[:17]) == code[17] else "invalid_checksum"


def resident_id_check_char(body17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def resident_id_birth_date_ok(code: str) -> bool:
    """Characters 7–14 are a real calendar day, from BIRTH_MIN to today (a check digit alone lets 19961326 pass)."""
    try:
        born = datetime.strptime(code[6:14], "%Y%m%d").date()
    except ValueError:
        return False
    return BIRTH_MIN <= born <= date.today()


def resident_id_status(code: str) -> str:
    code = code.upper()
    if not ID_RE.match(code) or not resident_id_birth_date_ok(code):
        return "invalid_format"
    return "ok" if resident_id_check_char(code[:17]) == code[17] else "invalid_checksum"


def _org_value(c: str) -> int:
    return int(c) if c.isdigit() else ord(c) - 55


def org_code_check_char(body8: str) -> str:
    c = 11 - sum(_org_value(a) * w for a, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def org_code_status(code: str) -> str:
    code = code.upper()
    if not ORG_RE.match(code):
        return "invalid_format"
    code = code.replace("-", "")
    return "ok" if org_code_check_char(code[:8]) == code[8] else "invalid_checksum"


def make_uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def make_resident_id(body17: str) -> str:
    return body17 + resident_id_check_char(body17)

