"""A running emulator whose firmware image was rebuilt after it started runs stale firmware:
`open_device` (run, validate, stream) restarts it instead of talking to the old image."""
from __future__ import annotations

import os
import time

from edgehost.flash.sessions import Session
from edgehost.validate import _stale


def test_stale_when_the_elf_was_rebuilt_after_start(tmp_path):
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"x")
    now = time.time()
    os.utime(elf, (now - 100, now - 100))
    assert not _stale(Session("mps2-an386", "socket://x", 1, str(elf), started=now - 50))
    os.utime(elf, (now, now))
    assert _stale(Session("mps2-an386", "socket://x", 1, str(elf), started=now - 50))
    assert not _stale(Session("mps2-an386", "socket://x", 1, str(tmp_path / "gone.elf"), started=now - 50))
    assert not _stale(Session("mps2-an386", "socket://x", 1, None, started=now - 50))
