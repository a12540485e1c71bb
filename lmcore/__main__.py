import sys

from lmcore.cli import main

sys.exit(main())
