"""`credit-platform`: what platform engineers do by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import typer

from credit_platform import clock
from credit_platform.dev import airflow_env, services
from credit_platform.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Public credit data platform (公共信用信息平台).")
services_app = typer.Typer(no_args_is_help=True, help="Local PostgreSQL and S3 servers (127.0.0.1 only).")
airflow_app = typer.Typer(no_args_is_help=True, help="The local Airflow (SQLite metadata DB under CP_HOME).")
app.add_typer(services_app, name="services")
app.add_typer(airflow_app, name="airflow")


def _print_status(rows: list[services.ServiceStatus]) -> None:
    for st in rows:
        state = "running" if st.running else "stopped"
        typer.echo(f"{st.name:<9} {state:<8} pid={st.pid or '-':<8} {st.address:<22} {st.detail}")


@services_app.command("up")
def services_up() -> None:
    """Start PostgreSQL and S3 (reuses healthy running ones)."""
    try:
        _print_status(services.up(Settings.from_env()))
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@services_app.command("down")
def services_down() -> None:
    """Stop the services this project started (by pid)."""
    stopped = services.down(Settings.from_env())
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status() -> None:
    _print_status(services.status(Settings.from_env()))


def _airflow(args: list[str], s: Settings) -> int:
    env = {**os.environ, **airflow_env.airflow_environ(s)}
    return subprocess.call([airflow_env.airflow_bin(), *args], env=env)


@airflow_app.command("init")
def airflow_init() -> None:
    """Migrate the metadata DB (once per Airflow version)."""
    airflow_env.migrate(Settings.from_env())
    typer.echo(f"AIRFLOW_HOME={Settings.from_env().airflow_home}")


@airflow_app.command("test", context_settings={"allow_extra_args": True})
def airflow_test(dag_id: str, logical_date: str = typer.Argument(None)) -> None:
    """Run one DAG with `airflow dags test` against the local services."""
    s = Settings.from_env()
    services.up(s)
    airflow_env.migrate(s)
    raise typer.Exit(_airflow(["dags", "test", dag_id, *([logical_date] if logical_date else [])], s))


@airflow_app.command("env")
def airflow_print_env() -> None:
    """Print `export` lines for the local Airflow (eval "$(credit-platform airflow env)")."""
    import shlex

    for key, value in airflow_env.airflow_environ(Settings.from_env()).items():
        typer.echo(f"export {key}={shlex.quote(value)}")


@airflow_app.command("standalone")
def airflow_standalone() -> None:
    """Scheduler, DAG processor, triggerer and the UI on http://127.0.0.1:58080 (see README for binds)."""
    s = Settings.from_env()
    services.up(s)
    airflow_env.migrate(s)
    raise typer.Exit(_airflow(["standalone"], s))


@app.command()
def demo() -> None:
    """Bring the services up, run the platform's DAGs and show what they produced."""
    from credit_platform.dev import demo as demo_mod

    try:
        sys.exit(demo_mod.run(Settings.from_env()))
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@app.command()
def remind(
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would be sent, to whom and why; send nothing"),
    on: str = typer.Option(None, "--on", help="evaluate as of this day (YYYY-MM-DD, Beijing); default today"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per message"),
    unit: list[str] = typer.Option(None, "--unit", help="only these source units (repeat)"),
    refresh: bool = typer.Option(False, "--refresh", help="rebuild the obligations (dbt) first"),
) -> None:
    """Reminders to source units and escalations to their credit offices (contracts/reminder_rules.yaml)."""
    from datetime import datetime

    from credit_platform.catalog.items import CatalogError
    from credit_platform.reminders import engine, obligations
    from credit_platform.reminders.rules import LEVEL_ZH, RULE_ZH, load_rules

    s = Settings.from_env()
    try:
        rules = load_rules()
        day = date.fromisoformat(on) if on else clock.today()
    except (CatalogError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if on and not dry_run:
        typer.echo("error: --on is for --dry-run: messages are sent only for today", err=True)
        raise typer.Exit(1)
    if refresh or not obligations.built(s):
        obligations.refresh(s)
    now = datetime.combine(day, datetime.now(clock.BEIJING).time(), clock.BEIJING)
    result = engine.run(s, now=now, dry_run=dry_run, r=rules, units=set(unit) if unit else None)
    if as_json:
        typer.echo(json.dumps([m.as_json() for m in result.messages], ensure_ascii=False, indent=1))
    else:
        for m in result.messages:
            mark = " (sent)" if m.already_sent else ""
            typer.echo(f"{result.as_of} {LEVEL_ZH[m.level]:<2}{mark} {m.unit:<22} {RULE_ZH[m.rule]} {m.period}"
                       f" → {', '.join(m.to)}\n    {m.title}\n    why: {m.why}")
        typer.echo(f"{len(result.messages)} message(s) due on {result.as_of}; {result.reason}"
                   + (f"; sent {len(result.sent_now)}" if result.acting else ""))
    failed = [d for d in result.delivered if not d.sent]
    if failed:
        typer.echo(f"{len(failed)} not delivered (retried with backoff): {[d.key for d in failed]}", err=True)
        raise typer.Exit(2)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context, name: str = typer.Argument(..., help="ingest or contracts")) -> None:
    """Run a benchmark from bench/ (figures for the docs, not a test); other options go to the script,
    e.g. `credit-platform bench ingest --rows 1000000 --repeat 3`."""
    from credit_platform.settings import REPO_ROOT

    scripts = {p.stem.removeprefix("bench_"): p for p in sorted((REPO_ROOT / "bench").glob("bench_*.py"))}
    if name not in scripts:
        typer.echo(f"error: no benchmark {name!r}; there are: {', '.join(scripts)}", err=True)
        raise typer.Exit(64)
    if name == "ingest":
        services.up(Settings.from_env())
    raise typer.Exit(subprocess.call([sys.executable, str(scripts[name]), *ctx.args], cwd=REPO_ROOT))


@app.command()
def validate(
    file: Path = typer.Argument(..., help="CSV or XLSX batch file"),
    item: str = typer.Option(..., "--item", help="catalog item code, e.g. administrative_penalty"),
    received_on: str = typer.Option(None, "--received-on", help="YYYY-MM-DD; default today"),
) -> None:
    """Check one file against the catalog; prints ONE JSON object (exit 0 read, 2 batch error)."""
    from credit_platform.catalog.items import CatalogError
    from credit_platform.gates.validation import validate_file

    try:
        day = date.fromisoformat(received_on) if received_on else clock.today()
    except ValueError:
        typer.echo(f"error: --received-on {received_on!r} is not YYYY-MM-DD", err=True)
        raise typer.Exit(64) from None
    try:
        report = validate_file(file, item, day)
    except CatalogError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(64) from None
    typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    raise typer.Exit(2 if report.batch_error else 0)


@app.command()
def generate(
    item: str = typer.Option(..., "--item", help="catalog item code"),
    rows: int = typer.Option(1000, "--rows"),
    out: Path = typer.Option(..., "--out", help="CSV or XLSX file to write"),
    truth: Path = typer.Option(None, "--truth", help="ground truth of planted defects (CSV row,field,reason)"),
    seed: int = typer.Option(1, "--seed"),
    defect_rate: float = typer.Option(0.05, "--defect-rate", help="share of rows with one planted defect"),
    rate: list[str] = typer.Option(None, "--rate", help="per reason, e.g. --rate invalid_checksum=0.01 (repeat);"
                                   " overrides --defect-rate"),
    encoding: str = typer.Option("utf-8", "--encoding", help="utf-8 | utf-8-sig | gb18030 (CSV only)"),
    fmt: str = typer.Option("csv", "--format", help="csv | xlsx"),
    received_on: str = typer.Option(None, "--received-on", help="YYYY-MM-DD; default today"),
) -> None:
    """Write synthetic records of one item with planted defects and their ground truth."""
    from credit_platform.catalog.items import CatalogError
    from credit_platform.dev.generator import GenSpec, write_csv, write_xlsx
    from credit_platform.gates.record_contract import RECORD_REASONS

    day = date.fromisoformat(received_on) if received_on else clock.today()
    rates = None
    if rate:
        try:
            rates = {k: float(v) for k, v in (r.split("=", 1) for r in rate)}
        except ValueError:
            typer.echo("error: --rate takes reason=share, e.g. invalid_date=0.01", err=True)
            raise typer.Exit(64) from None
        unknown = sorted(set(rates) - set(RECORD_REASONS))
        if unknown:
            typer.echo(f"error: unknown reason codes {unknown}; known: {', '.join(RECORD_REASONS)}", err=True)
            raise typer.Exit(64)
    spec = GenSpec(item, rows, seed=seed, defect_rate=defect_rate, rates=rates, received_on=day)
    try:
        n = write_xlsx(spec, out, truth) if fmt == "xlsx" else write_csv(spec, out, truth, encoding=encoding)
    except CatalogError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(64) from None
    typer.echo(json.dumps({"item": item, "rows": n, "out": str(out), "truth": str(truth) if truth else None}))


@app.command()
def report(
    name: str = typer.Argument(..., help="gov_cases | serious_ledger | data_quality | city_assessment"),
    period: str = typer.Option(..., "--period", help="YYYY-MM"),
    office: str = typer.Option(None, "--office", help="office code; default every office"),
    build: bool = typer.Option(True, "--build/--no-build", help="rebuild the report models first (dbt)"),
    send: bool = typer.Option(False, "--send", help="also deliver (once per report, office and period)"),
) -> None:
    """Produce a report as of a past month (XLSX + HTML, write-once in s3://reports/…) and say where it is."""
    from credit_platform.catalog.items import CatalogError
    from credit_platform.catalog.registry import registry
    from credit_platform.reports import frames, gate, publish, schedule

    s = Settings.from_env()
    if name not in frames.REPORTS:
        typer.echo(f"error: unknown report {name!r}; reports: {', '.join(frames.REPORTS)}", err=True)
        raise typer.Exit(64)
    if not _is_period(period):
        typer.echo(f"error: --period {period!r} is not YYYY-MM", err=True)
        raise typer.Exit(64)
    offices = [office] if office else list(registry().offices)
    try:
        if build:
            schedule.build_report_models(s)
        for code in offices:
            pub = publish.publish(s, name, code, period)
            line = {"report": pub.report, "office": pub.office, "period": pub.period, "status": pub.status,
                    "files": [f"s3://{s.bucket('reports')}/{k}" for k in pub.keys], "figures": pub.figures}
            if send:
                line["delivery"] = publish.deliver(s, pub).status
            typer.echo(json.dumps(line, ensure_ascii=False, default=str))
    except (frames.ReportError, gate.GateError, CatalogError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


def _is_period(period: str) -> bool:
    import re

    return bool(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period))


@app.command()
def indicators(
    period: str = typer.Option(..., "--period", help="YYYY-MM, YYYY-Qn or YYYY"),
    unit: str = typer.Option(None, "--unit", help="a source unit or city code; default all"),
    as_json: bool = typer.Option(False, "--json", help="one JSON array"),
) -> None:
    """Every indicator of every unit and city: {unit, period, indicator, numerator, denominator, value}."""
    import re

    import psycopg

    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?", period):
        typer.echo(f"error: --period {period!r} is not YYYY-MM, YYYY-Qn or YYYY", err=True)
        raise typer.Exit(64)
    period_type = "month" if len(period) == 7 and "Q" not in period else "quarter" if "Q" in period else "year"
    s = Settings.from_env()
    with psycopg.connect(s.pg_dsn()) as conn:
        rows = conn.execute(
            "select subject_type, subject_code, subject_name, period, indicator, indicator_name, numerator,"
            " denominator, value, rank, prev_value, change from reports.rpt_indicators"
            " where period_type = %s and period = %s and (%s::text is null or subject_code = %s)"
            " order by subject_type desc, subject_code, sort_order", (period_type, period, unit, unit)).fetchall()
    out = [{"unit": r[1], "subject_type": r[0], "name_zh": r[2], "period": r[3], "indicator": r[4],
            "indicator_zh": r[5], "numerator": int(r[6]), "denominator": int(r[7]),
            "value": None if r[8] is None else float(r[8]), "rank": r[9],
            "change": None if r[11] is None else float(r[11])} for r in rows]
    if not out:
        typer.echo(f"error: no indicators for {unit or 'any unit'} in {period} (built? `credit-platform report …`"
                   " or the reports_monthly DAG builds them)", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    for o in out:
        v = "—" if o["value"] is None else f"{o['value']:.1%}"
        typer.echo(f"{o['unit']:<24} {o['period']:<8} {o['indicator_zh']:<6} {o['numerator']:>7}/{o['denominator']:<7}"
                   f" {v:>7}  {o['name_zh']}")


contracts_app = typer.Typer(no_args_is_help=True, help="The catalog and registry in contracts/.")
app.add_typer(contracts_app, name="contracts")


@contracts_app.command("check")
def contracts_check() -> None:
    """Load and cross-check contracts/ and verify generated files are current."""
    from credit_platform.catalog.indicators import load_indicators
    from credit_platform.catalog.items import CatalogError, load_catalog
    from credit_platform.catalog.registry import load_registry
    from credit_platform.catalog.workdays import load_arrangements
    from credit_platform.reminders.rules import load_rules
    from credit_platform.reports import dbt_seeds
    from credit_platform.warehouse import dbt_codegen

    try:
        cat = load_catalog()
        reg = load_registry(cat=cat)
        years = load_arrangements()
        ind = load_indicators()
        load_rules()
    except CatalogError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    stale = dbt_codegen.stale_files(cat) + dbt_seeds.stale_files()
    typer.echo(f"catalog: {len(cat.items)} items; registry: {len(reg.units)} units, {len(reg.offices)} offices; "
               f"indicators: {len(ind.indicators)} (correction window {ind.correction_window_working_days}"
               f" working days); "
               f"holiday arrangements in calendar.yaml: {', '.join(map(str, sorted(years))) or 'none'}")
    if stale:
        typer.echo("stale generated files (run `credit-platform contracts generate`): " + ", ".join(stale), err=True)
        raise typer.Exit(1)


@contracts_app.command("generate")
def contracts_generate() -> None:
    """Write the dbt sources and tests generated from the catalog."""
    from credit_platform.reports import dbt_seeds
    from credit_platform.warehouse import dbt_codegen

    for path in dbt_codegen.write_all() + dbt_seeds.write_all():
        typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
