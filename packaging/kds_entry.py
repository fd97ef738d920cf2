"""The frozen bundle's entry point: the same `main()` the `kds` console script runs from an installed package.

PyInstaller needs a script file rather than a `module:function` entry point, hence this two-line shim.
"""

import sys

from kds_app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
