"""`credit-platform`: what platform engineers do by hand."""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from credit_platform import airflow_env, services
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
    from credit_platform import demo as demo_mod

    try:
        sys.exit(demo_mod.run(Settings.from_env()))
    except services.ServiceError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
