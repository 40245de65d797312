"""The ``fgo`` command: the FGO API from a shell, a resumable batch, a demo and the simulator.

``fgo = "fgo_async.cli:main"`` in the package's scripts. This package never imports rich at
import time: :mod:`.render` and :mod:`.demo`, which draw with it, are imported by the commands
that need them, once rich is known to be installed (the ``cli`` extra).
"""

from .app import main, run

__all__ = ["main", "run"]
