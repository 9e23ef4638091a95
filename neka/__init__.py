"""neka: fine-tune a BERT-family classifier on a labelled table with one command."""

from neka.resources import register_resolvers

register_resolvers()
