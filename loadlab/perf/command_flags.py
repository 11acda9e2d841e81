"""Bad flags of the perf commands end in one readable line and exit code 2, not usage text or a traceback."""
from __future__ import annotations

import sys
from typing import NoReturn


def one_line_errors(parser):
    def error(message: str) -> NoReturn:
        sys.stderr.write(f"{parser.prog}: error: {message}\n")
        sys.exit(2)

    parser.error = error
    return parser
