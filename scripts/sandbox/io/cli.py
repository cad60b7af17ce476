"""Entry-point helper: user-facing errors become one clear line and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Callable

from sandbox.io.jsonl import InputError


def run_main(main: Callable[[], None]) -> None:
    """Call main(); on InputError print the message (it names the file and the fix) and exit 2."""
    try:
        main()
    except InputError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(2)
