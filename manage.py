#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecom_project.settings")
    from django.core.management import execute_from_command_line
    from pymongo.errors import ServerSelectionTimeoutError

    from ecom_project.config import ConfigError
    from ecom_project.engines.build import EngineError

    try:
        execute_from_command_line(sys.argv)
    except (ConfigError, EngineError) as exc:  # one readable line, never a traceback
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ServerSelectionTimeoutError as exc:
        print(f"the store does not answer: {str(exc).split(',')[0]} (is `make run` running, or MONGO_URL right?)", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
