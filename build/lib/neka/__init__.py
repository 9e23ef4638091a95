"""neka: fine-tune a BERT-family classifier on a labelled table with one command."""

from neka.cli.quiet import quiet_lightning
from neka.cli.resolvers import register_resolvers

register_resolvers()
quiet_lightning()
