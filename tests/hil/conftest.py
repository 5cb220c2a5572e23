"""HIL tests run through the edgehost pytest plugin (entry point `edgehost`). Until the package
is reinstalled with that entry point, its fixtures and hooks are taken from the module here
(the command-line options then keep their defaults)."""
import importlib.metadata

_registered = any(ep.value == "edgehost.pytest_plugin"
                  for ep in importlib.metadata.entry_points(group="pytest11"))
if not _registered:
    from edgehost.pytest_plugin import (device, edgehost_board, edgehost_board_name,  # noqa: F401
                                        edgehost_device, edgehost_farm, pytest_configure,
                                        pytest_generate_tests)
