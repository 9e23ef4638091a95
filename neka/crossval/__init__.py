"""k-fold cross-validation of the training rows (`python -m neka.train cv.folds=5`): one ordinary
run folder per fold under `cv/<k>/`, their out-of-fold probabilities, a summary of the folds,
and the rows whose given label the out-of-fold models believe least (confident learning)."""
