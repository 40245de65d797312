"""``python -m fgo_async.simulator``: see :mod:`fgo_async.simulator.cli`."""

from .cli import main

raise SystemExit(main())
