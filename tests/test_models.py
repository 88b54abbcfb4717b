from pathlib import Path

import pytest

from emoethics.errors import ConfigError
from emoethics.schema.emotion_models import builtin_models, load_model, resolve_target


def test_builtin_models_load_and_have_seven_levels():
    assert builtin_models() == ["beam", "plutchik"]
    p = load_model("plutchik")
    assert [s.id for s in p.spectra] == ["sadness-joy", "disgust-trust", "fear-anger", "surprise-anticipation"]
    assert sorted(p.poles()) == sorted(
        ["joy", "sadness", "trust", "disgust", "fear", "anger", "anticipation", "surprise"]
    )
    b = load_model("beam")
    assert len(b.spectra) == 7
    for m in (p, b):
        for s in m.spectra:
            assert len(s.anchors()) == 7
            assert [lv.intensity for lv in s.anchors()] == [-1.0, -0.6, -0.3, 0.0, 0.3, 0.6, 1.0]


def test_nearest_level_and_ties_go_toward_neutral():
    s = load_model().spectrum("joy")
    assert s.nearest(0.62).word == "joy"
    assert s.nearest(-0.95).word == "grief"
    assert s.nearest(0.15).word == "neutral"  # halfway between 0 and 0.3 -> neutral
    assert s.nearest(0.79).word == "joy" and s.nearest(0.81).word == "ecstasy"


@pytest.mark.parametrize(
    "kw, spectrum, intensity, level",
    [
        (dict(emotion="anger", intensity=0.9), "fear-anger", 0.9, "rage"),
        (dict(emotion="fear", intensity=0.6), "fear-anger", -0.6, "fear"),
        (dict(emotion="sadness-joy", intensity=-0.3), "sadness-joy", -0.3, "pensiveness"),
        (dict(level="ecstasy"), "sadness-joy", 1.0, "ecstasy"),
        (dict(level="neutral", emotion="joy"), "sadness-joy", 0.0, "neutral"),
    ],
)
def test_resolve_target(kw, spectrum, intensity, level):
    t = resolve_target(load_model(), **kw)
    assert (t.spectrum, t.intensity, t.level) == (spectrum, intensity, level)


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(emotion="anger", intensity=1.5), "must be in [0, 1]"),
        (dict(emotion="anger"), "give an intensity"),
        (dict(emotion="hunger", intensity=0.5), "no spectrum or pole named 'hunger'"),
        (dict(level="neutral"), "occurs in several spectra"),
        (dict(level="bliss"), "no level named 'bliss'"),
        (dict(), "name a target"),
    ],
)
def test_resolve_target_errors(kw, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        resolve_target(load_model(), **kw)


GOOD = """id: mine
scale: [-1, 0, 1]
spectra:
  - {id: calm-excited, negative: calm, positive: excitement, levels: [serene, even, thrilled]}
"""


def test_user_model_file(tmp_path: Path):
    f = tmp_path / "mine.yaml"
    f.write_text(GOOD)
    m = load_model(str(f))
    assert m.id == "mine" and m.spectrum("excitement").nearest(0.7).word == "thrilled"


@pytest.mark.parametrize(
    "content, message",
    [
        ("id: x\nspectra: [", "invalid YAML at line"),
        ("- just a list", "expected a mapping"),
        ("id: x\n", "field 'spectra': Field required"),
        (
            GOOD.replace("levels: [serene, even, thrilled]", "levels: [a, b, c, d]"),
            "scale has 3 points but there are 4 level words",
        ),
        (GOOD.replace("[-1, 0, 1]", "[1, 0, -1]"), "must increase strictly"),
        (GOOD.replace("levels: [serene, even, thrilled]", "levels: [a, a, b]"), "level words repeat"),
        (GOOD.replace("negative: calm", "negative: excitement"), "poles must differ"),
        (GOOD + "colour: red\n", "field 'colour': Extra inputs are not permitted"),
    ],
)
def test_bad_model_files_name_file_field_and_problem(tmp_path: Path, content, message):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    with pytest.raises(ConfigError) as e:
        load_model(str(f))
    assert str(f) in str(e.value)
    assert message in str(e.value)


def test_model_file_not_utf8(tmp_path: Path):
    f = tmp_path / "latin.yaml"
    f.write_bytes(b"id: caf\xe9\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_model(str(f))
