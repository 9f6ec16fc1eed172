"""What one batch may cost: every limit gate 0 enforces, in one place.

Each is checked before the memory it guards is spent (from the zip directory, the shared-strings part read as
a stream, the header line, the raw bytes) and is refused as the batch error `too_large`, which names the limit.
The figures are far above any real extract (a 1M-row XLSX of 30 columns has 30M cells, unique texts ≈ 1M),
and far below what would exhaust a 2-core, few-GiB worker: `tests/test_batch_limits.py` measures the peak
memory of the worst cases.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    xlsx_unpacked_bytes: int = 1 << 30  # all parts of a workbook, unpacked
    xlsx_ratio: int = 200  # unpacked / packed: real sheets compress ≈ 5-20×, a zip bomb thousands of times
    xlsx_shared_strings_bytes: int = 128 << 20  # the shared-strings part, unpacked (openpyxl holds it all)
    xlsx_shared_strings: int = 2_000_000  # entries of the shared-strings table
    xlsx_cells: int = 40_000_000  # cells of the first sheet (as declared, then as read)
    columns: int = 300  # header columns of a CSV or sheet
    line_bytes: int = 1 << 20  # one CSV line (so one field) in bytes


LIMITS = Limits()
