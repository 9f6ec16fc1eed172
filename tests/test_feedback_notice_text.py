"""The feedback notice's wording (notify/templates/feedback/): exact text for each outcome of a batch."""

from __future__ import annotations

import re

from credit_platform.ingest import pipeline
from credit_platform.notify import render

BASE = {"unit_name": "辽宁省林业和草原局", "item_zh": "行政处罚信息", "source_name": "处罚.xlsx", "when": "2026-11-20 09:15",
        "channel_zh": "文件上传", "batch_error": None, "rows": 10, "accepted": 10, "rejected": 0, "duplicates": 0,
        "to_fix": 0, "warnings": [], "link": "", "until": "", "batch_id": "b-1", "corrected": 0}
HEAD = "贵单位于2026-11-20 09:15通过文件上传报送的行政处罚信息（处罚.xlsx）"


def _notice(**kw):
    return render.render("feedback/batch.notice.j2", **(BASE | kw))


def test_the_title_names_unit_item_and_file():
    assert _notice()[0] == "【问题数据反馈】辽宁省林业和草原局 行政处罚信息：处罚.xlsx"


def test_each_outcome_says_what_happened_and_what_to_do():
    assert _notice()[1] == f"{HEAD}共10条，已全部入库。\n批次号：b-1"
    assert _notice(corrected=2)[1] == (
        f"{HEAD}共10条，已全部入库。\n其中2条是此前问题数据的更正，已通过校验入库，对应问题已整改。\n批次号：b-1")
    assert _notice(rows=0, accepted=0)[1] == (
        f"{HEAD}只有表头，没有数据行，未入库任何记录。如确有数据，请重新导出后报送。\n批次号：b-1")
    assert _notice(batch_error="文件不是有效的Excel工作簿", rows=0, accepted=0)[1] == (
        f"{HEAD}未能读取，未入库任何记录。\n原因：文件不是有效的Excel工作簿\n请修正后重新报送整个文件。\n批次号：b-1")
    assert _notice(accepted=7, rejected=3, duplicates=1, to_fix=2)[1] == (
        f"{HEAD}共10条，已入库7条，未通过校验3条（其中1条为本批数据内的重复记录，已登记，无需处理）。\n"
        "请打开问题数据清单，在“待修改记录”工作表中按“问题说明”修改这2条记录，保留“记录编号”列，修改后将清单原样重新报送。\n"
        "批次号：b-1")
    assert _notice(accepted=9, rejected=1, duplicates=1, to_fix=0)[1] == (
        f"{HEAD}共10条，已入库9条，未通过校验1条（其中1条为本批数据内的重复记录，已登记，无需处理）。\n"
        "无需修改或重新报送。\n批次号：b-1")


def test_warnings_and_the_link_come_before_the_batch_number_and_the_link_can_be_renewed():
    body = _notice(warnings=["已忽略列“备注”", "已忽略列“附件”"], link="http://s3/x?sig=1", until="2026-11-27 09:15")[1]
    assert body.endswith("提示：已忽略列“备注”；已忽略列“附件”。\n问题数据清单：http://s3/x?sig=1\n"
                         "（下载链接有效期至2026-11-27 09:15（北京时间），过期后请联系信用办重新获取）\n批次号：b-1")
    # a notice sent again days later gets a new link in place (ingest.pipeline.renew_feedback_link)
    assert pipeline._LINK_LINES.search(body)
    renewed = pipeline._LINK_LINES.sub(lambda _: pipeline._link_lines("http://s3/y", "2026-12-01 08:00"), body)
    assert re.search(r"问题数据清单：http://s3/y\n（下载链接有效期至2026-12-01 08:00（北京时间）", renewed)
    assert renewed.endswith("批次号：b-1")
