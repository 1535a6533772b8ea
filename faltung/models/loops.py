"""The loops over epochs and batches: ``fit``, ``evaluate`` and ``predict``.

Everything the user passed is checked first (compiled? shapes? labels? lengths?),
so a mistake is a ``ValueError`` before any weight changes. Then::

    for epoch in range(initial_epoch, epochs):
        for x_batch, y_batch in data:         # shuffled each epoch
            train step (training.py)           # forward, loss, backward, optimizer
        validation pass (no weight change)     # val_loss, val_<metric>
        callbacks.on_epoch_end(epoch, logs)    # History records the logs
"""
import numpy as np

from . import checks
from .data import ArrayData, GeneratorData, is_batch_source, split_batch, split_validation


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"expected verbose to be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _batch_size(batch_size, where):
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{where}: expected a positive int batch_size, got {batch_size!r}")
    return int(batch_size)


def make_data(model, x, y, batch_size, steps, where, shuffle=False, sample_weight=None,
              class_weight=None):
    """An ``ArrayData`` or ``GeneratorData`` with x, y and the sample weights already checked."""
    if is_batch_source(x):
        if y is not None or sample_weight is not None:
            raise ValueError(f"{where}: y and sample_weight must be None when x is a generator or "
                             "Sequence (it yields (x, y) or (x, y, sample_weight) batches)")
        return GeneratorData(x, steps, where)
    xs = model._standardize_x(x, cast=False)
    y = model._standardize_y(y, len(xs[0]))
    sample_weight = checks.combine_weights(model, y, sample_weight, class_weight)
    return ArrayData(xs, y, _batch_size(batch_size, where), shuffle=shuffle, max_steps=steps,
                     sample_weight=sample_weight)


def _checked_batches(model, data, need_y=True, shuffle_seed=None, epoch_index=0, class_weight=None):
    """``(step, xs, y, sample_weight)`` for each batch of ``data``; generator batches are checked
    one by one (arrays were checked up front)."""
    for step, (xs, y, sw) in enumerate(data.epoch_batches(shuffle_seed, epoch_index)):
        if isinstance(data, GeneratorData):
            xs = model._standardize_x(xs, cast=False)
            if need_y:
                y = model._standardize_y(y, len(xs[0]))
                sw = checks.combine_weights(model, y, sw, class_weight)
        yield step, xs, y, sw


def _validation_data(model, validation_data, validation_split, x, y, sample_weight, batch_size,
                     validation_batch_size, validation_steps):
    """(training x, y, sample_weight, validation data or None) from fit's arguments."""
    vbs = validation_batch_size or batch_size
    if validation_data is not None:
        if is_batch_source(validation_data):
            return x, y, sample_weight, GeneratorData(validation_data, validation_steps, "fit validation_data")
        xv, yv, swv = split_batch(validation_data, "fit validation_data")
        return x, y, sample_weight, make_data(model, xv, yv, vbs, validation_steps, "fit validation_data",
                                              sample_weight=swv)
    if validation_split:
        if is_batch_source(x):
            raise ValueError("fit: validation_split needs arrays, not a generator; "
                             "pass validation_data instead")
        xs = model._standardize_x(x, cast=False)
        y = model._standardize_y(y, len(xs[0]))
        sw = checks.check_sample_weight(model, sample_weight, len(y))
        xt, yt, swt, xv, yv, swv = split_validation(xs, y, sw, validation_split)
        return xt, yt, swt, make_data(model, xv, yv, vbs, validation_steps, "fit validation_split",
                                      sample_weight=swv)
    return x, y, sample_weight, None


def _callback_list(model, callbacks, verbose, params, progbar=True):
    from .. import callbacks as cb_module
    user = list(callbacks or [])
    if any(not isinstance(cb, cb_module.Callback) for cb in user):
        bad = next(type(cb).__name__ for cb in user if not isinstance(cb, cb_module.Callback))
        raise ValueError(f"expected faltung.callbacks.Callback objects in callbacks=, got {bad}")
    history = cb_module.History()
    # Keras 3's order: the user's callbacks, History, then the progress bar (which so prints
    # what the others wrote into the logs, e.g. ReduceLROnPlateau's learning_rate)
    chain = user + [history] + ([cb_module.ProgbarLogger(verbose)] if verbose and progbar else [])
    return cb_module.CallbackList(chain, model, params), history


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
        shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps,
        validation_batch_size, validation_freq):
    checks.require_compiled(model, "fit")
    verbose = _verbosity(verbose)
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: expected a non-negative int epochs, got {epochs!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or not 0 <= initial_epoch <= epochs:
        raise ValueError(f"fit: expected 0 <= initial_epoch <= epochs={epochs}, got {initial_epoch!r}")
    if not isinstance(validation_freq, (int, np.integer)) or validation_freq < 1:
        raise ValueError(f"fit: expected a positive int validation_freq, got {validation_freq!r}")
    x, y, sample_weight, val_data = _validation_data(model, validation_data, validation_split, x, y,
                                                     sample_weight, batch_size, validation_batch_size,
                                                     validation_steps)
    train_data = make_data(model, x, y, batch_size, steps_per_epoch, "fit", shuffle=bool(shuffle),
                           sample_weight=sample_weight, class_weight=class_weight)
    steps = len(train_data)
    cbs, history = _callback_list(model, callbacks, verbose,
                                  {"epochs": epochs, "steps": steps, "verbose": verbose})
    model._prepare_training()
    model.stop_training = False
    model.history = history
    cbs.on_train_begin()
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        model._reset_metrics()
        cbs.on_epoch_begin(epoch)
        for step, xs, yb, sw in _checked_batches(model, train_data, True, model._shuffle_seed,
                                                  model._epochs_trained, class_weight):
            cbs.on_train_batch_begin(step)
            model._train_step(xs, yb, sw)
            cbs.on_train_batch_end(step, model._metric_logs())
            if model.stop_training:
                break
        epoch_logs = model._metric_logs()
        if val_data is not None and (epoch + 1) % validation_freq == 0:
            val_logs = _run_test(model, val_data, cbs)
            epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
        model._epochs_trained += 1
        cbs.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    cbs.on_train_end(epoch_logs)
    return history


def _run_test(model, data, cbs):
    """The validation pass inside ``fit`` (calls the ``on_test_*`` hooks as Keras does)."""
    model._reset_metrics()
    cbs.on_test_begin()
    for step, xs, y, sw in _checked_batches(model, data):
        cbs.on_test_batch_begin(step)
        model._test_step(xs, y, sw)
        cbs.on_test_batch_end(step, model._metric_logs())
    logs = model._metric_logs()
    cbs.on_test_end(logs)
    return logs


def evaluate(model, x, y, batch_size, verbose, steps, callbacks, sample_weight=None):
    checks.require_compiled(model, "evaluate")
    verbose = _verbosity(verbose)
    data = make_data(model, x, y, batch_size, steps, "evaluate", sample_weight=sample_weight)
    n_steps = len(data)
    cbs, _ = _callback_list(model, callbacks, 0, {"steps": n_steps, "verbose": verbose})
    bar = _bar(n_steps, verbose)
    cbs.on_test_begin()
    model._reset_metrics()
    for step, xs, yb, sw in _checked_batches(model, data):
        cbs.on_test_batch_begin(step)
        model._test_step(xs, yb, sw)
        logs = model._metric_logs()
        cbs.on_test_batch_end(step, logs)
        if bar:
            bar.update(step + 1, logs, finalize=step + 1 == n_steps)
    logs = model._metric_logs()
    cbs.on_test_end(logs)
    return logs


def predict(model, x, batch_size, verbose, steps, callbacks):
    verbose = _verbosity(verbose)
    if is_batch_source(x):
        data = GeneratorData(x, steps, "predict")
    else:
        xs = model._standardize_x(x, cast=False)
        data = ArrayData(xs, None, _batch_size(batch_size, "predict"), max_steps=steps)
    n_steps = len(data)
    cbs, _ = _callback_list(model, callbacks, 0, {"steps": n_steps, "verbose": verbose})
    bar = _bar(n_steps, verbose)
    cbs.on_predict_begin()
    chunks = None
    for step, xs, _, _ in _checked_batches(model, data, need_y=False):
        cbs.on_predict_batch_begin(step)
        outputs = model._predict_step(xs)
        chunks = [[] for _ in outputs] if chunks is None else chunks
        for chunk, out in zip(chunks, outputs):
            chunk.append(out)
        cbs.on_predict_batch_end(step, {"outputs": outputs})
        if bar:
            bar.update(step + 1, None, finalize=step + 1 == n_steps)
    cbs.on_predict_end()
    if chunks is None:
        raise ValueError("predict: expected at least one sample, got an empty input")
    return [np.concatenate(chunk, axis=0) for chunk in chunks]


def _bar(steps, verbose):
    if not verbose:
        return None
    from .progress import ProgressBar
    return ProgressBar(steps, verbose)

