import sys

from somana.cli import main

sys.exit(main())
