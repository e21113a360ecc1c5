import sys

from falco_lab.cli import main

sys.exit(main())
