"""`python -m boilerclf` runs the command line."""

from .cli import app

app(prog_name="boilerclf")
