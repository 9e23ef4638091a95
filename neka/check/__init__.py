"""`python -m neka.check`: the data problems that spoil a run without stopping it (leaked test
rows, duplicates, conflicting labels, label spellings, cut rows, id and leak columns), found on the
table exactly as training reads it, before any training."""
