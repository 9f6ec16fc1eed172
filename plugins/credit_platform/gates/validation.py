"""Gates 0 and 1 over one batch file: the summary `credit-platform validate` prints, and the chunks of
accepted and rejected records that ingestion stages and quarantines.

The JSON shape is a stable interface (docs/contracts.md):
{"item", "rows", "accepted", "rejected", "batch_error": null | {"reason", "detail"},
 "rejections": [{"row", "field", "reason", "message_zh"}], "warnings": [...]}
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from credit_platform.catalog.items import Catalog, Item, catalog
from credit_platform.gates.messages import batch_message, record_message
from credit_platform.gates.record_contract import DuplicateTracker, Validated, validate_frame
from credit_platform.gates.structure import ROW, BatchError, open_batch


@dataclass
class Report:
    item: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    batch_error: dict | None = None
    rejections: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    format: str | None = None
    encoding: str | None = None
    line_offset: int = 1  # ROW + line_offset = the row number the clerk sees in the file

    def as_json(self) -> dict:
        return {"item": self.item, "rows": self.rows, "accepted": self.accepted, "rejected": self.rejected,
                "batch_error": self.batch_error, "rejections": self.rejections, "warnings": self.warnings}


ChunkSink = Callable[[Validated], None]
ChunkPrep = Callable[[pl.DataFrame], pl.DataFrame]  # a chunk as read (field codes, ROW, REF) → as validated


def validate_file(path: Path | bytes, item_code: str, received_on: date, on_chunk: ChunkSink | None = None,
                  cat: Catalog | None = None, messages: bool = True, name: str = "",
                  prepare: ChunkPrep | None = None) -> Report:
    """Run gate 0 and gate 1 over a file, or a batch in memory (`name` then gives its extension). Never raises
    for bad input: a batch error is in the report. `prepare` may rewrite each chunk before gate 1 (ingestion
    restores the masked ID numbers of a returned feedback workbook there)."""
    cat = cat or catalog()
    item = cat.item(item_code)
    report = Report(item=item_code)
    # a GBK/GB18030 file is transcoded into this directory; it holds clear-text personal data, so it goes
    # as soon as the batch has been read
    with tempfile.TemporaryDirectory(prefix="credit-batch-") as workdir:
        source = path if isinstance(path, bytes) else Path(path)
        _validate(source, item, report, received_on, on_chunk, cat, messages, Path(workdir), name, prepare)
    return report


def _validate(source: Path | bytes, item: Item, report: Report, received_on: date, on_chunk: ChunkSink | None,
              cat: Catalog, messages: bool, workdir: Path, name: str, prepare: ChunkPrep | None = None) -> None:
    item_code = item.code
    try:
        batch = open_batch(source, item, workdir, name=name)
        report.format, report.encoding, report.warnings = batch.format, batch.encoding, batch.warnings
        report.line_offset = batch.line_offset
        tracker = DuplicateTracker()
        masked: dict[str, int] = {}
        for chunk in batch.chunks:
            if prepare:
                chunk = prepare(chunk)
            validated = validate_frame(item, chunk, received_on, tracker=tracker, cat=cat, rows=chunk.get_column(ROW))
            report.rows += validated.frame.height
            n_ok = int(validated.accepted.sum())
            report.accepted += n_ok
            report.rejected += validated.frame.height - n_ok
            if messages:
                report.rejections += _messages(validated.rejections, item_code, cat, received_on, batch.line_offset)
            for code, n in validated.masked.items():
                masked[code] = masked.get(code, 0) + n
            if on_chunk:
                on_chunk(validated)
        if masked:  # kept, masked: the unit should know its system exports ID numbers where none belong
            names = item.names
            report.warnings.append("以下字段中填写了身份证号码，平台已打码保存（不保存明文），请核对业务系统的导出："
                                   + "、".join(f"「{names.get(c, c)}」{n}条" for c, n in masked.items()))
    except BatchError as err:
        report.rows = report.accepted = report.rejected = 0
        report.rejections = []
        report.batch_error = {"reason": err.reason, "detail": err.detail,
                              "message_zh": batch_message(err.reason, err.detail)}


def _messages(rej: pl.DataFrame, item_code: str, cat: Catalog, received_on: date, line_offset: int = 1) -> list[dict]:
    item = cat.item(item_code)
    # a duplicate names the row of the first occurrence as the clerk sees it in the file (Excel's row number)
    return [
        {"row": row, "field": fld, "reason": reason,
         "message_zh": record_message(item, cat, fld, reason, value, received_on,
                                      None if first is None else first + line_offset)}
        for row, fld, reason, value, first in rej.select("row", "field", "reason", "value", "first_row").iter_rows()
    ]
