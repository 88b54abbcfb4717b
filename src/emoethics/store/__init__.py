"""Where emoethics keeps what must not be lost: the human review queue and feedback."""
