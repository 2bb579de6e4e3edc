"""Allow ``python -m custsync_cli``."""

from custsync_cli.cli import main

main()
