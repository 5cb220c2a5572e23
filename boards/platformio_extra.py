"""PlatformIO pre-build script (platformio.ini: extra_scripts = pre:boards/platformio_extra.py).

PlatformIO does not run CMake, so this writes what firmware/CMakeLists.txt generates from
boards/<board>/board.json (the environment's `custom_eh_board`): eh_board_config.h and
eh_memory.ld, byte for byte the same (tests/test_build.py compares them), into the build
folder, and adds the include and linker search paths. The same function runs without
PlatformIO: `python boards/platformio_extra.py <board> <out_dir>`.
"""
import json
import os
import sys

SWITCHES = ("COUNTER_DWT", "COUNTER_SYSTICK", "COUNTER_MINSTRET", "COUNTER_MCYCLE",
            "COUNTER_MONOTONIC_NS", "EXIT_SEMIHOSTING", "EXIT_SEMIHOSTING_OR_RESET", "EXIT_RESET",
            "EXIT_SIFIVE_TEST", "EXIT_PROCESS")


def _int(v):
    return int(v, 0) if isinstance(v, str) else int(v)


def _switch(s):
    return "".join(c if c.isalnum() else "_" for c in s.upper())


def generate(boards_dir, board, out_dir):
    """Write eh_board_config.h and eh_memory.ld for `board` into `out_dir`."""
    with open(os.path.join(boards_dir, board, "board.json")) as f:
        b = json.load(f)
    u = b["uart"]
    chosen = {"COUNTER_" + _switch(b["counter"]["source"]), "EXIT_" + _switch(b["exit"])}

    def opt(key, default):
        return default if u.get(key) is None else _int(u[key])

    lines = [
        f"/* Generated from boards/{board}/board.json: do not edit. */",
        "#ifndef EH_BOARD_CONFIG_H",
        "#define EH_BOARD_CONFIG_H",
        f'#define EH_BOARD_NAME "{board}"',
        f'#define EH_BOARD_CORE "{b["core"]}"',
        f"#define EH_CLOCK_HZ {_int(b['clock_hz'])}u",
        f"#define EH_UART_BASE {opt('base', 0):#x}u",
        f"#define EH_UART_BAUD {opt('baud', 115200)}u",
        f"#define EH_UART_CLOCK_HZ {opt('clock_hz', _int(b['clock_hz']))}u",
        f"#define EH_UART_TX_PIN ({opt('tx_pin', -1)})",
        f"#define EH_UART_RX_PIN ({opt('rx_pin', -1)})",
        f"#define EH_UART_IRQ ({opt('irq', -1)})",
    ]
    lines += [f"#define EH_{s} {1 if s in chosen else 0}" for s in SWITCHES]
    lines += ["#endif", ""]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "eh_board_config.h"), "w") as f:
        f.write("\n".join(lines))
    if b.get("flash") and b.get("ram"):
        fl, ram = b["flash"], b["ram"]
        with open(os.path.join(out_dir, "eh_memory.ld"), "w") as f:
            f.write(
                f"/* Generated from boards/{board}/board.json: do not edit. */\n"
                "MEMORY\n{\n"
                f"    FLASH (rx) : ORIGIN = {_int(fl['origin']):#x}, LENGTH = {_int(fl['bytes'])}\n"
                f"    RAM (rwx) : ORIGIN = {_int(ram['origin']):#x}, LENGTH = {_int(ram['bytes'])}\n"
                "}\n"
                f"__eh_stack_bytes = {_int(b['stack_bytes'])};\n"
            )
    return b


try:  # under PlatformIO (SCons), Import is a builtin of the script's namespace
    Import("env")  # noqa: F821
except NameError:
    env = None

if env is not None:
    project = env.subst("$PROJECT_DIR")
    board_name = env.GetProjectOption("custom_eh_board")
    gen = os.path.join(env.subst("$BUILD_DIR"), "eh_board")
    generate(os.path.join(project, "boards"), board_name, gen)
    env.Append(CPPPATH=[gen], LIBPATH=[gen, os.path.join(project, "boards", "common")])
elif __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python boards/platformio_extra.py <board> <out_dir>")
    generate(os.path.dirname(os.path.abspath(__file__)), sys.argv[1], sys.argv[2])
