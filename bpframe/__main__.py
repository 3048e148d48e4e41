"""``python -m bpframe`` runs the ``bpframe`` command."""

import sys

from .cli import main

sys.exit(main())
