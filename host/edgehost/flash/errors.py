"""Errors of flashing: each message says what was tried and what to do next."""
from __future__ import annotations


class FlashError(Exception):
    """Flashing or starting a board failed; the message is meant for the user."""
