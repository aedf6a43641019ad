"""Allow `python -m crm_backend ...`."""

import sys

from crm_backend.cli import main

sys.exit(main())
