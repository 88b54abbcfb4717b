"""The items of the moral benchmarks the ethics heads are trained on and read (ETHICS, Moral
Stories): a data type the runtime needs, so it lives with the runtime; the loaders are in
:mod:`emoethics.evals.ethics_data`."""

from __future__ import annotations

from pydantic import BaseModel

ETHICS_FORMATS = ("ethics-cm", "ethics-deontology", "ethics-justice", "ethics-virtue", "moral-stories")

#: What label 1 means, per format.
POSITIVE: dict[str, str] = {
    "ethics-cm": "clearly morally wrong",
    "ethics-deontology": "a reasonable excuse",
    "ethics-justice": "reasonable",
    "ethics-virtue": "the trait is shown",
    "moral-stories": "the moral action",
}

#: Formats whose items are a pair (``text``, ``second``).
PAIR_FORMATS = ("ethics-deontology", "ethics-virtue", "moral-stories")


class EthicsItem(BaseModel):
    """One labelled item of an ethics benchmark."""

    id: str
    format: str
    text: str
    second: str | None = None
    label: int
    group: str | None = None
