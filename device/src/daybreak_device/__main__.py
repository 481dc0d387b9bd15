"""Run the device server: ``python -m daybreak_device``."""

import sys

from .cli import main

sys.exit(main())
