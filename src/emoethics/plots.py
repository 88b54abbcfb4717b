"""Charts: an emotion profile as diverging bars, a sweep as target-versus-measured."""

from __future__ import annotations

import io
from pathlib import Path

from .emotions.rewriting import SweepResult
from .errors import InputError
from .schema.profile import EmotionProfile

FORMATS = (".png", ".svg", ".pdf")


def _plt():  # matplotlib is imported only when a chart is drawn
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"{path}: plots are written as {', '.join(FORMATS)}")
    try:
        fig.savefig(path, bbox_inches="tight", dpi=150)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror})") from None
    finally:
        _plt().close(fig)


def plot_profile(profile: EmotionProfile, path: Path, title: str = "") -> None:
    """Diverging horizontal bars: one per spectrum, negative pole left, positive right."""
    plt = _plt()
    rs = profile.readings
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rs) + 1.2))
    ys = list(range(len(rs)))[::-1]
    colors = ["#e67e22" if r.intensity < 0 else "#2c7fb8" for r in rs]
    ax.barh(ys, [r.intensity for r in rs], color=colors, height=0.55)
    for y, r in zip(ys, rs, strict=True):
        ax.text(-1.05, y, r.negative, ha="right", va="center")
        ax.text(1.05, y, r.positive, ha="left", va="center")
        x = r.intensity + (0.04 if r.intensity >= 0 else -0.04)
        ax.text(x, y, r.level, ha="left" if r.intensity >= 0 else "right", va="center", fontsize=9, color="#333")
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_yticks([])
    ax.set_xlabel("signed intensity")
    ax.set_title(title or f"emotion profile ({profile.emotion_model}; {profile.analyzer})", fontsize=9)
    for s in ("top", "right", "left"):
        ax.spines[s].set_visible(False)
    _save(fig, path)


def plot_sweep(sweep: SweepResult, path: Path | None = None) -> str:
    """Target against measured intensity per level; returns the SVG text when ``path`` is None."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [r.target.intensity for r in sweep.results]
    ax.plot([-1, 1], [-1, 1], color="#bbb", lw=1, ls="--", label="perfect")
    ax.plot(xs, [r.measured_intensity for r in sweep.results], "o-", color="#2c7fb8", label="measured")
    ax.set_xticks(xs, [r.target.level for r in sweep.results], rotation=30, ha="right")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_ylabel("measured intensity")
    ax.set_title(f"sweep over {sweep.spectrum}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    if path is not None:
        _save(fig, path)
        return ""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
