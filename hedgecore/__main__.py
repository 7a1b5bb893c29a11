"""`python -m hedgecore` runs the command line."""

import sys

from hedgecore.cli import main

sys.exit(main())
