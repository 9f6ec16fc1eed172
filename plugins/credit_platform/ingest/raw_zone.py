"""The raw zone: every extract lands once, immutable, with a manifest.

Key: `<item>/<unit>/dt=YYYY-MM-DD/<batch_id>.<ext>` in the `raw` bucket (so `raw/<item>/…` as a path).
`batch_id` derives from unit, item and content: the same bytes delivered twice are one batch, even on a
later day — `_index/<item>/<unit>/<batch_id>.json` (the manifest, written last) finds the first landing with
one lookup, however many batches the unit has sent. Keys are written once (checked before writing); the
raw zone keeps original bytes, personal data included, so only the ingestion service account and the
data-protection officer may read it (see infra/README.md).
"""

from __future__ import annotations

import codecs
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from credit_platform import object_store
from credit_platform.clock import BEIJING
from credit_platform.settings import Settings

TZ = BEIJING


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str
    unit: str
    item: str
    channel: str
    source_ref: str
    received_at: str  # ISO 8601 with offset
    sha256: str
    bytes: int
    ext: str
    raw_key: str
    encoding: str | None = None  # text encoding sniffed at landing (None for XLSX and binary)
    created: bool = True  # False when the same bytes had landed before

    @property
    def received_date(self):
        return datetime.fromisoformat(self.received_at).astimezone(TZ).date()

    def manifest(self) -> dict:
        m = asdict(self)
        m.pop("created")
        return m


def sniff_encoding(data: bytes) -> str | None:
    """utf-8 / gb18030 for text extracts, None for XLSX and other binary content (first MiB)."""
    head = data[: 1 << 20]
    if head.startswith(b"PK\x03\x04") or b"\x00" in head[:8192]:
        return None
    for enc in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def batch_id_for(unit: str, item: str, content_sha256: str) -> str:
    return hashlib.sha256(f"{unit}\x1f{item}\x1f{content_sha256}".encode()).hexdigest()[:32]


def index_key(unit: str, item: str, batch_id: str) -> str:
    return f"_index/{item}/{unit}/{batch_id}.json"


def land(s: Settings, unit: str, item: str, channel: str, data: bytes, ext: str, source_ref: str,
         received_at: datetime) -> LandedBatch:
    c = object_store.client(s)
    digest = hashlib.sha256(data).hexdigest()
    bid = batch_id_for(unit, item, digest)
    existing = object_store.get_if_exists(c, s.bucket("raw"), index_key(unit, item, bid))
    if existing is not None:  # the same content landed before (maybe on an earlier day)
        return LandedBatch(**json.loads(existing), created=False)
    day = received_at.astimezone(TZ).date()
    key = f"{item}/{unit}/dt={day.isoformat()}/{bid}.{ext}"
    batch = LandedBatch(bid, unit, item, channel, source_ref, received_at.astimezone(TZ).isoformat(),
                        digest, len(data), ext, key, sniff_encoding(data))
    created = object_store.put_once(c, s.bucket("raw"), key, data)
    manifest = json.dumps(batch.manifest(), ensure_ascii=False, indent=1).encode()
    object_store.put_once(c, s.bucket("raw"), f"{item}/{unit}/dt={day.isoformat()}/{bid}.manifest.json", manifest,
                          "application/json")
    # last: a crash before this line re-lands the same key on the next try instead of pointing at nothing
    object_store.put_once(c, s.bucket("raw"), index_key(unit, item, bid), manifest, "application/json")
    return LandedBatch(**batch.manifest(), created=created)
