import sys

from losslab.cli import main

sys.exit(main())
