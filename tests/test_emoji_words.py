"""Emoji spelled out for the sensor's encoder."""

from hypothesis import given
from hypothesis import strategies as st

from emoethics.sensors.emoji_words import spell_out_emoji


def test_emoji_become_their_names():
    assert spell_out_emoji("this weather 😡") == "this weather  enraged face "
    assert spell_out_emoji("😂😂") == " face with tears of joy  face with tears of joy "
    assert spell_out_emoji("I ❤️ it") == "I  red heart  it"  # the variation selector goes too


def test_skin_tones_are_dropped():
    assert spell_out_emoji("👍🏽") == spell_out_emoji("👍") == " thumbs up "


@given(st.text())
def test_text_without_emoji_is_unchanged(text):
    import emoji

    if not emoji.emoji_count(text):
        assert spell_out_emoji(text) == text
