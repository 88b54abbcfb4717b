"""The database tables (SQLAlchemy 2 declarative models).

One table per thing people or machines leave behind: ``runs`` (every analysis, rewrite and
judgement with its inputs, outputs, model ids and usage), ``cases`` (the human review queue),
``feedback`` (people's decisions), ``guideline_files`` and ``rulebooks`` (versions of the rules
the judge applied), ``rulebook_activations`` (which rulebook is in force, since when, who said so),
``verdicts`` (one row per judged text, with what a candidate rulebook would have said: what the
dashboard counts), ``api_keys`` (who may call the service), ``rate_windows`` (how often each key
called, for rate limits every worker shares) and ``jobs`` (the service's long requests). The
schema itself is created and upgraded by the Alembic migrations in ``store/migrations``; change a
model, then add a migration.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def utcnow_exact() -> datetime.datetime:
    """Now, to the microsecond (for rows whose order within a second matters)."""
    return datetime.datetime.now(datetime.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(32), default="library")
    status: Mapped[str] = mapped_column(String(16), default="ok")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    models: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    usage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(String(64))
    culture: Mapped[str] = mapped_column(String(64), default="any")
    verdict: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text)
    guidelines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rulebook_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[str] = mapped_column(String(32), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    rule_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decision: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rule_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewer: Mapped[str] = mapped_column(String(128), default="anonymous")
    note: Mapped[str] = mapped_column(Text, default="")


class GuidelineFileRow(Base):
    __tablename__ = "guideline_files"

    version: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


class RulebookRow(Base):
    __tablename__ = "rulebooks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    parent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    guidelines_version: Mapped[str] = mapped_column(String(128))
    feedback_used: Mapped[list[Any]] = mapped_column(JSON, default=list)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rate_limit: Mapped[str] = mapped_column(String(64), default="60/minute")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class RateWindowRow(Base):
    """How many requests a key made in one window of its rate limit (the store's rate counter,
    shared by every process that uses the database)."""

    __tablename__ = "rate_windows"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    window: Mapped[int] = mapped_column(Integer, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RulebookActivationRow(Base):
    """One activation (or deactivation, ``rulebook_id`` empty) of a rulebook: the newest row says
    which rulebook is in force; nothing is overwritten, so every switch can be traced and undone."""

    __tablename__ = "rulebook_activations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow_exact, index=True)
    rulebook_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str] = mapped_column(String(128), default="anonymous")
    note: Mapped[str] = mapped_column(Text, default="")


class VerdictRow(Base):
    """One judged text: where it came from, what was decided, by which rulebook, and what a shadow
    (candidate) rulebook would have decided."""

    __tablename__ = "verdicts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    created: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    run_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    source: Mapped[str] = mapped_column(String(32), default="library")
    context: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(16), default="und", index=True)
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    judged_verdict: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16), default="")
    mode: Mapped[str] = mapped_column(String(16), default="enforce")
    guideline: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    rulebook: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    case_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    emotions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shadow_rulebook: Mapped[str | None] = mapped_column(String(64), nullable=True)
    shadow_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
