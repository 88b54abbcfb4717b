"""Evaluation: labelled data sets, metrics, and runs of any analyser over them."""
