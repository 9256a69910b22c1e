"""The ``aotc`` command line."""
import sys

import click

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aotc")
def main():
    """aotc: compile models written in a Theano-style DSL into importable modules."""


@main.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--out", default="build", show_default=True, help="output folder")
@click.option("--name", default=None, help="module name (default: the model file's stem)")
def build(model, out, name):
    """Compile MODEL.py into an importable extension module."""
    click.echo("aotc build: the C backend is not in this version yet; use "
               "aotc.function(..., mode='FAST_COMPILE') to evaluate models in-process.",
               err=True)
    sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
