"""curves.png: the per-epoch curves as people count epochs, with the best checkpoint marked."""

import pandas as pd

from neka.runs.checkpoint_names import best_epoch_and_step
from neka.runs.history import plot_curves


def test_curves_count_epochs_from_one_on_whole_ticks_and_mark_the_best():
    history = pd.DataFrame({"epoch": [0, 1, 2], "train_acc": [0.6, 0.7, 0.8], "val_acc": [0.55, 0.65, 0.6],
                            "train_loss": [0.7, 0.6, 0.5], "val_loss": [0.69, 0.62, 0.64]})
    figure = plot_curves(history, best_epoch=1)
    figure.canvas.draw()
    for axes in figure.axes:
        assert [list(line.get_xdata()) for line in axes.lines[:2]] == [[1, 2, 3], [1, 2, 3]]
        low, high = axes.get_xlim()
        ticks = [tick for tick in axes.get_xticks() if low <= tick <= high]
        assert ticks and all(float(tick).is_integer() for tick in ticks) and min(ticks) >= 1
        [marker] = [line for line in axes.lines if line.get_label().startswith("best checkpoint")]
        assert list(marker.get_xdata()) == [2, 2] and marker.get_label() == "best checkpoint (epoch 2)"


def test_best_checkpoint_names_give_epoch_and_step():
    assert best_epoch_and_step("run/checkpoints/best-epoch3-step120.ckpt") == (3, 120)
    assert best_epoch_and_step("best-epoch0-step5-v1.ckpt") == (0, 5)  # Lightning's name for a second one
    assert best_epoch_and_step("last.ckpt") is None and best_epoch_and_step(None) is None
