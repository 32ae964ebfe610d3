"""``python -m eventlake``: the operator CLI (see ``eventlake.cli.main``)."""

import sys

from eventlake.cli.main import main

sys.exit(main())
