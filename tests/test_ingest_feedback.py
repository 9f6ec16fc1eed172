"""What a unit gets back: a rejected batch's feedback, a corrected workbook closing its rejections, and feedback
not lost to a crash after the load."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl

from credit_platform import object_store
from credit_platform.catalog.workdays import previous_workday
from credit_platform.dev import simulated_sources as src
from credit_platform.dev.dag_runner import run_dag
from credit_platform.ingest import landing_load
from tests.ingest_support import TODAY, ledger, penalty_csv, q


def test_corrupt_file_is_a_ledgered_rejected_batch_with_feedback(env, dags):
    s = env
    src.drop_in_inbox(s, "ln_transport", "administrative_license", "broken.xlsx", b"PK\x03\x04garbage" * 10)
    assert run_dag(dags["ingest__ln_transport"]).state == "success"
    [(bid, _, rows, accepted, rejected, status, reason)] = ledger(s, "ln_transport")
    assert (rows, accepted, rejected, status, reason) == (0, 0, 0, "rejected", "unreadable_file")
    c = object_store.client(s)
    fb = list(c.list_objects(s.bucket("feedback"), prefix="ln_transport/", recursive=True))
    assert len(fb) == 1
    q_objs = [o.object_name for o in c.list_objects(s.bucket("quarantine"), prefix="administrative_license/ln_transport/",
                                                    recursive=True)]
    assert q_objs == [f"administrative_license/ln_transport/dt={TODAY}/{bid}.batch_error.json"]


def test_corrected_workbook_sent_back_closes_the_rejections(env, dags):
    s = env
    decided = previous_workday(TODAY - timedelta(days=1))
    header = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码"
    good = f"沈阳宏达物流有限公司,法人及非法人组织,91210100MA0PQR128P,王伟,辽卫罚〔2026〕1号,违规,事实,依据,警告,警告,{decided},2099-12-31,辽宁省卫生健康委员会,11230500001755309F,辽宁省卫生健康委员会,11230500001755309F"
    bad = good.replace("辽卫罚〔2026〕1号", "辽卫罚〔2026〕2号").replace("2099-12-31", "2026-02-30")
    src.drop_in_inbox(s, "ln_health", "administrative_penalty", "b.csv", f"{header}\n{good}\n{bad}\n".encode())
    assert run_dag(dags["ingest__ln_health"]).state == "success"
    [(first, *_)] = ledger(s, "ln_health")
    assert q(s, "select row_no, field_code, reason, corrected_by_batch from landing.rejections where batch_id = %s",
             first) == [(2, "CF_YXQ", "invalid_date", None)]

    # the clerk opens the feedback workbook, fixes the cell, and sends the workbook back as it is
    c = object_store.client(s)
    [fb] = [o.object_name for o in c.list_objects(s.bucket("feedback"), prefix="ln_health/", recursive=True)]
    wb = openpyxl.load_workbook(io.BytesIO(object_store.get(c, s.bucket("feedback"), fb)))
    ws = wb["待修改记录"]
    col = [cell.value for cell in ws[1]].index("处罚有效期") + 1
    assert ws.cell(row=2, column=col).value == "2026-02-30"
    ws.cell(row=2, column=col).value = "2099-12-31"
    buf = io.BytesIO()
    wb.save(buf)
    src.drop_in_inbox(s, "ln_health", "administrative_penalty", "问题数据清单-已修改.xlsx", buf.getvalue())
    assert run_dag(dags["ingest__ln_health"]).state == "success"
    batches = ledger(s, "ln_health")
    assert len(batches) == 2 and batches[1][5] == "loaded" and batches[1][2] == 1
    assert q(s, "select corrected_by_batch from landing.rejections where batch_id = %s", first) == [(batches[1][0],)]


def test_feedback_lost_to_a_crash_after_the_load_is_sent_on_the_retry(env, tmp_path):
    from credit_platform.ingest.pipeline import extract_and_land, ingest_batch
    from credit_platform.ingest.raw_zone import LandedBatch
    from credit_platform.ingest.staged_zone import gate_and_stage

    s = env
    src.drop_in_inbox(s, "ln_nr", "administrative_penalty", "crash.csv",
                      penalty_csv(tmp_path, rows=30, seed=98, defect_rate=0.4, unit_name="辽宁省自然资源厅"))
    [landed] = extract_and_land(s, "ln_nr", "batch_file")
    batch = LandedBatch(**landed["batch"])
    # the load task dies right after its transaction commits: no workbook, no notice yet
    assert landing_load.load(s, gate_and_stage(s, batch)) == "loaded"
    c = object_store.client(s)

    earlier = set(s.outbox_dir.glob("*.json"))  # the outbox outlives the test database

    def told() -> int:
        return sum(batch.batch_id in p.read_text(encoding="utf-8") for p in set(s.outbox_dir.glob("*.json")) - earlier)

    assert told() == 0 and q(s, "select feedback_sent_at from landing.batches where batch_id = %s",
                             batch.batch_id) == [(None,)]
    retry = ingest_batch(s, landed)
    assert retry["load"] == "already_loaded" and retry["rejected"] > 0
    assert object_store.exists(c, s.bucket("feedback"), retry["feedback_key"]) and told() == 1
    assert q(s, "select feedback_sent_at is not null from landing.batches where batch_id = %s",
             batch.batch_id) == [(True,)]
    assert ingest_batch(s, landed)["feedback_key"] == retry["feedback_key"] and told() == 1  # once
