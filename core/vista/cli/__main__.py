"""`python -m vista.cli`: the `vista` command."""

import sys

from . import main

sys.exit(main())
