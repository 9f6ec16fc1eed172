"""Gate 0: structure. Bytes in, chunks of string columns keyed by national field codes out.

Accepts CSV (UTF-8 with or without BOM, GBK/GB18030, CRLF, quoted fields with newlines) and XLSX. Headers
may be the Chinese names (spaces and full/half-width brackets tolerated) or the national codes. Unknown
columns are warnings; missing required columns, unreadable or undecodable files are a `BatchError`
carrying a batch reason code. Chunks keep memory bounded for files of millions of rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import polars as pl

from credit_platform.catalog.items import Item
from credit_platform.gates.limits import LIMITS
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
FEEDBACK_COLUMNS = {"原文件行号", "问题说明", "修改要求"}  # a returned 问题数据清单 has them beside 记录编号
NO_REF_WARNING = ("这是退回的问题数据清单，但缺少“记录编号”列：平台只能按关键字段（如文书号）对应原问题记录，"
                  "修改过关键字段的记录不能视为整改，打码显示的身份证号码也无法还原。请在原清单中修改并保留“记录编号”列后"
                  "重新报送")


def header_map_lookup(item: Item):
    """header text -> field code (or None), as gate 0 maps headers."""
    lookup: dict[str, str] = {}
    for f in item.fields:
        for label in (f.code, f.name, *f.aliases):
            lookup.setdefault(_header_key(label), f.code)
    return lambda h: lookup.get(_header_key(h))


def header_map(item: Item, headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map source headers to field codes; returns (mapping, warnings)."""
    find = header_map_lookup(item)
    if len(headers) > LIMITS.columns:
        raise BatchError("too_large", f"共{len(headers)}列，上限{LIMITS.columns}列")
    mapping: dict[str, str] = {}
    warnings: list[str] = []
    for h in headers:
        code = find(h)
        if code is None and _header_key(h) in REF_HEADERS and REF not in mapping.values():
            mapping[h] = REF
            continue
        if code is None and _header_key(h) in TECHNICAL_COLUMNS:
            continue
        if code is None:
            warnings.append(f"未识别的列已忽略：{redact_ids(str(h))[:50]}")
            continue
        if code in mapping.values():
            # two columns for one field: which one holds the data is a guess either way, so the unit decides
            first = next(k for k, v in mapping.items() if v == code)
            raise BatchError("duplicate_columns", f"“{redact_ids(str(first))[:50]}”与“{redact_ids(str(h))[:50]}”"
                                                  f"都对应「{item.names[code]}」（{code}）")
        mapping[h] = code
    missing = [f for f in item.fields if f.required and f.code not in mapping.values()]
    if missing:
        raise BatchError("missing_columns", "、".join(f"{f.name}（{f.code}）" for f in missing))
    if REF not in mapping.values() and FEEDBACK_COLUMNS & {_header_key(h) for h in headers}:
        # its records still load (nothing is lost), but only by natural key can they close rejections: say so
        warnings.append(NO_REF_WARNING)
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


def _overlong_line(source: Source) -> bool:
    """Whether some aligned block of `LIMITS.line_bytes` holds no line break: lines up to the limit always
    pass, lines over twice the limit never do. One `find` per block, which stops at the block's first line
    break: ≈ 1 ms for a 500 MB file (a file is memory-mapped, so only the pages probed are read)."""
    step = LIMITS.line_bytes

    def probe(buf) -> bool:
        return any(buf.find(b"\n", i, i + step) < 0 for i in range(0, len(buf) - step, step))

    if isinstance(source, bytes):
        return probe(source)
    with open(source, "rb") as fh:
        if fh.seek(0, 2) <= step:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return probe(mm)


def _truncation(source: Source, n_headers: int) -> str | None:
    """Why the file ends mid-record, if it does: no final line break and a last line with an open quote or
    fewer fields than the header (what an interrupted upload or export leaves)."""
    if isinstance(source, bytes):
        tail = source[-65536:]
    else:
        with open(source, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(fh.tell() - 65536, 0))
            tail = fh.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return None
    last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", errors="replace")
    if last.count('"') % 2:
        return "最后一条记录的引号未闭合"
    fields = next(csv.reader([last]), [])
    if 1 < n_headers and len(fields) < n_headers:
        return f"最后一行只有{len(fields)}列，表头有{n_headers}列"
    return None


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
        raise BatchError("unreadable_file", _csv_error_zh(str(err), source)) from None


def _csv_error_zh(text: str, source: Source) -> str:
    if "more fields" in text:
        long = _first_long_line(source)
        where = f"第{long[0]}行有{long[1]}列，多于表头的{long[2]}列" if long else "某行的列数多于表头"
        return f"CSV解析失败：{where}（可能有未加引号的逗号）"
    if "could not parse" in text:
        return "CSV解析失败：引号不配对或字段无法解析"
    return "CSV解析失败：文件格式不规范"


def _first_long_line(source: Source) -> tuple[int, int, int] | None:
    """(line as a text editor counts it, fields, header fields) of the first record longer than the header: read
    again only when polars has refused the file, to tell the clerk where to look."""
    fh = io.TextIOWrapper(io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb"),
                          encoding="utf-8-sig", errors="replace", newline="")
    with fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        for row in reader:
            if len(row) > len(header):
                return reader.line_num, len(row), len(header)
    return None


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


def _count_shared_strings(zf: zipfile.ZipFile, name: str) -> int:
    """Entries of the shared-strings table, counted on the stream (openpyxl would build them all first)."""
    n, tail = 0, b""
    with zf.open(name) as fh:
        while chunk := fh.read(1 << 20):
            data = tail + chunk
            n += data.count(b"<si>") + data.count(b"<si ")
            tail = data[-3:]
            n -= tail.count(b"<si>") + tail.count(b"<si ")  # counted again with the next chunk
    return n


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+:([A-Z]+)(\d+)"')


def _declared_cells(zf: zipfile.ZipFile, name: str) -> int:
    with zf.open(name) as fh:
        m = _DIMENSION.search(fh.read(4096))
    if not m:
        return 0
    col = 0
    for ch in m.group(1).decode():
        col = col * 26 + ord(ch) - 64
    return col * int(m.group(2))


def _check_zip(path: Path | io.BytesIO) -> None:
    """Refuse hostile XLSX before parsing: zip bombs by size and ratio, shared-strings tables and sheets too
    large to hold (XML entity attacks are stopped by defusedxml, which openpyxl uses when it is installed)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_parts(zf, infos)
    except BatchError:
        raise
    except (zipfile.BadZipFile, OSError):
        raise BatchError("unreadable_file", "XLSX文件损坏或不完整，不是有效的Excel文件") from None
    except Exception:  # noqa: BLE001  - a corrupt directory also raises NotImplementedError, ValueError…
        raise BatchError("unreadable_file", "XLSX文件内部结构损坏，无法解析") from None


def _check_parts(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    unpacked = sum(i.file_size for i in infos)
    packed = max(sum(i.compress_size for i in infos), 1)
    if unpacked > LIMITS.xlsx_unpacked_bytes or unpacked / packed > LIMITS.xlsx_ratio:
        raise BatchError("too_large", f"XLSX文件解压后{unpacked // (1 << 20)} MB，压缩比{unpacked // packed}，"
                                      f"上限{LIMITS.xlsx_unpacked_bytes >> 20} MB、压缩比{LIMITS.xlsx_ratio}，"
                                      "疑似恶意文件")
    by_name = {i.filename.lower(): i for i in infos}
    sst = by_name.get("xl/sharedstrings.xml")
    if sst is not None:
        if sst.file_size > LIMITS.xlsx_shared_strings_bytes:
            raise BatchError("too_large", f"共享字符串表解压后{sst.file_size >> 20} MB，"
                                          f"上限{LIMITS.xlsx_shared_strings_bytes >> 20} MB")
        n = _count_shared_strings(zf, sst.filename)
        if n > LIMITS.xlsx_shared_strings:
            raise BatchError("too_large", f"共享字符串表有{n}项，上限{LIMITS.xlsx_shared_strings}项")
    sheet = next((i for name, i in sorted(by_name.items()) if name.startswith("xl/worksheets/sheet")), None)
    if sheet is not None and (cells := _declared_cells(zf, sheet.filename)) > LIMITS.xlsx_cells:
        raise BatchError("too_large", f"工作表声明{cells}个单元格，上限{LIMITS.xlsx_cells}个")


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
        n = cells = 0
        try:
            for r in rows:
                n += 1
                cells += len(r)
                if cells > LIMITS.xlsx_cells:
                    raise BatchError("too_large", f"工作表超过{LIMITS.xlsx_cells}个单元格")
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
        except BatchError:
            raise
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
    if _overlong_line(csv_source):
        raise BatchError("too_large", f"某行超过{LIMITS.line_bytes >> 10} KB")
    if why := _truncation(csv_source, len(header)):
        raise BatchError("truncated_file", why)
    return Batch("csv", "utf-8" if encoding == "utf-8-sig" else "gb18030", mapping, warnings,
                 _csv_chunks(csv_source, mapping, chunk_rows))
