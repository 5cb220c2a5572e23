# The one optimisation level of every edgehost build: the firmware and bench images of every board
# (through the top-level CMakeLists.txt), the kernels' library and C tests, and the host Python
# extension (host/edgehost/kernels/_build.py reads the EH_OPT_FLAGS line below). `edgehost bench`
# prints each image's compiler and full flags (read back from the build's compile_commands.json).
# A board whose toolchain file optimises for size (boards/icebreaker: -Os, to fit 128 KiB) keeps
# its own Release flags; its bench entries say so.
set(EH_OPT_FLAGS "-O3")
