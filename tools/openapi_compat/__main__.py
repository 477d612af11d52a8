import sys

from tools.openapi_compat.cli import main

sys.exit(main())
