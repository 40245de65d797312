"""``python -m fgo_async.cli``: the ``fgo`` command, where its script is not on the PATH."""

from . import main

raise SystemExit(main())
