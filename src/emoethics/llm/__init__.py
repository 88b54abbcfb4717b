"""Language-model backends, the response cache and usage accounting."""
