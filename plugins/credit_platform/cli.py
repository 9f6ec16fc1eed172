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
from credit_platform.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Public credit data platform (公共信用信息平台).")
services_app = typer.Typer(no_args_is_help=True, help="Local PostgreSQL and S3 servers (127.0.0.1 only).")
airflow_app = typer.Typer(no_args_is_help=True, help="The local Airflow (metadata in the embedded PostgreSQL).")
sources_app = typer.Typer(no_args_is_help=True, help="Stand-ins for the source units' own systems (local only).")
app.add_typer(services_app, name="services")
app.add_typer(airflow_app, name="airflow")
app.add_typer(sources_app, name="sources")


def _print_status(rows: list) -> None:
    for st in rows:
        state = "running" if st.running else "stopped"
        typer.echo(f"{st.name:<22} {state:<8} pid={st.pid or '-':<8} {st.address:<22} {st.detail}")


@services_app.command("up")
def services_up() -> None:
    """Start PostgreSQL and S3 (reuses healthy running ones)."""
    from credit_platform.dev import services
    try:
        _print_status(services.up(Settings.from_env()))
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@services_app.command("down")
def services_down() -> None:
    """Stop the services this project started (by pid)."""
    from credit_platform.dev import services
    try:
        stopped = services.down(Settings.from_env())
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status() -> None:
    from credit_platform.dev import services
    _print_status(services.status(Settings.from_env()))


@app.command("up")
def platform_up() -> None:
    """The whole local platform as services: PostgreSQL, S3, the source stand-ins and Airflow."""
    from credit_platform.dev import airflow_env, services
    s = Settings.from_env()
    try:
        rows = services.platform_up(s)
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    _print_status(rows)
    typer.echo(f"Airflow UI: http://127.0.0.1:{airflow_env.api_port()}/  (stop everything: make down)")


@app.command("down")
def platform_down() -> None:
    """Stop every process `up` (or the demo, or the tests) started under CP_HOME, by pid."""
    from credit_platform.dev import services
    try:
        stopped = services.down(Settings.from_env())
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command("status")
def platform_status() -> None:
    """What runs where (and Airflow's own health view when its API server is up)."""
    from credit_platform.dev import services
    s = Settings.from_env()
    rows = services.platform_status(s)
    _print_status(rows)
    if any(st.name == "airflow-api-server" and st.running for st in rows):
        try:
            health = services.airflow_health(s)
        except OSError as err:
            typer.echo(f"airflow health: not answering ({err})")
            return
        typer.echo("airflow health: " + ", ".join(f"{k}={v.get('status')}" for k, v in health.items()))


@sources_app.command("serve")
def sources_serve() -> None:
    """Serve the units' API stand-in on CP_SOURCE_API_BASE in the foreground (`make up` runs it)."""
    from credit_platform.dev import simulated_sources

    s = Settings.from_env()
    typer.echo(f"source API stand-in on {s.source_api_base}")
    simulated_sources.api_server(s).serve_forever()  # SIGTERM (make down) ends the process


def _airflow(args: list[str], s: Settings) -> int:
    from credit_platform.dev import airflow_env
    env = {**os.environ, **airflow_env.airflow_environ(s)}
    return subprocess.call([airflow_env.airflow_bin(), *args], env=env)


@airflow_app.command("init")
def airflow_init() -> None:
    """Migrate the metadata DB (once per Airflow version)."""
    from credit_platform.dev import airflow_env
    airflow_env.migrate(Settings.from_env())
    typer.echo(f"AIRFLOW_HOME={Settings.from_env().airflow_home}")


@airflow_app.command("test")
def airflow_test(dag_id: str, logical_date: str = typer.Argument(None, help="ISO date-time; default now")) -> None:
    """Run one DAG now, in this process (`dag.test()`), against the local services: the platform's log lines
    (INFO), then one line per task."""
    import logging

    from credit_platform.dev import airflow_env, services

    s = Settings.from_env()
    services.up(s)
    airflow_env.migrate(s)
    airflow_env.apply(s)  # Airflow's own logging at WARNING; the platform's lines below at INFO
    from airflow.dag_processing.dagbag import DagBag

    from credit_platform.dev.dag_runner import run_dag
    from credit_platform.settings import REPO_ROOT

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags"))
    if dag_id not in bag.dags:
        typer.echo(f"error: no DAG {dag_id!r} in dags/ (e.g. {', '.join(sorted(bag.dags)[:3])}, …)", err=True)
        raise typer.Exit(64)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    platform_log = logging.getLogger("credit_platform")
    platform_log.addHandler(handler)
    platform_log.setLevel(logging.INFO)
    platform_log.propagate = False  # Airflow's root handler filters at WARNING
    when = None
    if logical_date:
        import pendulum

        when = pendulum.parse(logical_date, tz="Asia/Shanghai")
    run_dag(bag.dags[dag_id], when)
    run = airflow_env.last_run(s, dag_id)
    if run is None:
        typer.echo(f"{dag_id}: no run was recorded", err=True)
        raise typer.Exit(1)
    typer.echo(f"== {dag_id} run {run.run_id}: {run.state}")
    for ti in run.tasks:
        label = f"{ti.task_id}[{ti.label}]" if ti.label else ti.task_id
        typer.echo(f"  {label:<72} {ti.state or 'none':<16} {ti.seconds:>7.1f}s")
    raise typer.Exit(0 if run.state == "success" else 1)


@airflow_app.command("backfill")
def airflow_backfill(
    dag_id: str,
    from_date: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD (Asia/Shanghai)"),
    to_date: str = typer.Option(..., "--to", help="last day, YYYY-MM-DD"),
) -> None:
    """Create the runs a DAG missed between two days (catchup is off); the running scheduler (`make up`)
    executes them, oldest first."""
    s = Settings.from_env()
    raise typer.Exit(_airflow(["backfill", "create", "--dag-id", dag_id, "--from-date", from_date,
                               "--to-date", to_date], s))


@airflow_app.command("env")
def airflow_print_env() -> None:
    """Print `export` lines for the local Airflow (eval "$(credit-platform airflow env)")."""
    import shlex

    from credit_platform.dev import airflow_env

    for key, value in airflow_env.airflow_environ(Settings.from_env()).items():
        typer.echo(f"export {key}={shlex.quote(value)}")


inbox_app = typer.Typer(no_args_is_help=True, help="The S3 inbox units upload their batch files to.")
app.add_typer(inbox_app, name="inbox")


@inbox_app.command("drop")
def inbox_drop(
    unit: str = typer.Argument(..., help="unit code, e.g. ln_hurd"),
    file: Path = typer.Argument(..., help="CSV, XLSX or JSONL batch file", exists=True, dir_okay=False),
    item: str = typer.Option(..., "--item", help="catalog item code the file holds"),
) -> None:
    """Put a file into a unit's inbox as its clerk's upload would (s3://inbox/<unit>/<item>/<file>); the unit's
    ingest DAG picks it up on its next run."""
    from credit_platform.catalog.items import CatalogError
    from credit_platform.catalog.registry import registry
    from credit_platform.dev import services
    from credit_platform.dev.simulated_sources import drop_in_inbox

    try:
        u = registry().unit(unit)
    except (CatalogError, KeyError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(64) from None
    items = [ob.item for ob in u.items]
    if item not in items:
        typer.echo(f"error: {unit} does not report {item!r}; it reports: {', '.join(items)}", err=True)
        raise typer.Exit(64)
    if "batch_file" not in {c.channel for c in u.channels}:
        typer.echo(f"error: {unit} has no batch_file channel (it sends by "
                   f"{', '.join(c.channel for c in u.channels)}), so nothing reads its inbox", err=True)
        raise typer.Exit(64)
    s = Settings.from_env()
    services.up(s)
    key = drop_in_inbox(s, unit, item, file.name, file.read_bytes())
    typer.echo(f"s3://{s.bucket('inbox')}/{key}  (run it now: credit-platform airflow test ingest__{unit})")


@app.command()
def uscc(
    code: str = typer.Argument(..., help="18 characters to check, or the first 17 to complete"),
) -> None:
    """Check a unified social credit code (统一社会信用代码, GB 32100-2015), or compute its check character from
    the first 17 characters."""
    from credit_platform.standards.identifiers import USCC_CHARSET, USCC_RE, make_uscc, uscc_check_char, uscc_status

    shape = f"18 characters: 2 registration + 6 region digits + 10 of {USCC_CHARSET}, the last one the check"
    code = code.strip().upper()
    if len(code) == 17:
        if not USCC_RE.match(code + "0"):
            typer.echo(f"error: {code} cannot start a USCC ({shape})", err=True)
            raise typer.Exit(2)
        typer.echo(make_uscc(code))
        return
    status = uscc_status(code)
    if status == "ok":
        typer.echo(f"{code}: ok")
        return
    if status == "invalid_checksum":
        typer.echo(f"{code}: wrong check character {code[17]!r}, expected {uscc_check_char(code[:17])!r}")
    else:
        typer.echo(f"{code}: not a USCC ({shape})")
    raise typer.Exit(2)


@app.command()
def demo() -> None:
    """Bring the services up, run the platform's DAGs and show what they produced."""
    from credit_platform.dev import demo as demo_mod
    from credit_platform.dev import services

    try:
        sys.exit(demo_mod.run(Settings.from_env()))
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@app.command()
def remind(
    dry_run: bool = typer.Option(False, "--dry-run", help="show what would be sent, to whom and why; send nothing"),
    on: str = typer.Option(None, "--on", help="evaluate as of this day (YYYY-MM-DD, Beijing); default today"),
    as_json: bool = typer.Option(False, "--json", help="a JSON array, one object per message"),
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
def bench(ctx: typer.Context, name: str = typer.Argument(..., help="ingest, contracts or warehouse")) -> None:
    """Run a benchmark from bench/ (figures for the docs, not a test); other options go to the script,
    e.g. `credit-platform bench ingest --rows 1000000 --repeat 3`."""
    from credit_platform.dev import services
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
    if not file.is_file():  # a mistyped path is the engineer's error, not a unit's unreadable batch
        typer.echo(f"error: {file} is not a file", err=True)
        raise typer.Exit(64)
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
    from credit_platform.gates.reasons import RECORD_REASONS

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
    """Produce a report as of a past month (XLSX + HTML, write-once in s3://reports/…, a copy under
    CP_HOME/reports-out/) and say where it is."""
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
    if not publish.period_ended(period):
        typer.echo(f"error: {publish.not_ended_message(period)}", err=True)
        raise typer.Exit(64)
    if office and office not in registry().offices:
        typer.echo(f"error: unknown office {office!r}; offices: {', '.join(registry().offices)}", err=True)
        raise typer.Exit(64)
    offices = [office] if office else list(registry().offices)
    try:
        if build:
            schedule.build_report_models(s)
        for code in offices:
            pub = publish.publish(s, name, code, period)
            line = {"report": pub.report, "office": pub.office, "period": pub.period, "status": pub.status,
                    "files": [f"s3://{s.bucket('reports')}/{k}" for k in pub.keys],
                    "local": [str(p) for p in publish.local_copies(s, pub)], "figures": pub.figures}
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

    from credit_platform.catalog.registry import registry

    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?", period):
        typer.echo(f"error: --period {period!r} is not YYYY-MM, YYYY-Qn or YYYY", err=True)
        raise typer.Exit(64)
    period_type = "month" if len(period) == 7 and "Q" not in period else "quarter" if "Q" in period else "year"
    reg = registry()
    if unit and unit not in reg.units and unit not in reg.regions:
        typer.echo(f"error: unknown unit or city {unit!r} (a source unit code from contracts/registry, or a city's"
                   " region code such as 211400)", err=True)
        raise typer.Exit(64)
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
    from credit_platform.settings import SettingsError
    from credit_platform.warehouse import dbt_codegen

    try:
        cat = load_catalog()
        reg = load_registry(cat=cat)
        years = load_arrangements()
        load_rules()
        ind = load_indicators()
        stale = dbt_codegen.stale_files(cat) + dbt_seeds.stale_files()
    except (CatalogError, SettingsError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    from credit_platform.notify.targets import masked, url_problem

    contacts = [(f"office {o.code}", c) for o in reg.offices.values() for c in o.contacts]
    contacts += [(f"unit {u.code}", c) for u in reg.units.values() for c in u.contacts]
    bad = [f"{who} contact {c.name_zh} ({c.role}): {masked(c.url)} — {problem}"
           for who, c in contacts if (problem := url_problem(c.url))]
    bad += [f"CP_NOTIFY_URLS: {masked(u)} — {problem}" for u in Settings.from_env().notify_urls
            if (problem := url_problem(u))]
    if bad:
        typer.echo("error: notice URLs apprise cannot use (docs/contracts.md, adding a source unit):\n  "
                   + "\n  ".join(bad), err=True)
        raise typer.Exit(1)
    typer.echo(f"catalog: {len(cat.items)} items; registry: {len(reg.units)} units, {len(reg.offices)} offices; "
               f"indicators: {len(ind.indicators)} (correction window {ind.correction_window_working_days}"
               " working days); "
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
