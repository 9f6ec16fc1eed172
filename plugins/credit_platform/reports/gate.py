"""Gate 2 on every report frame before it is published (pandera on polars): rates in [0, 1], counts not negative,
parts add up to their totals, totals reconcile with the landing ledger, no clear-text ID numbers. `neutralise` is
for the spreadsheet: text a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe in the
XLSX (reports.xlsx); the HTML shows the text as it is (escaped)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from credit_platform.reports.model import Report, Section
from credit_platform.standards.pii import find_ids

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class GateError(ValueError):
    """A report frame failed its checks; it is not published. The message names the report, section and check."""


def neutralise(value: str | None) -> str | None:
    """A leading apostrophe makes Excel / LibreOffice show the text instead of evaluating it (OWASP CSV injection)."""
    if value is not None and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _schema(section: Section) -> pa.DataFrameSchema:
    cols: dict[str, pa.Column] = {}
    for c in section.columns:
        if c.fmt == "pct":
            cols[c.name] = pa.Column(pl.Float64, pa.Check.in_range(0, 1), nullable=True, coerce=True)
        elif c.fmt == "int":
            cols[c.name] = pa.Column(pl.Int64, pa.Check.ge(0), nullable=True, coerce=True)
        elif c.fmt in ("num",):
            cols[c.name] = pa.Column(pl.Float64, pa.Check.ge(0), nullable=True, coerce=True)
        elif c.fmt == "score":
            cols[c.name] = pa.Column(pl.Float64, pa.Check.in_range(0, 100), nullable=True, coerce=True)
        elif c.fmt == "text":
            cols[c.name] = pa.Column(pl.Utf8, nullable=True, coerce=True, checks=[
                pa.Check(lambda d: d.lazyframe.select(
                    pl.col(d.key).map_elements(lambda v: not find_ids(v), return_dtype=pl.Boolean)),
                    name="no_clear_id_numbers", element_wise=False)])
    checks = []
    for parts, total in section.sums:
        checks.append(pa.Check(lambda d, parts=parts, total=total: d.lazyframe.select(
            pl.sum_horizontal([pl.col(p).fill_null(0) for p in parts]) == pl.col(total).fill_null(0)),
            name=f"{'+'.join(parts)}={total}"))
    for part, total in section.within:
        checks.append(pa.Check(lambda d, part=part, total=total: d.lazyframe.select(
            pl.col(part).fill_null(0) <= pl.col(total).fill_null(0)), name=f"{part}<={total}"))
    return pa.DataFrameSchema(cols, checks=checks, strict=False)


def check(report: Report) -> Report:
    """Validate every section; raises GateError (nothing is published) on any failure."""
    problems = []
    for section in report.sections:
        if section.frame.is_empty():
            continue
        try:
            section.frame = _schema(section).validate(section.frame, lazy=True)
        except (pa.errors.SchemaErrors, pa.errors.SchemaError) as err:
            cases = getattr(err, "failure_cases", None)
            detail = cases.head(5).to_dicts() if isinstance(cases, pl.DataFrame) else str(err)[:500]
            problems.append(f"{section.key}: {detail}")
    for label, frame_total, ledger_total in report.reconciliations:
        if abs(frame_total - ledger_total) > 1e-6:
            problems.append(f"{label}: report total {frame_total:g} does not reconcile with the ledger's"
                            f" {ledger_total:g}")
    if problems:
        raise GateError(f"report {report.code} {report.office_code} {report.period} failed its gate: "
                        + "; ".join(problems))
    return report
