"""Boards on a labgrid farm (docs/farm.md).

- `place`: a labgrid place used as an edgehost board (acquire, flash, rfc2217 serial, release);
- `real`: flashing a real board through the place's resources with labgrid's drivers;
- `boardhost`: the exporter side of emulated places (emulators behind ptys, a simplerest power switch);
- `local`: a local farm on 127.0.0.1 (one coordinator, two exporters): `python -m edgehost.farm up`.
"""
from __future__ import annotations

from .errors import CoordinatorUnreachable, FarmError, MissingResource, PlaceOffline, PlaceTaken
from .place import Place, acquire, coordinator_address, open_place

__all__ = ["Place", "acquire", "open_place", "coordinator_address", "FarmError", "PlaceTaken",
           "PlaceOffline", "MissingResource", "CoordinatorUnreachable"]
