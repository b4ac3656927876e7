"""``python -m edgee``: the same command line as the ``edgee`` script (see ``edgee.cli``)."""

from __future__ import annotations

import sys

from edgee.cli import main

if __name__ == "__main__":
    sys.exit(main())
