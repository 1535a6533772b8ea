"""Callbacks of ``faltung train``: save the run after every epoch, and decay the learning rate."""
import csv
import io
import math
import os

from . import runs


def cosine_decay(initial_learning_rate, total_steps):
    """A callback setting the learning rate before each batch as Keras's ``CosineDecay`` (alpha 0):
    lr(step) = lr0 * (1 + cos(pi * step / total_steps)) / 2, from lr0 down to 0 at the last step."""
    from ..callbacks import Callback

    class CosineDecay(Callback):
        step = 0

        def on_train_batch_begin(self, batch, logs=None):
            progress = min(self.step / max(total_steps, 1), 1.0)
            self.model.optimizer.learning_rate = initial_learning_rate * 0.5 * (1 + math.cos(math.pi * progress))
            self.step += 1

    return CosineDecay()


def epoch_saver(run_dir):
    """A callback that, after each epoch, saves the model and history.csv atomically into ``run_dir``."""
    from ..callbacks import Callback

    class EpochSaver(Callback):
        def __init__(self):
            super().__init__()
            self.rows, self.finished = [], 0

        def on_epoch_end(self, epoch, logs=None):
            runs.save_model_atomically(self.model, os.path.join(run_dir, runs.MODEL_FILE))
            self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
            write_history(run_dir, self.rows)
            self.finished = epoch + 1

    return EpochSaver()


def write_history(run_dir, rows):
    columns = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    runs.write_text(os.path.join(run_dir, runs.HISTORY_FILE), text.getvalue())
