"""The `vigil` command's entry point: the CLI is imported with the cyclic garbage collector paused.

Importing the CLI builds tens of thousands of objects that live as long as the process (modules, SQLAlchemy
tables, GraphQL types); collections triggered meanwhile walk them again and again for nothing: about a quarter of
the import time. What the import built is frozen (``gc.freeze``) before the collector resumes: otherwise the
first allocations after it walk all of it once more (a young and then a full collection over ~200,000 objects,
~0.15 s of CPU before any command runs). `vigil serve` pauses the collector again until its app is built, then
freezes what start-up made."""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    try:
        from api.cli.main import main as cli
    finally:
        gc.freeze()
        gc.enable()
    cli()


if __name__ == "__main__":
    main()
