"""Models: ``Sequential``, the functional ``Model``, ``Input`` and ``load_model``.

  graph.py       symbolic tensors and nodes (how layers called on ``Input`` are wired)
  functional.py  ``Model(inputs, outputs)``: forward/backward over the graph
  sequential.py  ``Sequential``: a chain, wired as a graph once its input shape is known
  training.py    ``compile`` and one training/test step (fused softmax + cross-entropy)
  loops.py       ``fit``/``evaluate``/``predict`` with callbacks; checks.py, data.py feed them
  progress.py    Keras's progress bar;  summary.py  ``model.summary()``
  saving.py      ``save``/``load_model``/``save_weights``: one zip of JSON + .npy, no pickle
  architecture.py  a model's architecture as JSON and back
"""
from ..layers.input_layer import Input, InputLayer
from .functional import Model
from .saving import load_model, model_from_json
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Input", "InputLayer", "load_model", "model_from_json"]
