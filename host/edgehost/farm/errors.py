"""Errors of the farm: each names the place (or the farm part) and what is missing or wrong."""
from __future__ import annotations

from ..cli import UserError


class FarmError(UserError):
    """A farm operation failed; the message is meant for the user (exit code 1)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message, code)


class PlaceTaken(FarmError):
    """The place is acquired by someone else."""


class PlaceOffline(FarmError):
    """The place's exporter is gone, or a resource the place needs is not available."""


class MissingResource(FarmError):
    """The place has no resource of a kind edgehost needs (serial port, power, probe, ...)."""


class CoordinatorUnreachable(FarmError):
    """No labgrid coordinator answers at the address."""
