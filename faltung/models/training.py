"""``compile`` and the single training / test step, shared by ``Model`` and ``Sequential``.

One training step on a batch (x, y):
  1. forward through the graph (training=True), keeping each node's cache
  2. loss value L = loss(y, p) and its gradient: dL/dp, or, when the last layer ends
     in softmax and the loss is a cross-entropy on probabilities, the fused
     dL/dz = (p - y) / N, backpropagated with the last layer's ``backward_linear``
  3. backward through the graph, then ``optimizer.apply_gradients`` (in place)
The loops over epochs and batches (``fit``, ``evaluate``, ``predict``) are in loops.py.
"""
from .. import metrics as metrics_module
from ..layers.base import to_snake_case
from . import checks, loops

_CROSSENTROPIES = ("categorical_crossentropy", "sparse_categorical_crossentropy")


def loss_name(loss):
    """Keras's snake-case name of a loss object (``SparseCategoricalCrossentropy`` -> ``sparse_...``)."""
    name = getattr(loss, "name", None)
    return name if isinstance(name, str) else to_snake_case(type(loss).__name__)


class TrainingMixin:
    """compile / train_on_batch / test_on_batch / predict_on_batch and the loops' entry points."""

    def _init_training_state(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.compiled_metrics = []
        self._compile_config = None
        self.stop_training = False
        self.history = None
        self._shuffle_seed = None   # drawn from faltung.rng at the first fit
        self._epochs_trained = 0    # selects each epoch's shuffle permutation
        self._loss_tracker = metrics_module.Mean("loss")
        self._fused_kind = None

    # ---- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Choose the optimizer (name or object), the loss (name or object) and metric names."""
        from .. import losses, optimizers
        ignored = ("run_eagerly", "jit_compile", "steps_per_execution", "auto_scale_loss")
        unsupported = sorted(k for k, v in kwargs.items() if v is not None and k not in ignored)
        if unsupported:
            raise ValueError(f"{self.name}.compile: unsupported arguments {unsupported}")
        if isinstance(metrics, dict) or isinstance(loss, list) or (
                isinstance(loss, dict) and "class_name" not in loss):
            raise ValueError(f"{self.name}.compile: expected one loss and a list of metrics "
                             "(per-output losses and metrics are not supported)")
        optimizer_obj = optimizers.get(optimizer)
        loss_obj = None if loss is None else losses.get(loss)
        if loss_obj is not None and getattr(loss_obj, "reduction", "") in (None, "none"):
            raise ValueError(f"{self.name}.compile: expected a loss that reduces to one number, "
                             "got reduction=None (use 'sum_over_batch_size')")
        metric_list = [metrics_module.get(m) for m in (metrics or [])]
        self.optimizer, self.loss, self.compiled_metrics = optimizer_obj, loss_obj, metric_list
        self._compile_config = {"loss": loss if isinstance(loss, str) else None,
                                "metrics": [m if isinstance(m, str) else None for m in (metrics or [])]}
        self.compiled = True
        self._fused_kind = self._fused_gradient_kind()

    def _fused_gradient_kind(self):
        """The fused gradient to use, if any: ``"softmax"`` when the output layer ends in softmax
        and the loss is a (sparse) categorical cross-entropy on probabilities, ``"sigmoid"`` for
        sigmoid + binary cross-entropy; else None (plain ``loss.gradient``)."""
        if self.loss is None or len(self.outputs) != 1 or getattr(self.loss, "from_logits", False):
            return None
        layer = self.outputs[0].node.layer
        if not hasattr(layer, "backward_linear"):
            return None
        activation = getattr(layer, "activation", None)
        act_name = getattr(activation, "name", None)
        if type(layer).__name__ == "Softmax":
            act_name = "softmax"
        name = loss_name(self.loss)
        if act_name == "softmax" and name in _CROSSENTROPIES and hasattr(self.loss, "softmax_gradient"):
            axis = getattr(activation, "axis", getattr(layer, "axis", -1))
            return "softmax" if axis in (-1, len(self.outputs[0].shape) - 1) else None
        if act_name == "sigmoid" and name == "binary_crossentropy" and hasattr(self.loss, "sigmoid_gradient"):
            return "sigmoid"
        return None

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in self.compiled_metrics]

    def _reset_metrics(self):
        self._loss_tracker.reset_state()
        for metric in self.compiled_metrics:
            metric.reset_state()

    def _metric_logs(self):
        """Running means as Keras logs, keys sorted as Keras 3 prints them."""
        logs = {m.name: m.result() for m in self.compiled_metrics}
        logs["loss"] = self._loss_tracker.result()
        return dict(sorted(logs.items()))

    # ---- inputs ------------------------------------------------------------------------------
    def _ensure_built(self, x_shape):
        """Functional models are built when wired; Sequential overrides this."""

    def _standardize_x(self, x, cast=True):
        """``x`` as a list of arrays matching the model inputs, cast to their dtype (uint8 -> float32)."""
        xs = checks.as_input_list(self, x)
        self._ensure_built(xs[0].shape)
        checks.check_inputs(self, xs)
        if cast:
            xs = self._cast_inputs(xs)
        return xs

    def _cast_inputs(self, xs):
        """Each batch in its input's dtype (uint8 images -> float32), cast batch by batch."""
        return [a if a.dtype == t.dtype else a.astype(t.dtype) for a, t in zip(xs, self.inputs)]

    def _standardize_y(self, y, n_samples=None):
        return checks.check_targets(self, y, n_samples)

    # ---- one step ----------------------------------------------------------------------------
    def _train_step(self, xs, y, sample_weight=None):
        xs = self._cast_inputs(xs)
        y_pred = self._forward(xs, training=True, keep_caches=True)[0]
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        loss_value = float(self.loss(y, y_pred, **weighted))
        if self._fused_kind == "softmax":
            dz = self.loss.softmax_gradient(y, y_pred, **weighted)
            pairs = self._backward([dz], fused_outputs=(0,))
        elif self._fused_kind == "sigmoid":
            dz = self.loss.sigmoid_gradient(y, y_pred, **weighted)
            pairs = self._backward([dz], fused_outputs=(0,))
        else:
            pairs = self._backward([self.loss.gradient(y, y_pred, **weighted)])
        self.optimizer.apply_gradients(pairs)
        self._update_metrics(loss_value, y, y_pred)
        return loss_value

    def _test_step(self, xs, y, sample_weight=None):
        xs = self._cast_inputs(xs)
        y_pred = self._forward(xs, training=False)[0]
        weighted = {} if sample_weight is None else {"sample_weight": sample_weight}
        loss_value = float(self.loss(y, y_pred, **weighted))
        self._update_metrics(loss_value, y, y_pred)
        return loss_value

    def _update_metrics(self, loss_value, y, y_pred):
        self._loss_tracker.update_state(loss_value, sample_weight=len(y_pred))
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred)

    def _predict_step(self, xs):
        xs = self._cast_inputs(xs)
        return self._forward(xs, training=False)

    # ---- on-batch API (Keras) -------------------------------------------------------------------
    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; returns loss (and metrics) for that batch."""
        checks.require_compiled(self, "train_on_batch")
        xs = self._standardize_x(x)
        y = self._standardize_y(y, len(xs[0]))
        sample_weight = checks.combine_weights(self, y, sample_weight, class_weight)
        self._prepare_training()
        self._reset_metrics()
        self._train_step(xs, y, sample_weight)
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        checks.require_compiled(self, "test_on_batch")
        xs = self._standardize_x(x)
        y = self._standardize_y(y, len(xs[0]))
        sample_weight = checks.check_sample_weight(self, sample_weight, len(y))
        self._reset_metrics()
        self._test_step(xs, y, sample_weight)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x):
        outputs = self._predict_step(self._standardize_x(x))
        return outputs if self._nested_outputs else outputs[0]

    def _batch_result(self, return_dict):
        logs = self._metric_logs()
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self.compiled_metrics]
        return values if len(values) > 1 else values[0]

    def _prepare_training(self):
        from .. import rng
        if self._shuffle_seed is None:
            self._shuffle_seed = int(rng.generator().integers(2**62))
        self._fused_kind = self._fused_gradient_kind()  # a Sequential may have been built since compile

    # ---- loops -------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns the ``History`` callback (``.history`` dict).

        ``sample_weight`` (N,) and ``class_weight`` {class: weight} scale each sample's loss
        (and gradient) as in Keras; the metrics stay unweighted."""
        return loops.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                         validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                         steps_per_epoch, validation_steps, validation_batch_size, validation_freq)

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose="auto",
                      callbacks=None, validation_data=None, validation_steps=None,
                      class_weight=None, initial_epoch=0, shuffle=True, workers=1,
                      use_multiprocessing=False, max_queue_size=10):
        """Keras 2's name for ``fit`` on a generator (the worker/queue hints are not needed here)."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, class_weight=class_weight,
                        validation_steps=validation_steps, initial_epoch=initial_epoch, shuffle=shuffle)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """``[loss, *metrics]`` over the data (just the loss when compiled without metrics)."""
        logs = loops.evaluate(self, x, y, batch_size, verbose, steps, callbacks, sample_weight)
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self.compiled_metrics]
        return values if len(values) > 1 else values[0]

    def evaluate_generator(self, generator, steps=None, verbose=0, **kwargs):
        return self.evaluate(generator, steps=steps, verbose=verbose)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for ``x`` in batches: an array, or a list for several outputs."""
        outputs = loops.predict(self, x, batch_size, verbose, steps, callbacks)
        return outputs if self._nested_outputs else outputs[0]

    def predict_generator(self, generator, steps=None, verbose=0, **kwargs):
        return self.predict(generator, steps=steps, verbose=verbose)

