"""``python -m cli``: the command line's entry point (see ``cli.app``)."""

import sys

from cli.app import main

sys.exit(main())
