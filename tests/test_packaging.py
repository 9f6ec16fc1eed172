"""The installed wheel works away from the checkout, as in the production image: it finds contracts/ and
dbt_project/ from settings (CP_CONTRACTS_DIR, CP_DBT_PROJECT_DIR), parses the DAGs and checks the contracts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from credit_platform.settings import REPO_ROOT

ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def _uv() -> str:
    return shutil.which("uv") or str(REPO_ROOT / ".tools" / "bin" / "uv")


def test_the_wheel_installed_outside_the_checkout_parses_the_dags_and_checks_the_contracts(tmp_path):
    dist, venv, image = tmp_path / "dist", tmp_path / "venv", tmp_path / "opt-airflow"
    subprocess.run([_uv(), "build", "--wheel", "--out-dir", str(dist), str(REPO_ROOT)], check=True,
                   capture_output=True)
    [wheel] = dist.glob("credit_platform-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "credit_platform/ingest/pipeline.py" in names
    assert not [n for n in names if n.startswith("credit_platform/dev/")], "local stand-ins leaked into the wheel"
    # a fresh venv: the package from the wheel only; its locked dependencies seen from the project's environment
    # (a path line in a .pth adds that site-packages without running its .pth files: no editable checkout)
    subprocess.run([_uv(), "venv", "--python", sys.executable, str(venv)], check=True, capture_output=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig;"
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "_locked_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([_uv(), "pip", "install", "--python", str(venv / "bin" / "python"), "--no-deps", str(wheel)],
                   check=True, capture_output=True)
    # the image layout: the project's folders beside each other, no plugins/ copy of the package
    for folder in ("dags", "contracts", "dbt_project"):
        shutil.copytree(REPO_ROOT / folder, image / folder, ignore=shutil.ignore_patterns("target", "logs"))
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ} | {
        "CP_CONTRACTS_DIR": str(image / "contracts"), "CP_DBT_PROJECT_DIR": str(image / "dbt_project"),
        "CP_HOME": str(tmp_path / "home"), "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(image / "dags"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(tmp_path / "plugins"),
    }
    parse = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import credit_platform, json, os\n"
         "from airflow.dag_processing.dagbag import DagBag\n"
         "bag = DagBag(dag_folder=os.environ['AIRFLOW__CORE__DAGS_FOLDER'])\n"
         "print(json.dumps({'package': credit_platform.__file__, 'dags': len(bag.dags),"
         " 'errors': bag.import_errors}, default=str))"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert parse.returncode == 0, parse.stderr[-3000:]
    out = json.loads(parse.stdout.strip().splitlines()[-1])
    assert Path(out["package"]).is_relative_to(venv), "the package came from the checkout, not the wheel"
    assert out["errors"] == {} and out["dags"] > 90
    check = subprocess.run([str(venv / "bin" / "credit-platform"), "contracts", "check"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr[-3000:]
    assert "catalog: 16 items" in check.stdout
    # without the settings the installed package names what to set instead of loading nothing
    env.pop("CP_CONTRACTS_DIR")
    lost = subprocess.run([str(venv / "bin" / "credit-platform"), "contracts", "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert lost.returncode == 1 and "CP_CONTRACTS_DIR" in lost.stderr


def test_the_image_carries_one_copy_of_the_package():
    dockerfile = (REPO_ROOT / "infra" / "Dockerfile").read_text()
    final = dockerfile.rsplit("\nFROM ", 1)[-1]  # the stage that becomes the image
    assert ".whl" in final and "plugins" not in final.replace("PLUGINS_FOLDER", "")
    assert "CP_CONTRACTS_DIR" in dockerfile and "CP_DBT_PROJECT_DIR" in dockerfile


def test_airflow_does_not_load_the_package_files_as_plugins():
    from airflow._shared.module_loading import find_path_from_directory

    assert list(find_path_from_directory(str(REPO_ROOT / "plugins"), ".airflowignore", "glob")) == []
