"""Synthetic credit data for the demo, the tests and the benchmarks — driven by the catalog.

Records are realistic (Chinese names, valid identifiers, decision dates on working days). Defects are
planted at configurable rates for every record reason code, each producing exactly one (row, field,
reason) that the contracts must report — the ground truth. Deterministic per seed; streams rows, so
10M-row files never sit in memory.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from credit_platform.catalog.items import Catalog, Condition, FieldSpec, Item, catalog
from credit_platform.catalog.registry import Unit
from credit_platform.catalog.workdays import add_working_days, is_workday
from credit_platform.gates.normalize import to_half_width
from credit_platform.gates.reasons import RECORD_REASONS
from credit_platform.standards.identifiers import USCC_CHARSET, make_resident_id, make_uscc, org_code_check_char

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕红梅玉兰春雷东升晓光德胜宏伟立新永安"
TRADE = ["商贸", "物流", "建筑工程", "餐饮管理", "电子科技", "机械制造", "食品", "医药", "化工", "房地产开发",
         "汽车销售", "环保科技", "农业发展", "文化传媒", "装饰工程", "信息技术", "供应链管理", "石油化工", "钢铁贸易", "水产"]
WORDS = ["兴盛", "宏达", "恒通", "鑫源", "东方", "华辰", "金桥", "瑞丰", "盛世", "北方", "辽海", "天成", "嘉禾", "宝龙", "安泰"]
DISTRICTS = {"210100": ["210102", "210103", "210104", "210105", "210106", "210111", "210112", "210113", "210114"],
             "210200": ["210202", "210203", "210204", "210211", "210212", "210213", "210214"]}
TEXT = {
    "内容": ["责令改正，并处罚款人民币{n}元", "准予许可，许可有效期五年", "依法予以登记", "核准变更登记事项"],
    "事实": ["经查，当事人未按规定取得许可擅自从事经营活动", "当事人销售不符合食品安全标准的食品", "当事人未按规定报送年度报告"],
    "依据": ["《中华人民共和国行政处罚法》第二十八条", "《中华人民共和国食品安全法》第一百二十四条", "《辽宁省社会信用条例》第三十条"],
    "违法行为": ["未取得许可从事经营活动", "虚假宣传", "违反安全生产规定", "超标排放污染物"],
    "义务": ["被执行人于判决生效后十日内支付工程款人民币{n}元", "被执行人返还借款本金及利息"],
    "惩戒": ["限制参与政府采购活动", "限制申请财政性资金项目", "取消评优评先资格"],
    "失信行为": ["未履行生效法律文书确定的义务", "拖欠企业账款", "违反招商引资承诺"],
}


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def company_name(rng: random.Random, city: str = "沈阳") -> str:
    return f"{city}{rng.choice(WORDS)}{rng.choice(TRADE)}有限公司"


def random_uscc(rng: random.Random, region: str, kind: str = "91") -> str:
    body = "".join(rng.choice(USCC_CHARSET[:10]) for _ in range(8))
    return make_uscc(kind + region + body + org_code_check_char(body))


def random_resident_id(rng: random.Random, region: str) -> str:
    birth = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 45 * 365))
    return make_resident_id(f"{region}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}")


# --- conditions on a record dict (mirror of contracts.condition_expr) --------------------------


def holds(c: Condition | None, rec: dict, item: Item, cat: Catalog) -> bool:
    if c is None:
        return False
    if c.all:
        return all(holds(s, rec, item, cat) for s in c.all)
    if c.none_given:
        return all(rec.get(f) in (None, "") for f in c.none_given)
    v = rec.get(c.field)
    if v in (None, ""):
        return False
    v = to_half_width(v).strip()
    if c.in_ is not None:
        return v in c.in_
    if c.not_in is not None:
        return v not in c.not_in
    seps = cat.code_lists[item.field(c.field).code_list].separators if item.field(c.field).code_list else []
    for s in seps[1:]:
        v = v.replace(to_half_width(s), to_half_width(seps[0]))
    values = {p.strip() for p in v.split(to_half_width(seps[0]))} if seps else {v}
    return bool(values & set(c.contains_any or []))


# --- clean records -----------------------------------------------------------------------------


@dataclass
class Context:
    unit_name: str
    unit_uscc: str
    region: str
    received_on: date
    seq_prefix: str = "A"


class RecordFactory:
    """Makes clean records of one catalog item; every value passes the item's contract."""

    def __init__(self, item: Item, cat: Catalog, rng: random.Random):
        self.item, self.cat, self.rng = item, cat, rng
        self.seq = 0
        # fields other rules look at: blanking or changing them would cause more than one failure
        self.referenced: set[str] = set(item.natural_key)
        for f in item.fields:
            for cond in (f.required_when, f.must_be_empty_when, f.identifier_when, f.positive_when):
                if cond:
                    self.referenced |= cond.fields()
            if f.not_before:
                self.referenced.add(f.not_before)
        if item.deadline:
            self.referenced.add(item.deadline.from_)

    def record(self, ctx: Context) -> dict[str, str | None]:
        rng, item = self.rng, self.item
        self.seq += 1
        rec: dict[str, str | None] = {}
        category = rng.choices(["法人及非法人组织", "个体工商户", "自然人"], [70, 15, 15])[0]
        cat_field = item.by_role("subject_category")
        if cat_field is None:
            category = "法人及非法人组织"
        decision = self._decision_date(ctx)
        for f in item.fields:
            rec[f.code] = self._value(f, rec, ctx, category, decision)
        for f in item.fields:  # conditional requirements and prohibitions, now that all values exist
            if holds(f.must_be_empty_when, rec, item, self.cat):
                rec[f.code] = None
            elif (f.required_when and holds(f.required_when, rec, item, self.cat)
                  and rec[f.code] in (None, "")):
                rec[f.code] = self._value(f, rec, ctx, category, decision, force=True)
        return rec

    def _decision_date(self, ctx: Context) -> date:
        d = ctx.received_on - timedelta(days=self.rng.randrange(0, 9))
        while not is_workday(d):
            d -= timedelta(days=1)
        return d

    def _value(self, f: FieldSpec, rec: dict, ctx: Context, category: str, decision: date,
               force: bool = False) -> str | None:
        rng = self.rng
        person = category == "自然人"
        role = f.role
        if role == "subject_category":
            return category
        if role == "subject_name":
            if person:
                return person_name(rng)
            if category == "个体工商户":
                return f"{ctx.unit_name[:2]}市{person_name(rng)}{rng.choice(['小吃店', '便利店', '五金店', '维修部'])}"
            if self.item.code in ("gov_dishonest_debtor_case", "serious_gov_dishonesty"):
                return f"{rng.choice(['某某镇人民政府', '某某街道办事处', '某某村民委员会', '某某县教育局'])}"
            return company_name(rng)
        if role == "subject_uscc" or (force and f.identifier == "uscc"):
            if self.item.code in ("gov_dishonest_debtor_case", "serious_gov_dishonesty", "serious_judicial_dishonesty"):
                return random_uscc(rng, ctx.region, "11")
            return random_uscc(rng, ctx.region, "92" if category == "个体工商户" else "91")
        if role == "legal_rep":
            return person_name(rng)
        if role == "person_id_type":
            return "身份证" if person else None
        if role == "person_id":
            return random_resident_id(rng, ctx.region) if person else None
        if role == "document_no":
            self_code = {"administrative_penalty": "罚", "administrative_license": "许"}.get(self.item.code, "决")
            if f.pattern:
                return f"（{decision.year}）辽{rng.randrange(1, 14):02d}{rng.randrange(1, 99):02d}执{ctx.seq_prefix}{self.seq}号"
            return f"{ctx.unit_name[:2]}{self_code}〔{decision.year}〕{ctx.seq_prefix}{self.seq:07d}号"
        if role == "decision_date":
            return decision.isoformat()
        if role in ("authority_name", "source_unit_name"):
            return ctx.unit_name
        if role in ("authority_uscc", "source_unit_uscc"):
            return ctx.unit_uscc
        if role == "region_code":
            return rng.choice(DISTRICTS.get(ctx.region, [ctx.region]))
        if role == "billing_period":
            prev = ctx.received_on.replace(day=1) - timedelta(days=1)
            return f"{prev:%Y-%m}"
        if role == "account_id":
            return f"{rng.randrange(10**9, 10**10)}"
        if role == "property_id":
            return f"FC{ctx.region}{rng.randrange(10**7, 10**8)}"
        if role == "case_status":
            return rng.choices(["未履行", "部分履行", "已履行", "已和解", "已删除"], [50, 10, 20, 10, 10])[0]
        if role in ("current_owner_name", "current_owner_uscc"):
            return None
        if not (f.required or force):
            return None
        if f.type == "date":
            return self._date(f, rec, decision, ctx).isoformat()
        if f.type == "decimal":
            return f"{rng.uniform(0.01, 50):.4f}"
        if f.type == "identifier":
            return random_resident_id(rng, ctx.region) if f.identifier == "resident_id" else \
                random_uscc(rng, ctx.region)
        if f.type in ("code", "multicode"):
            values = self.cat.code_lists[f.code_list].values
            if f.type == "multicode":
                picked = rng.sample(values[:13], rng.choice((1, 1, 2)))
                return "；".join(picked)
            return rng.choice(values)
        if f.pattern:
            return f"第{rng.randrange(1, 12)}批" if "批" in (f.pattern or "") else None
        for key, pool in TEXT.items():
            if key in f.name:
                return rng.choice(pool).format(n=rng.randrange(1000, 200000))[: f.max_length or None]
        return f"{f.name}：{rng.choice(WORDS)}{self.seq}"[: f.max_length or None]

    def _date(self, f: FieldSpec, rec: dict, decision: date, ctx: Context) -> date:
        base = date.fromisoformat(rec[f.not_before]) if f.not_before and rec.get(f.not_before) else None
        if f.not_after_received:
            # without a lower bound the date precedes the decision (filing before listing, etc.)
            lo = base or decision - timedelta(days=400)
            hi = ctx.received_on if base else decision
            span = max((hi - lo).days, 0)
            return lo + timedelta(days=self.rng.randrange(0, span + 1))
        start = base or decision
        return start + timedelta(days=self.rng.randrange(30, 1500))


# --- defects -----------------------------------------------------------------------------------


@dataclass
class Planted:
    row: int
    field: str
    reason: str


class DefectPlanter:
    """Turns a clean record into one with exactly one contract failure of the chosen reason."""

    def __init__(self, factory: RecordFactory):
        self.f = factory
        self.item, self.cat, self.rng = factory.item, factory.cat, factory.rng
        self.dependents: dict[str, list[FieldSpec]] = {}
        for fs in self.item.fields:
            if fs.not_before:
                self.dependents.setdefault(fs.not_before, []).append(fs)

    def applicable_reasons(self) -> list[str]:
        return [r for r in RECORD_REASONS if r == "duplicate_in_batch" or self._candidates(r, None)]

    def _free(self, fs: FieldSpec) -> bool:
        return fs.code not in self.f.referenced

    def _candidates(self, reason: str, rec: dict | None) -> list[FieldSpec]:
        it, given = self.item, (lambda fs: rec is None or rec.get(fs.code) not in (None, ""))
        out = []
        for fs in it.fields:
            if reason == "required_missing" and fs.required and self._free(fs) and given(fs):
                out.append(fs)
            elif reason == "must_be_empty" and fs.must_be_empty_when and self._free(fs) and fs.type == "string" \
                    and (rec is None or holds(fs.must_be_empty_when, rec, it, self.cat)):
                out.append(fs)
            elif reason == "too_long" and fs.type == "string" and fs.max_length and self._free(fs) \
                    and fs.max_length <= 600 and not fs.pattern and given(fs):
                out.append(fs)
            elif reason in ("invalid_format", "invalid_checksum") and fs.type == "identifier" \
                    and fs.identifier == "uscc" and given(fs) and not fs.identifier_when:
                out.append(fs)
            elif reason == "invalid_date" and fs.type == "date" and self._free(fs) and given(fs):
                out.append(fs)
            elif reason == "future_date" and fs.not_after_received and given(fs) and all(
                    not d.not_after_received for d in self.dependents.get(fs.code, [])) \
                    and not (fs.not_before and rec is None and False):
                out.append(fs)
            elif reason == "date_order" and fs.not_before and given(fs) and \
                    (rec is None or rec.get(fs.not_before) not in (None, "")):
                out.append(fs)
            elif reason == "not_in_code_list" and given(fs) and (
                    fs.type == "multicode" or (fs.type == "code" and self._free(fs))):
                out.append(fs)
            elif reason == "invalid_number" and fs.type == "decimal" and given(fs):
                out.append(fs)
        return out

    def plant(self, rec: dict, reason: str, received_on: date) -> str | None:
        """Apply the defect; returns the field code, or None if this record offers no place for it."""
        cands = self._candidates(reason, rec)
        if not cands:
            return None
        fs = self.rng.choice(cands)
        v = rec.get(fs.code)
        if reason == "required_missing":
            rec[fs.code] = None
        elif reason == "must_be_empty":
            rec[fs.code] = person_name(self.rng)[: fs.max_length]
        elif reason == "too_long":
            rec[fs.code] = "长" * (fs.max_length + 1)
        elif reason == "invalid_format":
            rec[fs.code] = v[:17]
        elif reason == "invalid_checksum":
            wrong = [c for c in USCC_CHARSET if c != v[17]]
            rec[fs.code] = v[:17] + self.rng.choice(wrong)
        elif reason == "invalid_date":
            rec[fs.code] = f"{received_on.year}-02-30"
        elif reason == "future_date":
            new = received_on + timedelta(days=self.rng.randrange(1, 60))
            rec[fs.code] = new.isoformat()
            for dep in self.dependents.get(fs.code, []):
                if rec.get(dep.code) and date.fromisoformat(rec[dep.code]) < new:
                    rec[dep.code] = (new + timedelta(days=30)).isoformat()
        elif reason == "date_order":
            other = date.fromisoformat(rec[fs.not_before])
            rec[fs.code] = (other - timedelta(days=self.rng.randrange(1, 30))).isoformat()
        elif reason == "not_in_code_list":
            rec[fs.code] = (v + "；罚金") if fs.type == "multicode" else "其它类别"
        elif reason == "invalid_number":
            rec[fs.code] = self.rng.choice(["十二万", "-1", "1.2.3"])
        return fs.code


# --- files -------------------------------------------------------------------------------------


@dataclass
class GenSpec:
    item: str
    rows: int
    seed: int = 1
    defect_rate: float = 0.05
    rates: dict[str, float] | None = None  # per reason; overrides defect_rate
    received_on: date = field(default_factory=date.today)
    unit_name: str = "沈阳市市场监督管理局"
    unit_uscc: str = "11210100001755309J"  # a valid synthetic 机关 code
    region: str = "210100"
    seq_prefix: str = "A"


def _reason_table(spec: GenSpec, applicable: list[str]) -> list[tuple[float, str]]:
    rates = spec.rates or {r: spec.defect_rate / len(applicable) for r in applicable}
    table, acc = [], 0.0
    for r, p in rates.items():
        if r in applicable and p > 0:
            acc += p
            table.append((acc, r))
    return table


def generate_rows(spec: GenSpec, cat: Catalog | None = None) -> Iterator[tuple[dict, Planted | None]]:
    """Stream (record, planted defect or None); row numbers start at 1."""
    cat = cat or catalog()
    item = cat.item(spec.item)
    rng = random.Random(spec.seed)
    factory = RecordFactory(item, cat, rng)
    planter = DefectPlanter(factory)
    table = _reason_table(spec, planter.applicable_reasons())
    ctx = Context(spec.unit_name, spec.unit_uscc, spec.region, spec.received_on, spec.seq_prefix)
    clean: list[dict] = []
    for row in range(1, spec.rows + 1):
        u = rng.random()
        reason = next((r for edge, r in table if u < edge), None)
        if reason == "duplicate_in_batch" and clean:
            yield dict(rng.choice(clean)), Planted(row, "*", reason)
            continue
        rec = factory.record(ctx)
        planted = None
        if reason and reason != "duplicate_in_batch":
            fld = planter.plant(rec, reason, spec.received_on)
            planted = Planted(row, fld, reason) if fld else None
        if planted is None:
            if len(clean) < 256:
                clean.append(rec)
            elif rng.random() < 0.01:
                clean[rng.randrange(256)] = rec
        yield rec, planted


def write_csv(spec: GenSpec, out: Path, truth: Path | None = None, encoding: str = "utf-8",
              headers: str = "name", cat: Catalog | None = None) -> int:
    cat = cat or catalog()
    item = cat.item(spec.item)
    n = 0
    with open(out, "w", encoding=encoding, newline="") as fh, \
            (open(truth, "w", encoding="utf-8", newline="") if truth else _Null()) as th:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([f.name if headers == "name" else f.code for f in item.fields])
        tw = csv.writer(th, lineterminator="\n")
        tw.writerow(["row", "field", "reason"])
        for rec, planted in generate_rows(spec, cat):
            w.writerow([rec.get(c) or "" for c in item.codes])
            if planted:
                tw.writerow([planted.row, planted.field, planted.reason])
            n += 1
    return n


def write_xlsx(spec: GenSpec, out: Path, truth: Path | None = None, cat: Catalog | None = None) -> int:
    import openpyxl

    cat = cat or catalog()
    item = cat.item(spec.item)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(item.name_zh[:31])
    ws.append([f.name for f in item.fields])
    planted_rows = []
    n = 0
    for rec, planted in generate_rows(spec, cat):
        cells = []
        for f in item.fields:
            v = rec.get(f.code)
            if f.type == "date" and v and planted is None:
                cells.append(date.fromisoformat(v))  # a real Excel date cell
            else:
                cells.append(v)
        ws.append(cells)
        if planted:
            planted_rows.append(planted)
        n += 1
    wb.save(out)
    if truth:
        with open(truth, "w", encoding="utf-8", newline="") as th:
            tw = csv.writer(th, lineterminator="\n")
            tw.writerow(["row", "field", "reason"])
            for p in planted_rows:
                tw.writerow([p.row, p.field, p.reason])
    return n


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def write(self, *_):
        return 0


def unit_context(unit: Unit, received_on: date, seq_prefix: str = "A") -> Context:
    return Context(unit.name_zh, unit.uscc, unit.region, received_on, seq_prefix)


def late_decision_date(received_on: date, working_days: int, rng: random.Random) -> date:
    """A decision date beyond the deadline: more than `working_days` working days before receipt."""
    d = received_on - timedelta(days=1)
    while not is_workday(d) or add_working_days(d, working_days) >= received_on:
        d -= timedelta(days=1)
    return d - timedelta(days=rng.randrange(0, 5) * 7)
