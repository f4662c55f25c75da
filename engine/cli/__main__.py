import sys

from engine.cli import console_main

sys.exit(console_main())
