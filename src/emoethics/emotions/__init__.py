"""Emotion models (as data), analysis and rewriting."""
