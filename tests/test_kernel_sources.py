"""The kernels are portable C99: only <stdint.h> and <string.h> from the C library, no malloc,
no mutable globals."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALLOWED_SYSTEM = {"stdint.h", "string.h"}


def kernel_files():
    return sorted((ROOT / "kernels_c").rglob("*.[ch]"))


def test_there_are_kernels():
    assert len(kernel_files()) > 5


def test_only_stdint_and_string_from_libc():
    for path in kernel_files():
        for inc in re.findall(r'^\s*#\s*include\s*<([^>]+)>', path.read_text(), re.M):
            assert inc in ALLOWED_SYSTEM, f"{path.relative_to(ROOT)} includes <{inc}>"


def test_no_dynamic_memory_or_libm():
    banned = re.compile(r'\b(malloc|calloc|realloc|free|printf|sqrtf?|expf?|tanhf?|logf?|powf?)\s*\(')
    for path in kernel_files():
        code = re.sub(r'/\*.*?\*/|//[^\n]*', '', path.read_text(), flags=re.S)
        m = banned.search(code)
        assert m is None, f"{path.relative_to(ROOT)} calls {m.group(1)}"


def test_no_mutable_globals():
    """A file-scope variable must be const (tables) : kernels keep no state between calls."""
    decl = re.compile(r'^(?:static\s+)?(?!const\b|typedef\b|extern\b|return\b)'
                      r'(?:unsigned\s+|signed\s+)?(?:u?int\d+_t|float|double|int|char|uint8_t)\s+\w+\s*(?:\[[^\]]*\])*\s*(?:=|;)',
                      re.M)
    for path in (ROOT / "kernels_c").rglob("*.c"):
        code = re.sub(r'/\*.*?\*/|//[^\n]*', '', path.read_text(), flags=re.S)
        depth = 0
        for line in code.splitlines():
            if depth == 0:
                assert not decl.match(line.strip()), f"{path.relative_to(ROOT)}: mutable global: {line.strip()}"
            depth += line.count("{") - line.count("}")
