"""Build hook: build the wire protocol into the package from its one home.

The protocol lives in ``custom_components/daybreak/protocol.py`` (HACS ships only that
folder). Built from the repository, the wheel gets that file as
``daybreak_device/protocol.py`` and an sdist carries it at
``src/daybreak_device/protocol.py``; a wheel built from such an sdist then finds it
there. There is no copy in the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PROTOCOL = Path("custom_components") / "daybreak" / "protocol.py"


class ProtocolBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Add the shared protocol module to wheels and sdists."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Force-include the protocol file when building from the repository."""
        root = Path(self.root)
        source = root.parent / PROTOCOL
        if source.is_file():
            inside = "src/daybreak_device" if self.target_name == "sdist" else "daybreak_device"
            build_data["force_include"][str(source)] = f"{inside}/protocol.py"
        elif not (root / "src" / "daybreak_device" / "protocol.py").is_file():
            msg = f"{PROTOCOL} not found: build from the repository or its sdist"
            raise FileNotFoundError(msg)
