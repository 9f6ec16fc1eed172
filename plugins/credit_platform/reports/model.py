"""What a report is, independent of its format: sections of rows with Chinese headers, formats and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Format = Literal["text", "int", "pct", "num", "score", "date", "change_pct", "change_score"]


@dataclass(frozen=True)
class Column:
    name: str
    header_zh: str
    fmt: Format = "text"
    # what a missing value reads as in both formats (无数据, —); None: "—" on the page, an empty cell in the workbook
    none_zh: str | None = None


@dataclass(frozen=True)
class Chart:
    kind: Literal["bar", "line"]
    title_zh: str
    category: str              # column with the labels
    values: tuple[str, ...]    # numeric columns, one series each
    max_points: int = 20       # the first rows only (sections are sorted so the first matter most)


@dataclass
class Section:
    key: str
    title_zh: str
    frame: pl.DataFrame
    columns: list[Column]
    chart: Chart | None = None
    note_zh: str = ""
    # gate: (part columns, total column): every row's parts add up to the total
    sums: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    # gate: (part column, total column): part ≤ total on every row
    within: list[tuple[str, str]] = field(default_factory=list)
    empty_zh: str = "本期无。"

    def header(self, name: str) -> str:
        return next(c.header_zh for c in self.columns if c.name == name)

    def chart_count(self) -> int:
        """How many of the first rows the chart shows: up to max_points, stopping at the first row without any of
        its values (sections put rows without a figure — units without data — last: they get no empty axis slot);
        a bar chart also stops at the first row of zeros only (cities without any case)."""
        if not self.chart:
            return 0
        n = 0
        for row in self.frame.head(self.chart.max_points).select(self.chart.values).iter_rows():
            if all(v is None or (self.chart.kind == "bar" and v == 0) for v in row):
                break
            n += 1
        return n


@dataclass
class Report:
    code: str
    title_zh: str
    office_code: str
    office_name: str
    period: str
    cutoff_zh: str                      # 统计截至…
    headline: list[str]                 # the 通报's opening sentences
    figures: dict[str, float | int | str | None]   # headline numbers (demo, manifest, delivery)
    sections: list[Section]
    # gate: totals that must equal an independent count from the landing ledger: (label, frame total, ledger)
    reconciliations: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def period_zh(self) -> str:
        y, m = self.period.split("-")
        return f"{y}年{int(m)}月"
