"""``python -m api``: the ``cm`` command line, for a checkout without the console script."""

from api.cli import main

main()
