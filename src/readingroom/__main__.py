"""`python -m readingroom` runs the CLI."""

from readingroom.cli import main

main()
