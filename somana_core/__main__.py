import sys

from somana_core.cli import main

sys.exit(main())
