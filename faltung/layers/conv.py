"""Conv2D and Conv2DTranspose, Keras 3 style (NHWC), on the ops of ``faltung.ops.conv``.

  Conv2D           x: (N, H, W, C) -> y: (N, OH, OW, filters); kernel (kh, kw, C, filters), bias (filters,)
  Conv2DTranspose  x: (N, H, W, C) -> y: (N, OH, OW, filters); kernel (kh, kw, filters, C), bias (filters,)

Forward: ``z = conv(x, kernel) + bias`` and ``y = activation(z)``.
Backward: ``dz = activation'(z) · dy`` (formula 3.9 of seed 004), then ``backward_linear(dz)``
gives ``dkernel``, ``dbias`` and ``dx`` from the op's backward.
"""
import numpy as np

from .. import activations, initializers
from ..ops import conv as conv_ops
from ..ops import conv_transpose as conv_transpose_ops
from ..ops.epilogue import activation_backward, relu_backward
from ..ops.im2col import effective_size
from .base import Layer, normalize_padding, normalize_tuple


class _Conv(Layer):
    """What Conv2D and Conv2DTranspose share: arguments, weights, activation and backward."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{self.name}: expected filters to be a positive int, got {filters!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{self.name}: expected data_format 'channels_last' (NHWC), got {data_format!r}")
        if groups != 1:
            raise ValueError(f"{self.name}: expected groups=1 (grouped convolution is not supported), "
                             f"got {groups!r}")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", self.name)
        self.strides = normalize_tuple(strides, 2, "strides", self.name)
        self.padding = normalize_padding(padding, self.name)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", self.name)
        self.use_bias = bool(use_bias)
        try:
            self.activation = activations.get(activation)
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
        except ValueError as error:
            raise ValueError(f"{self.name}: {error}") from None
        self.kernel = self.bias = None
        self._workspace = {}  # scratch buffers the conv ops reuse from call to call

    # ---- shapes and weights ------------------------------------------------------------
    def _in_channels(self):
        return self.kernel.shape[2]

    def _spatial_output(self, in_hw):
        """Output (OH, OW) for input (H, W) (None stays None); raises if the input is too small."""
        out_hw = tuple(None if n is None else self._output_length(n, axis) for axis, n in enumerate(in_hw))
        if any(m is not None and m <= 0 for m in out_hw):
            span = tuple(effective_size(k, d) for k, d in zip(self.kernel_size, self.dilation_rate))
            raise ValueError(f"{self.name}: expected input height and width of at least the kernel "
                             f"size {span} with padding={self.padding!r}, got {tuple(in_hw)}")
        return out_hw

    def build(self, input_shape):
        self.check_rank(input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{self.name}: expected a known number of input channels, got shape "
                             f"{tuple(input_shape)}")
        self._spatial_output(tuple(input_shape[1:3]))  # raises early if the input is too small
        self.kernel = self.add_weight("kernel", self._kernel_shape(int(channels)), self.kernel_initializer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        self.check_rank(input_shape)
        return (input_shape[0],) + self._spatial_output(tuple(input_shape[1:3])) + (self.filters,)

    # ---- forward / backward ------------------------------------------------------------
    def forward(self, x, training=False):
        x = self._as_array(x)
        if not self.built:
            self.check_input(x, 4)
            self.build((None,) + x.shape[1:])
        self.check_input(x, 4, channels=self._in_channels())
        self._spatial_output(x.shape[1:3])
        self.cache = None  # let go of the last call's buffers, so the ops may reuse them
        activation = self.activation
        relu = isinstance(activation, activations.ReLU)
        z, op_cache = self._linear_forward(x, training, relu)
        if relu:  # fused: the op applied max(0, .) in its last pass over the output
            y, z = z, None
        elif isinstance(activation, activations.Linear):
            y = z
        else:
            y = activation.forward(z)
            if activation.needs_only_output:
                z = None
        self.cache = (op_cache, z, y)
        return y

    def backward(self, dy):
        """``dz = f'(z) · dy`` (3.9), then the linear backward. Where f' needs only the output y
        (ReLU, tanh, sigmoid, ...), dz and the bias gradient come from ``epilogue.activation_backward``
        (one pass for the common ones)."""
        op_cache, z, y = self.cache
        if isinstance(self.activation, activations.ReLU) and self._fuses_relu_backward(op_cache):
            return self.backward_linear(dy, relu_output=y)  # dz = dY [y > 0] and db inside the op's kernels
        if self.activation.needs_only_output and not isinstance(self.activation, activations.Linear):
            dz, db = activation_backward(dy, y, self.activation, bias=self.use_bias)
            return self.backward_linear(dz, db)
        return self.backward_linear(self.activation.backward(dy, z, y))

    def backward_linear(self, dz, db=None, relu_output=None):
        """Gradients from ``dz = dL/dz`` (pre-activation): sets ``self.gradients``, returns ``dx``.
        With ``relu_output`` (y = max(0, z)), ``dz`` is dL/dy and the op takes it through the ReLU first.

        ``dx`` is None when no one can use it: the layer is applied once in a model, directly to
        the model's input (a model does not backpropagate into its inputs), as the first
        Conv2D of every CNN. That skips a whole full_conv / col2im per training step.
        """
        dx, dw, op_db = self._linear_backward(dz, self.cache[0], self._input_gradient_needed(), db is None,
                                              relu_output)
        db = op_db if db is None else db
        grads = [dw, db] if self.use_bias else [dw]
        self.gradients = grads if self.trainable else []
        return dx

    def _fuses_relu_backward(self, op_cache):
        return False

    def _input_gradient_needed(self):
        nodes = self._inbound_nodes
        feeds_on_model_input = (len(nodes) == 1 and nodes[0].parents
                                and not any(parent.inputs for parent in nodes[0].parents))
        return not feeds_on_model_input

    # ---- config ------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "data_format": "channels_last",
            "dilation_rate": list(self.dilation_rate), "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        return config


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, formula 2.4 of seed 004) with ``filters`` kernels.

    ``Conv2D(32, 3, padding="same", activation="relu")``: kernel (3, 3, C, 32), bias (32,).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
                         activation, use_bias, kernel_initializer, bias_initializer, **kwargs)

    def _kernel_shape(self, channels):
        return self.kernel_size + (channels, self.filters)

    def _output_length(self, n, axis):
        """``ceil(n / s)`` for "same", ``(n - k_eff) // s + 1`` for "valid"."""
        k, s, d = self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis]
        if self.padding == "same":
            return -(-n // s)
        return (n - effective_size(k, d)) // s + 1

    def get_config(self):
        config = super().get_config()
        config["groups"] = 1
        return config

    def _linear_forward(self, x, training, relu):
        return conv_ops.conv2d_forward(x, self.kernel, self.bias, self.strides, self.padding,
                                       self.dilation_rate, self._workspace, for_backward=training, relu=relu)

    def _linear_backward(self, dz, op_cache, need_dx=True, need_db=True, relu_output=None):
        return conv_ops.conv2d_backward(dz, op_cache, need_dx, need_db, relu_output)

    def _fuses_relu_backward(self, op_cache):
        return conv_ops.fuses_relu_backward(op_cache)


class Conv2DTranspose(_Conv):
    """Transposed convolution ("deconvolution", seed 004 section 2.5): ``y = Kᵀx`` (eq. 2.8).

    Kernel (kh, kw, filters, C) as in Keras; output size ``H*s + max(k - s, 0)`` (valid) or
    ``H*s`` (same) when ``output_padding`` is None.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, kernel_initializer, bias_initializer, **kwargs)
        if output_padding is not None:
            if isinstance(output_padding, (int, np.integer)):
                output_padding = (int(output_padding),) * 2
            output_padding = tuple(int(p) for p in output_padding)
            if len(output_padding) != 2 or any(not 0 <= p < s for p, s in zip(output_padding, self.strides)):
                raise ValueError(f"{self.name}: expected output_padding as 2 ints with 0 <= p < strides "
                                 f"{self.strides}, got {output_padding!r}")
        self.output_padding = output_padding

    def _kernel_shape(self, channels):
        return self.kernel_size + (self.filters, channels)

    def _in_channels(self):
        return self.kernel.shape[3]

    def _output_length(self, n, axis):
        """Keras's transposed-convolution size for one axis (see ``conv2d_transpose_output_hw``)."""
        output_padding = None if self.output_padding is None else (self.output_padding[axis],)
        return conv_transpose_ops.conv2d_transpose_output_hw(
            (n,), (self.kernel_size[axis],), (self.strides[axis],), self.padding, output_padding,
            (self.dilation_rate[axis],))[0]

    def _linear_forward(self, x, training, relu):
        z, cache = conv_transpose_ops.conv2d_transpose_forward(
            x, self.kernel, self.bias, self.strides, self.padding, self.output_padding, self.dilation_rate,
            self._workspace)
        return (np.maximum(z, 0, out=z) if relu else z), cache

    def _linear_backward(self, dz, op_cache, need_dx=True, need_db=True, relu_output=None):
        if relu_output is not None:  # never fused here (``_fuses_relu_backward`` is False): the ReLU first
            dz = relu_backward(dz, relu_output)
        return conv_transpose_ops.conv2d_transpose_backward(dz, op_cache, need_dx, need_db)

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = None if self.output_padding is None else list(self.output_padding)
        return config
