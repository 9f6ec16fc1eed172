"""The dbt project's version decides whether the next warehouse build must be a full refresh: a change of what
a row holds changes it, a description does not."""

from __future__ import annotations

import shutil

from credit_platform.settings import dbt_project_dir
from credit_platform.warehouse.dbt_build import project_version


def test_descriptions_do_not_force_a_full_refresh_models_and_tests_do(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(dbt_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    base = project_version(project)
    assert base == project_version(dbt_project_dir())

    yml = project / "models" / "intermediate" / "_intermediate.yml"
    text = yml.read_text(encoding="utf-8")
    described = "description: Every landed copy of every item"
    assert described in text
    yml.write_text(text.replace(described, "description: 每条入库记录（改写的说明）"), encoding="utf-8")
    assert project_version(project) == base

    tested = "- {name: natural_key_hash, data_tests: [not_null]}"
    assert tested in text
    yml.write_text(text.replace(tested, "- {name: natural_key_hash, data_tests: [not_null, unique]}", 1),
                   encoding="utf-8")
    assert project_version(project) != base

    yml.write_text(text, encoding="utf-8")
    assert project_version(project) == base
    sql = project / "models" / "intermediate" / "int_record_copies.sql"
    sql.write_text(sql.read_text(encoding="utf-8").replace("record_hash,", "record_hash, 1 as x,", 1),
                   encoding="utf-8")
    assert project_version(project) != base
