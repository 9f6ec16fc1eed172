"""Bounded cost per batch: the worst inputs are refused as `too_large` before their memory is spent.

Each case runs gate 0 + 1 in a fresh subprocess and reads its peak RSS (VmHWM, falling back to ru_maxrss),
so the figure is the batch's own and not the test runner's. The bound, PEAK_MB, is the interpreter with polars, pandera and
openpyxl loaded (≈ 200 MB here) plus headroom, far below the 1.58 GB the shared-strings bomb took before.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest

from credit_platform.gates.limits import LIMITS

PEAK_MB = 400
HEADER = ("行政相对人名称,行政相对人类别,行政相对人代码_1（统一社会信用代码）,法定代表人,行政处罚决定书文号,违法行为类型,违法事实,"
          "处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,"
          "数据来源单位统一社会信用代码")

_PROBE = """
import json, resource, sys
from datetime import date
from pathlib import Path
from credit_platform.gates.validation import validate_file
path = Path(sys.argv[1])
rep = validate_file(path, "administrative_penalty", date(2026, 11, 20))
# VmHWM is this process's own peak: ru_maxrss would carry over the test runner's, inherited across exec
hwm = [int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")]
peak = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"error": rep.batch_error, "rows": rep.rows, "peak_mb": peak / 1024}))
"""


def _gate(path) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _xlsx(parts: dict[str, bytes]) -> bytes:
    base = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                               b'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                           b'2006/main"><sheets><sheet name="s" sheetId="1"/></sheets></workbook>',
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**base, **parts}.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _shared_strings(n: int, text: bytes = b"") -> bytes:
    body = b"".join(b"<si><t>%d%s</t></si>" % (i, text) for i in range(n))
    return (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + body + b"</sst>")


@pytest.mark.parametrize("case", ["shared_string_count", "shared_string_bytes", "declared_cells", "csv_line",
                                  "csv_columns"])
def test_the_worst_batches_are_refused_in_bounded_memory(tmp_path, case):
    path = tmp_path / ("b.csv" if case.startswith("csv") else "b.xlsx")
    if case == "shared_string_count":  # the probe's bomb: a huge table of short strings (ratio well under 200)
        path.write_bytes(_xlsx({"xl/sharedStrings.xml": _shared_strings(LIMITS.xlsx_shared_strings + 10)}))
    elif case == "shared_string_bytes":
        n = LIMITS.xlsx_shared_strings_bytes // 900 + 10
        path.write_bytes(_xlsx({"xl/sharedStrings.xml": _shared_strings(n, b"x" * 900)}))
    elif case == "declared_cells":
        sheet = b'<worksheet><dimension ref="A1:ZZ99999999"/><sheetData/></worksheet>'
        path.write_bytes(_xlsx({"xl/worksheets/sheet1.xml": sheet}))
    elif case == "csv_line":  # one field of 3 × the limit
        path.write_bytes((HEADER + "\n某公司,法人及非法人组织,x,").encode() + b"y" * (3 * LIMITS.line_bytes) + b"\n")
    else:
        path.write_bytes((HEADER + "".join(f",c{i}" for i in range(LIMITS.columns + 1)) + "\n").encode())
    got = _gate(path)
    assert got["error"] and got["error"]["reason"] == "too_large", got
    assert "上限" in got["error"]["message_zh"]
    assert got["peak_mb"] < PEAK_MB, got
