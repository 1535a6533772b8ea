"""Optimizers with Keras 3's names, defaults and update formulas; they update weights IN PLACE.

  ``optimizer.apply_gradients([(grad, weight), ...])``

Per weight position the optimizer keeps its state ("slots": momentum, velocity, ...),
created lazily on the first call with that weight's shape and dtype (float32 stays
float32). Every call: clip the gradients (``clipvalue``, ``clipnorm`` per weight,
``global_clipnorm`` over all), apply decoupled weight decay ``w -= lr·wd·w`` (AdamW,
or any optimizer given ``weight_decay``), take the update step, then ``iterations += 1``.
``get_state()`` / ``set_state()`` save and restore the iteration count and the slots,
so a reloaded optimizer continues bit-identically.
"""
import math

import numpy as np

from . import config


class Optimizer:
    #: names of the per-weight state arrays, in the order ``get_state`` lists them
    slot_names = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        kind = type(self).__name__
        if sum(v is not None for v in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{kind}: expected at most one of clipnorm, clipvalue and global_clipnorm, "
                             f"got clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        for what, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                            ("global_clipnorm", global_clipnorm), ("weight_decay", weight_decay)):
            if value is not None and value < 0:
                raise ValueError(f"{kind}: expected a non-negative {what}, got {value!r}")
        self.learning_rate = float(learning_rate)
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None if v is None else float(v) for v in (clipnorm, clipvalue, global_clipnorm))
        self.name = name or kind.lower()
        self.iterations = 0
        self.slots = []  # one dict {slot name: array} per weight, in the order first seen
        self._slot_index = {}  # id(weight) -> its index in self.slots (Keras: state per variable)
        self._seen = []        # the weights themselves, so their ids stay theirs

    # ---- the public API ------------------------------------------------------------
    def apply_gradients(self, grads_and_weights):
        """Update each weight array in place from its gradient; pairs are (grad, weight)."""
        pairs = list(grads_and_weights)
        weights = [w for _, w in pairs]
        for i, w in enumerate(weights):
            if not isinstance(w, np.ndarray) or w.dtype.kind != "f":
                raise ValueError(f"{self.name}: expected weights as float NumPy arrays, "
                                 f"got {type(w).__name__} at position {i}")
        grads = [self._as_gradient(g, w, i) for i, (g, w) in enumerate(pairs)]
        grads = self._clip(grads)
        self._before_step()
        lr = float(self.learning_rate)
        for g, w in zip(grads, weights):
            slots = self._slots_for(self._index_of(w), w)
            if self.weight_decay:
                w -= w * (lr * self.weight_decay)
            self._update(g, w, slots, lr)
        self.iterations += 1

    def apply(self, grads, weights):
        """Keras 3's ``optimizer.apply(grads, variables)``."""
        self.apply_gradients(zip(grads, weights))

    def get_config(self):
        return {"name": self.name, "learning_rate": float(self.learning_rate),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_state(self):
        """``[iterations, *extra scalars, then slot by slot, weight by weight]`` as NumPy arrays."""
        state = [np.array(self.iterations, dtype=np.int64)] + self._extra_state()
        for name in self.slot_names:
            state += [slots[name].copy() for slots in self.slots]
        return state

    def set_state(self, state):
        """Restore what ``get_state`` returned (creates the slots if none exist yet)."""
        state = [np.asarray(s) for s in state]
        n_extra, n_slots = len(self._extra_state()), len(self.slot_names)
        slot_arrays = state[1 + n_extra:]
        if len(state) < 1 + n_extra or (len(slot_arrays) % n_slots if n_slots else slot_arrays):
            raise ValueError(f"{self.name}: expected a state list of 1 + {n_extra} + "
                             f"{n_slots}·(number of weights) arrays, got {len(state)}")
        n_weights = len(slot_arrays) // n_slots if n_slots else 0
        self.iterations = int(state[0])
        self._set_extra_state(state[1:1 + n_extra])
        # slot-major order: all of the first slot (one per weight), then all of the second, ...
        self.slots = [{name: slot_arrays[k * n_weights + i].copy() for k, name in enumerate(self.slot_names)}
                      for i in range(n_weights)]
        self._slot_index, self._seen = {}, []  # restored slots are matched to weights by order

    # ---- what subclasses define -------------------------------------------------------
    def _update(self, g, w, slots, lr):
        """Update ``w`` in place from gradient ``g`` with this position's ``slots``."""
        w -= lr * g

    def _before_step(self):
        """Once per apply_gradients call, before any weight is updated (Nadam's running product)."""

    def _extra_state(self):
        return []

    def _set_extra_state(self, values):
        """Most optimizers keep no state beyond the iteration count and the slots (Nadam does)."""

    # ---- helpers ----------------------------------------------------------------------
    def _as_gradient(self, g, w, i):
        g = np.asarray(g)
        if g.shape != w.shape:
            raise ValueError(f"{self.name}: expected gradient of shape {w.shape} for weight {i}, "
                             f"got {g.shape}")
        return g.astype(w.dtype, copy=False)

    def _index_of(self, w):
        """The slot index of weight ``w``: its own from earlier steps, else the next free one, so a
        weight that leaves the list (a frozen layer) keeps its state and hands it to no other."""
        index = self._slot_index.get(id(w))
        if index is None:
            index = len(self._seen)
            self._slot_index[id(w)] = index
            self._seen.append(w)
        return index

    def _slots_for(self, i, w):
        while len(self.slots) <= i:
            self.slots.append(None)
        if self.slots[i] is None:
            self.slots[i] = {name: np.zeros_like(w) for name in self.slot_names}
        elif self.slot_names and self.slots[i][self.slot_names[0]].shape != w.shape:
            raise ValueError(f"{self.name}: expected weight {i} of shape "
                             f"{self.slots[i][self.slot_names[0]].shape} (as in earlier steps), "
                             f"got {w.shape}")
        return self.slots[i]

    def _clip(self, grads):
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        if self.clipnorm is not None:
            # g · clipnorm / max(‖g‖, clipnorm), per weight
            return [g * (self.clipnorm / max(float(np.linalg.norm(g)), self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads))
            return [g * (self.global_clipnorm / max(norm, self.global_clipnorm)) for g in grads]
        return grads

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class SGD(Optimizer):
    """Keras 3 SGD: m = momentum·m − lr·g;  w += m  (nesterov: w += momentum·m − lr·g);
    without momentum simply w −= lr·g."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: expected momentum in [0, 1], got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()

    def _update(self, g, w, slots, lr):
        if not self.momentum:
            w -= lr * g
            return
        m = slots["momentum"]
        m *= self.momentum
        m -= lr * g
        if self.nesterov:
            w += self.momentum * m - lr * g
        else:
            w += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


#: Adam's update in one pass (``ops.adam_fused``, Numba) for float weights of at least this many
#: numbers (the fast implementation only; smaller ones and ``amsgrad`` take NumPy's passes). Measured:
#: the CIFAR CNN's update 1.4-1.9 -> 0.5-0.6 ms, the Fashion CNN's 3.5-4.2 -> 1.2-1.4 ms; batch-32 steps
#: 1.06x (CIFAR), 1.07x (Fashion), 1.09x (LeNet-5); fusing LeNet-5's smaller weights as well: 0.97-0.99x
FUSED_MIN_SIZE = 4096


def _fused(g, w, m, v):
    """Whether Adam's update of ``w`` runs on the one-pass kernel: contiguous arrays of one float dtype."""
    if config.implementation() != "fast" or w.size < FUSED_MIN_SIZE or w.dtype not in (np.float32, np.float64):
        return False
    if any(a.dtype != w.dtype or a.shape != w.shape or not a.flags.c_contiguous for a in (g, w, m, v)):
        return False
    from .ops import jit
    return jit.AVAILABLE


class Adam(Optimizer):
    """Keras 3 Adam, with t = iterations + 1:

        m += (g − m)(1 − β₁);  v += (g² − v)(1 − β₂)      (amsgrad: v̂ = max(v̂, v), used for v)
        α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ);  w −= α·m / (√v + ε)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("momentum", "velocity") + (("velocity_hat",) if self.amsgrad else ())

    def _update(self, g, w, slots, lr):
        t = self.iterations + 1
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m, v = slots["momentum"], slots["velocity"]
        if not self.amsgrad and _fused(g, w, m, v):  # the same arithmetic in one pass
            from .ops import adam_fused, jit
            scalars = (w.dtype.type(x) for x in (1 - self.beta_1, 1 - self.beta_2, alpha, self.epsilon))
            jit.run(adam_fused.adam_update, g.reshape(-1), w.reshape(-1), m.reshape(-1), v.reshape(-1),
                    *scalars)
            return
        m += (g - m) * (1 - self.beta_1)
        v += (g * g - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        w -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w −= lr·wd·w before the Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Keras 3 Nadam (Adam with Nesterov momentum, Dozat 2016), t = iterations + 1:

        u_t = β₁(1 − ½·0.96ᵗ);  Π_t = u_1···u_t
        m += (g − m)(1 − β₁);  v += (g² − v)(1 − β₂)
        m̂ = u_{t+1}·m / (1 − Π_t·u_{t+1}) + (1 − u_t)·g / (1 − Π_t);  v̂ = v / (1 − β₂ᵗ)
        w −= lr·m̂ / (√v̂ + ε)
    """

    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.u_product = 1.0

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def _before_step(self):
        self.u_product *= self._u(self.iterations + 1)

    def _update(self, g, w, slots, lr):
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        m, v = slots["momentum"], slots["velocity"]
        m += (g - m) * (1 - self.beta_1)
        v += (g * g - v) * (1 - self.beta_2)
        m_hat = m * (u_next / (1 - self.u_product * u_next)) + g * ((1 - u_t) / (1 - self.u_product))
        v_hat = v / (1 - self.beta_2 ** t)
        w -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)

    def _extra_state(self):
        return [np.array(self.u_product, dtype=np.float64)]

    def _set_extra_state(self, values):
        self.u_product = float(values[0])

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """Keras 3 RMSprop (Hinton 2012):

        v = ρ·v + (1 − ρ)·g²;   centered: ḡ = ρ·ḡ + (1 − ρ)·g,  d = v − ḡ² + ε;  else d = v + ε
        Δ = lr·g / √d;   momentum: m = momentum·m + Δ, w −= m;  else w −= Δ
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self.slot_names = (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                           + (("average_gradient",) if self.centered else ()))

    def _update(self, g, w, slots, lr):
        v = slots["velocity"]
        v *= self.rho
        v += (1 - self.rho) * (g * g)
        if self.centered:
            avg = slots["average_gradient"]
            avg *= self.rho
            avg += (1 - self.rho) * g
            denominator = v - avg * avg + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = (lr * g) / np.sqrt(denominator)
        if self.momentum > 0:
            m = slots["momentum"]
            m *= self.momentum
            m += increment
            w -= m
        else:
            w -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


_CLASSES = (SGD, Adam, AdamW, Nadam, RMSprop)
_BY_NAME = {cls.__name__.lower(): cls for cls in _CLASSES}


def get(identifier):
    """An ``Optimizer`` from a Keras name (``"adam"``, ``"SGD"``), a ``{"class_name", "config"}`` dict
    or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in _BY_NAME:
        cls = _BY_NAME[identifier["class_name"].lower()]
        return cls.from_config(dict(identifier.get("config", {})))
    raise ValueError(f"unknown optimizer {identifier!r}: expected one of "
                     f"{sorted(cls.__name__ for cls in _CLASSES)} (any case)")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(spec):
    return get(spec)
