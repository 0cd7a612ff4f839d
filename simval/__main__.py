import sys

from simval.cli import main

sys.exit(main())
