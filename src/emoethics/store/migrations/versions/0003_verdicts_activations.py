"""Verdicts and rulebook activations: one row per judged text (what the dashboard counts) and the
log of which rulebook is in force. Verdicts already in the proxy's run log are copied in.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:30:00
"""

import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rulebook_activations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rulebook_id", sa.String(length=64), nullable=True),
        sa.Column("previous", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rulebook_activations_created", "rulebook_activations", ["created"])
    verdicts = op.create_table(
        "verdicts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("judged_verdict", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("guideline", sa.String(length=128), nullable=True),
        sa.Column("rulebook", sa.String(length=64), nullable=True),
        sa.Column("case_id", sa.String(length=32), nullable=True),
        sa.Column("emotions", sa.JSON(), nullable=False),
        sa.Column("shadow_rulebook", sa.String(length=64), nullable=True),
        sa.Column("shadow_verdict", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("created", "run_id", "context", "language", "verdict", "guideline", "rulebook"):
        op.create_index(f"ix_verdicts_{col}", "verdicts", [col])
    _copy_proxy_verdicts(verdicts)


def _copy_proxy_verdicts(verdicts: sa.Table) -> None:
    """One verdict row per judged choice of the proxy runs already recorded."""
    conn = op.get_bind()
    runs = sa.table(
        "runs",
        sa.column("id", sa.String()),
        sa.column("created", sa.DateTime(timezone=True)),
        sa.column("kind", sa.String()),
        sa.column("output", sa.JSON()),
        sa.column("source", sa.String()),
    )
    rows = []
    for run in conn.execute(sa.select(runs).where(runs.c.kind == "proxy")):
        output = run.output
        if isinstance(output, str):
            try:
                output = json.loads(output)
            except ValueError:
                continue
        for choice in (output or {}).get("choices") or []:
            if not isinstance(choice, dict) or "verdict" not in choice:
                continue
            action = str(choice.get("action") or "")
            violations = choice.get("violations") or []
            first = violations[0] if violations else None
            language = choice.get("language") or {}
            rows.append(
                {
                    "id": uuid.uuid4().hex[:12],
                    "created": run.created,
                    "run_id": run.id,
                    "source": run.source or "proxy",
                    "context": str(choice.get("context") or "personal"),
                    "language": str(language.get("code") or "und") if isinstance(language, dict) else "und",
                    "verdict": str(choice["verdict"]),
                    "judged_verdict": str(choice.get("judged_verdict") or choice["verdict"]),
                    "action": action,
                    "mode": "observe" if action == "observed" else "enforce",
                    "guideline": (first.get("guideline") if isinstance(first, dict) else first) or None,
                    "rulebook": None,
                    "case_id": choice.get("case_id"),
                    "emotions": {
                        k: v.get("intensity") for k, v in (choice.get("profile") or {}).items() if isinstance(v, dict)
                    },
                    "shadow_rulebook": None,
                    "shadow_verdict": None,
                }
            )
    if rows:
        op.bulk_insert(verdicts, rows)


def downgrade() -> None:
    op.drop_table("verdicts")
    op.drop_table("rulebook_activations")
