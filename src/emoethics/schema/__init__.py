"""The types and data every layer shares: emotion models (the spectra, as YAML data), the reading
of a text (emotion profile, language), token usage. Nothing here imports another emoethics layer
but the foundation (errors, datafiles)."""
