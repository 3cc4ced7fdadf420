"""`python -m api.cli.main`: the `vigil` command."""

from api.cli.main import main

main()
