"""Gate 0: structure. Bytes in, chunks of string columns keyed by national field codes out.

Accepts CSV (UTF-8 with or without BOM, GBK/GB18030, CRLF, quoted fields with newlines) and XLSX. Headers
may be the Chinese names (spaces and full/half-width brackets tolerated) or the national codes. Unknown
columns are warnings; missing required columns, unreadable or undecodable files are a `BatchError`
carrying a batch reason code. Chunks keep memory bounded for files of millions of rows.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import polars as pl

from credit_platform.catalog.items import Item
from credit_platform.gates.normalize import to_half_width
from credit_platform.standards.pii import redact_ids

ROW = "__row"
# The record reference (记录编号) of a feedback workbook's row: batch and row of the rejected record it shows.
# Kept beside the fields (not a field): a returned row carrying it is matched to that rejection.
REF = "__ref"
REF_HEADERS = {"记录编号"}
CHUNK_ROWS = 250_000
_READ = 4 * 1024 * 1024


class BatchError(Exception):
    """A whole batch refused, with a reason code. The detail may quote a parser or a file name: anything shaped
    like an ID number in it is masked, since it goes to the ledger, the feedback file and the logs."""

    def __init__(self, reason: str, detail: str):
        detail = redact_ids(detail)
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass
class Batch:
    """A structurally valid batch: how it was read and its chunks (each with a 1-based ROW column)."""

    format: str
    encoding: str | None
    columns: dict[str, str]  # source header -> field code
    warnings: list[str] = field(default_factory=list)
    chunks: Iterator[pl.DataFrame] = field(default_factory=lambda: iter(()))
    # ROW + line_offset = the row number the clerk sees: Excel's row for XLSX and CSV (header on the line
    # before the first record), the line for JSON lines
    line_offset: int = 1


def _header_key(text: str) -> str:
    return re.sub(r"\s+", "", to_half_width(str(text))).upper()


# technical columns of the API / front-end / online-fill channels (provenance) and the feedback workbook's own
# columns (a returned workbook re-imports as it is): not record fields, ignored without a warning
TECHNICAL_COLUMNS = {"RECORD_ID", "UPDATED_AT", "ENTRY_ID", "原行号", "原文件行号", "问题说明", "修改要求"}


def header_map(item: Item, headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map source headers to field codes; returns (mapping, warnings)."""
    lookup: dict[str, str] = {}
    for f in item.fields:
        for label in (f.code, f.name, *f.aliases):
            lookup.setdefault(_header_key(label), f.code)
    mapping: dict[str, str] = {}
    warnings: list[str] = []
    for h in headers:
        code = lookup.get(_header_key(h))
        if code is None and _header_key(h) in REF_HEADERS and REF not in mapping.values():
            mapping[h] = REF
            continue
        if code is None and _header_key(h) in TECHNICAL_COLUMNS:
            continue
        if code is None or code in mapping.values():
            warnings.append(f"未识别的列已忽略：{str(h)[:50]}" if code is None else f"重复的列已忽略：{str(h)[:50]}")
            continue
        mapping[h] = code
    missing = [f for f in item.fields if f.required and f.code not in mapping.values()]
    if missing:
        raise BatchError("missing_columns", "、".join(f"{f.name}（{f.code}）" for f in missing))
    return mapping, warnings


def sniff_format(head: bytes, filename: str = "") -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise BatchError("unsupported_format", "Excel 97-2003（.xls）文件")
    if head.startswith(b"%PDF"):
        raise BatchError("unsupported_format", "PDF文件")
    if b"\x00" in head[:8192] and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchError("unsupported_format", f"二进制文件{(' ' + filename) if filename else ''}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise BatchError("unsupported_format", "UTF-16编码的文本")
    return "csv"


Source = Path | bytes  # a file (streamed, any size) or a batch already in memory (read from the raw zone)


def _head(source: Source, n: int) -> bytes:
    if isinstance(source, bytes):
        return source[:n]
    with open(source, "rb") as fh:
        return fh.read(n)


def _as_utf8(source: Source, workdir: Path) -> tuple[str, Source]:
    """The encoding (utf-8-sig or gb18030, a superset of GBK) and the batch as UTF-8, decoding it once.

    UTF-8 is recognised on the first MiB and read as it is; polars then checks the rest strictly while
    parsing (a later invalid byte is a batch error, not silent damage). Anything else is decoded strictly as
    GB18030 while it is transcoded (in memory, or into `workdir` for a file).
    """
    try:
        codecs.getincrementaldecoder("utf-8-sig")(errors="strict").decode(_head(source, 1 << 20), final=False)
        return "utf-8-sig", source
    except UnicodeDecodeError:
        pass
    try:
        if isinstance(source, bytes):
            return "gb18030", source.decode("gb18030").encode("utf-8")
        out = workdir / "transcoded.csv"
        dec = codecs.getincrementaldecoder("gb18030")(errors="strict")
        with open(source, "rb") as src, open(out, "wb") as dst:
            while chunk := src.read(_READ):
                dst.write(dec.decode(chunk).encode("utf-8"))
            dst.write(dec.decode(b"", final=True).encode("utf-8"))
        return "gb18030", out
    except UnicodeDecodeError:
        raise BatchError("undecodable_text", "既不是UTF-8也不是GBK/GB18030编码") from None


def _first_line(source: Source) -> str:
    if isinstance(source, bytes):
        end = source.find(b"\n")  # no split: that would copy the whole batch after the first line
        line = source if end < 0 else source[:end]
    else:
        with open(source, "rb") as fh:
            line = fh.readline()
    return line.decode("utf-8-sig", errors="replace")


def _csv_chunks(source: Source, mapping: dict[str, str], chunk_rows: int) -> Iterator[pl.DataFrame]:
    lf = pl.scan_csv(source, infer_schema=False, has_header=True, quote_char='"', encoding="utf8",
                     missing_columns="insert", raise_if_empty=False, truncate_ragged_lines=False)
    lf = lf.select([pl.col(h).alias(code) for h, code in mapping.items()])
    offset, pending, pending_rows = 0, [], 0

    def flush() -> pl.DataFrame:
        nonlocal offset, pending, pending_rows
        chunk = pl.concat(pending) if len(pending) > 1 else pending[0]
        chunk = chunk.with_columns(pl.int_range(offset + 1, offset + chunk.height + 1, dtype=pl.Int64).alias(ROW))
        offset += chunk.height
        pending, pending_rows = [], 0
        return chunk

    try:
        # polars' own batch size parses fastest; batches are gathered into chunks of ~chunk_rows so the
        # per-chunk validation overhead stays small while memory stays bounded.
        for batch in lf.collect_batches():
            pending.append(batch)
            pending_rows += batch.height
            if pending_rows >= chunk_rows:
                yield flush()
        if pending:
            yield flush()
    except pl.exceptions.PolarsError as err:
        if "utf-8" in str(err).lower():
            raise BatchError("undecodable_text", "文件中含有非UTF-8编码的内容（可能混用了GBK编码）") from None
        raise BatchError("unreadable_file", _csv_error_zh(str(err))) from None


def _csv_error_zh(text: str) -> str:
    if "more fields" in text:
        return "CSV解析失败：某行的列数多于表头（可能有未加引号的逗号）"
    if "could not parse" in text:
        return "CSV解析失败：引号不配对或字段无法解析"
    return "CSV解析失败：文件格式不规范，请用Excel或WPS另存为CSV（逗号分隔）后重新上报"


def _cell_text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v)


MAX_XLSX_UNPACKED = 2 << 30  # 2 GiB of XML is far beyond any real extract (≈ 5M rows)
MAX_XLSX_RATIO = 200  # real sheets compress ≈ 5-20×; a zip bomb compresses thousands of times


def _check_zip(path: Path | io.BytesIO) -> None:
    """Refuse hostile XLSX before parsing: zip bombs by size and ratio (XML entity attacks are stopped by
    defusedxml, which openpyxl uses when it is installed)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError):
        raise BatchError("unreadable_file", "XLSX文件损坏或不完整，不是有效的Excel文件") from None
    except Exception:  # noqa: BLE001  - a corrupt directory also raises NotImplementedError, ValueError…
        raise BatchError("unreadable_file", "XLSX文件内部结构损坏，无法解析") from None
    unpacked = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if unpacked > MAX_XLSX_UNPACKED or unpacked / packed > MAX_XLSX_RATIO:
        raise BatchError("unreadable_file", f"XLSX文件解压后异常庞大（{unpacked // (1 << 20)} MB），疑似恶意文件")


def _xlsx_batch(path: Path | io.BytesIO, item: Item, chunk_rows: int) -> Batch:
    import openpyxl

    _check_zip(path)
    if isinstance(path, io.BytesIO):
        path.seek(0)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        if "Entit" in type(err.__cause__ or err).__name__:  # EntitiesForbidden from defusedxml
            raise BatchError("unreadable_file", "XLSX文件含有不允许的XML实体定义，疑似恶意文件") from None
        raise BatchError("unreadable_file", "XLSX文件损坏或不完整，不是有效的Excel文件") from None
    except Exception:  # noqa: BLE001  - openpyxl raises many types on hostile files
        raise BatchError("unreadable_file", "XLSX文件内部结构损坏，无法解析") from None
    if not wb.worksheets:  # a package whose sheet part is missing still opens
        wb.close()
        raise BatchError("unreadable_file", "XLSX文件中没有工作表")
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header_row = 0
    try:
        header = None
        for r in rows:
            header_row += 1
            if any(c not in (None, "") for c in r):
                header = r
                break
        if header is None:
            raise StopIteration
    except StopIteration:
        raise BatchError("empty_file", "工作表中没有表头和数据") from None
    except Exception:  # noqa: BLE001
        raise BatchError("unreadable_file", "XLSX文件内部结构损坏，无法解析") from None
    headers = [str(h) if h is not None else "" for h in header]
    named = [(i, h) for i, h in enumerate(headers) if h.strip()]
    mapping, warnings = header_map(item, [h for _, h in named])
    picks = [(i, mapping[h]) for i, h in named if h in mapping]

    def chunks() -> Iterator[pl.DataFrame]:
        buf: dict[str, list] = {code: [] for _, code in picks}
        nums: list[int] = []
        n = 0
        try:
            for r in rows:
                n += 1
                vals = [_cell_text(r[i]) if i < len(r) else None for i, _ in picks]
                if all(v is None or not v.strip() for v in vals):
                    continue
                nums.append(n)
                for (_, code), v in zip(picks, vals, strict=True):
                    buf[code].append(v)
                if len(nums) >= chunk_rows:
                    yield pl.DataFrame({**buf, ROW: nums}, schema={**{c: pl.Utf8 for c in buf}, ROW: pl.Int64})
                    buf = {code: [] for _, code in picks}
                    nums = []
        except Exception:  # noqa: BLE001
            raise BatchError("unreadable_file", "XLSX文件读取中断，文件可能不完整") from None
        finally:
            wb.close()
        if nums or n == 0:
            yield pl.DataFrame({**buf, ROW: nums}, schema={**{c: pl.Utf8 for c in buf}, ROW: pl.Int64})

    return Batch("xlsx", None, {h: mapping[h] for _, h in named if h in mapping}, warnings, chunks(), header_row)


def _jsonl_keys(source: Source) -> list[str]:
    """The keys of all records, in order of appearance (schema inference only: no column is built)."""
    try:
        return pl.scan_ndjson(io.BytesIO(source) if isinstance(source, bytes) else source,
                              infer_schema_length=None).collect_schema().names()
    except pl.exceptions.PolarsError as err:
        if "supertype" not in str(err):
            raise BatchError("unreadable_file", "JSON解析失败：数据不是每行一个JSON对象的格式") from None
    # one key holds objects or arrays of clashing shapes: polars cannot type the column, the keys are enough
    keys: dict[str, None] = {}
    text = source if isinstance(source, bytes) else source.read_bytes()
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise BatchError("unreadable_file", f"JSON解析失败：第{no}行不是一个JSON对象")
        keys.update(dict.fromkeys(record))
    return list(keys)


def _jsonl_batch(source: Source, item: Item) -> Batch:
    """JSON lines from the API and online-fill channels: one object per record, keys are headers or codes.
    Every value is read as its JSON text, so a number, a boolean, an object or an array where the catalog
    expects text is judged by the field's rules instead of failing the batch."""
    keys = _jsonl_keys(source)
    try:
        frame = pl.read_ndjson(source, schema=dict.fromkeys(keys, pl.Utf8))
    except pl.exceptions.PolarsError:
        raise BatchError("unreadable_file", "JSON解析失败：数据不是每行一个JSON对象的格式") from None
    mapping, warnings = header_map(item, frame.columns)
    frame = frame.select([pl.col(h).alias(code) for h, code in mapping.items()])
    frame = frame.with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))
    return Batch("jsonl", "utf-8", mapping, warnings, iter([frame]), 0)


def open_batch(source: Source, item: Item, workdir: Path, chunk_rows: int = CHUNK_ROWS, name: str = "") -> Batch:
    """Read a batch's structure; raises BatchError with a batch reason code. `name` (the file name) tells
    JSON lines from CSV when the batch is given as bytes. A GBK file is transcoded into `workdir`, which the
    caller owns and removes (the copy holds the file's personal data)."""
    if not isinstance(source, bytes):
        source = Path(source)
        name = source.name
    try:
        head = _head(source, 65536)
    except OSError as err:
        raise BatchError("unreadable_file", f"无法打开文件：{err.strerror}") from None
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise BatchError("empty_file", "0字节或只有空白")
    fmt = sniff_format(head, name)
    if fmt == "xlsx":
        return _xlsx_batch(io.BytesIO(source) if isinstance(source, bytes) else source, item, chunk_rows)
    if name.endswith(".jsonl"):
        return _jsonl_batch(source, item)
    encoding, csv_source = _as_utf8(source, workdir)
    try:
        header = next(iter(pl.read_csv(io.StringIO(_first_line(csv_source)), has_header=False,
                                       infer_schema=False).rows()))
    except (pl.exceptions.PolarsError, StopIteration):
        raise BatchError("unreadable_file", "表头行无法解析") from None
    headers = [h for h in header if h is not None]
    mapping, warnings = header_map(item, headers)
    # polars names duplicate headers with suffixes; keep only the first occurrence of each header
    mapping = {h: c for h, c in mapping.items()}
    return Batch("csv", "utf-8" if encoding == "utf-8-sig" else "gb18030", mapping, warnings,
                 _csv_chunks(csv_source, mapping, chunk_rows))
