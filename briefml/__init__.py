"""briefml: a brief and a table in, a trained, evaluated, explained model out."""
__version__ = "0.1.0"

import time as _time

IMPORTED_AT = _time.monotonic()  # a `briefml` command's budget counts from here (see engine_cli)
