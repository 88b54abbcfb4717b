"""Rate limits every process shares: request counts per key in the store.

A limit of N requests per period is a sliding-window counter: the requests of the current window
(``floor(now / period)``) plus those of the previous window weighted by how much of it still lies
within one period of now. A request over the limit is not counted. The count is one upsert in its
own transaction, so several proxy or service workers on one database hold one limit between them.
Windows older than the previous one are deleted when a key opens a new window.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import db
from .models import RateWindowRow


@dataclass(frozen=True)
class RateCheck:
    """The answer for one request: allowed or not, and when to try again (seconds) if not."""

    allowed: bool
    retry_after: int = 0


class RateCounter:
    """Counts requests per key in the database at ``url``."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or db.database_url()

    def hit(self, key_id: str, amount: int, period: int, now: float | None = None) -> RateCheck:
        """Count one request of ``key_id`` against ``amount`` per ``period`` seconds."""
        now = time.time() if now is None else now
        window = int(now // period)
        weight = 1.0 - (now - window * period) / period  # the previous window's share still in range
        eng = db.engine(self.url)
        dialect = postgresql if eng.dialect.name == "postgresql" else sqlite
        upsert = dialect.insert(RateWindowRow).values(key_id=key_id, period=period, window=window, hits=1)
        upsert = upsert.on_conflict_do_update(
            index_elements=["key_id", "period", "window"], set_={"hits": RateWindowRow.hits + 1}
        ).returning(RateWindowRow.hits)
        mine = (RateWindowRow.key_id == key_id) & (RateWindowRow.period == period)
        with db.session(self.url) as s:
            hits = s.execute(upsert).scalar_one()
            before = s.scalar(select(RateWindowRow.hits).where(mine & (RateWindowRow.window == window - 1))) or 0
            if hits == 1:
                s.execute(delete(RateWindowRow).where(mine & (RateWindowRow.window < window - 1)))
            if before * weight + hits <= amount:
                return RateCheck(True)
            s.execute(
                update(RateWindowRow).where(mine & (RateWindowRow.window == window)).values(hits=RateWindowRow.hits - 1)
            )
        # when enough of the previous window has slid out of range (or, failing that, the next window)
        if before > 0 and hits <= amount:
            wait = (1.0 - (amount - hits) / before) * period - (now - window * period)
        else:
            wait = (window + 1) * period - now
        return RateCheck(False, max(1, math.ceil(wait)))
