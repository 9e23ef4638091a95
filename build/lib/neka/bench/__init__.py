"""`python -m neka.bench`: neka's training speed against its peers, measured in one run."""
