"""`edgehost bench --memory --link`: firmware sizes from the ELF and link figures measured over the
real protocol (on the host board, the fastest to start)."""
import json
import subprocess
import sys

from elftools.elf.elffile import ELFFile


def test_memory_and_link_on_the_host_board():
    out = subprocess.run([sys.executable, "-m", "edgehost", "bench", "--board", "host", "--memory", "--link",
                          "--no-kernels", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kernels"] == []
    (mem,) = doc["memory"]
    (lnk,) = doc["link"]
    # flash and RAM figures are the ELF's own allocated sections
    with open(mem["elf"], "rb") as f:
        elf = ELFFile(f)
        alloc = sum(s["sh_size"] for s in elf.iter_sections() if s["sh_flags"] & 2)
    assert 0 < mem["flash_used"] <= alloc and 0 < mem["ram_used"] <= alloc
    assert lnk["board"] == "host" and lnk["core"] == "host"
    assert 0 < lnk["ping_ms_median"] <= lnk["ping_ms_p95"]
    assert lnk["echo_bytes_per_s_each_way"] > 0 and lnk["echo_payload_bytes"] > 0
    # the streamed model: every step delivered and equal to the host's
    assert (lnk["stream_steps"], lnk["stream_dropped"], lnk["stream_mismatches"]) == (300, 0, 0)
    assert lnk["stream_steps_per_s"] > 0 and lnk["stream_latency_ms_median"] > 0
    assert lnk["stream_bytes_per_step"] > 2 * 6 + 4  # 6 Q15 in; status word + the outputs
