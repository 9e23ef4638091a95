"""Run folders: the files a run leaves, opening a finished run, guarding folders, resuming,
DDP ranks, Lightning callbacks, history, hyper-parameters, the summary and sweeps."""
