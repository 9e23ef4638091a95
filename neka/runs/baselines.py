"""What a multi-label model has to beat on its test split: predicting no label for any row, and
drawing each label at random at its training share (scikit-learn's stratified DummyClassifier).
The summary and the log show both beside the model's own figures."""

import numpy as np
from sklearn.dummy import DummyClassifier

from neka.model.metrics import metrics_of_outputs

SHOWN = ("f1_micro", "f1_macro", "subset_acc", "hamming")  # bce of 0/1 guesses only measures the clamp


def multilabel_baselines(train_labels: np.ndarray, test_labels: np.ndarray, seed: int) -> dict[str, dict[str, float]]:
    """Metric name (as metrics.json: `test_f1_micro`) -> value, for each baseline."""
    prior = DummyClassifier(strategy="stratified", random_state=seed)
    prior.fit(np.zeros((len(train_labels), 1)), train_labels)
    guesses = {"all-negative": np.zeros_like(test_labels),
               "label prior": np.asarray(prior.predict(np.zeros((len(test_labels), 1)))).reshape(test_labels.shape)}
    results = {}
    for name, guess in guesses.items():
        metrics = metrics_of_outputs(guess.astype(np.float32), test_labels, "test", "multilabel")
        results[name] = {f"test_{key}": metrics[f"test_{key}"] for key in SHOWN}
    return results
