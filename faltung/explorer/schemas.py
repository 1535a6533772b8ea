"""The explorer's JSON API: request and response models (they document /docs and /openapi.json)."""
from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field


class LayerInfo(BaseModel):
    """One layer of the model as the page draws it."""
    model_config = ConfigDict(extra="allow")
    index: int = Field(description="position in the explorer's layer list (0 = first layer after the input)")
    name: str
    type: str = Field(description="Keras class name, e.g. Conv2D")
    kind: str = Field(description="how it computes: conv, max_pool, avg_pool, dense, flatten, identity, ...")
    input_shape: Optional[list] = Field(description="shape of one sample's input, no batch axis")
    output_shape: list = Field(description="shape of one sample's output, no batch axis")
    params: int
    input_layer: Optional[int] = Field(description="index of the layer feeding this one (-1: the model "
                                       "input; null: several inputs)")
    input_layers: list[int] = Field(description="indices of all layers feeding this one")


class ModelInfo(BaseModel):
    name: str
    input_shape: list = Field(description="(H, W, C) of the model's input")
    image_shape: list = Field(description="(h, w, C) of an image before run.json's padding; "
                              "`pixels` for /api/predict have this shape")
    class_names: list[str]
    dataset: Optional[str] = Field(description="the data set the run was trained on, if known")
    preprocessing: Optional[Union[str, dict]] = Field(
        description="how 0..255 pixels become the model input (run.json's preprocessing)")
    params: int
    layers: list[LayerInfo]
    samples_available: bool = Field(description="whether GET /api/samples can serve test images")


class PredictRequest(BaseModel):
    """Exactly one of image, pixels, sample."""
    image: Optional[str] = Field(None, description="a PNG/JPEG as a data: URL or bare base64 "
                                 "(e.g. the drawing canvas)", max_length=7_000_000)
    pixels: Optional[list] = Field(None, description="(h, w) or (h, w, C) numbers in 0..255 at "
                                   "/api/model's image_shape")
    sample: Optional[int] = Field(None, description="index of a test image of the run's data set")
    fit: Literal["auto", "digit", "resize"] = Field(
        "auto", description="for image: 'digit' centres a drawing MNIST-style (20x20 box, centre of "
        "mass), 'resize' just scales; 'auto' = digit for single-channel models")


class ActivationData(BaseModel):
    """One tensor, compactly: uint8 per channel, base64, channel-major (C, H, W).
    value ≈ lo[c] + q / 255 · (hi[c] − lo[c])."""
    shape: list[int]
    lo: list[float]
    hi: list[float]
    data: str
    min: float
    max: float
    values: Optional[list[float]] = Field(None, description="exact values for small vectors")


class PredictResponse(BaseModel):
    trace_id: str = Field(description="pass it to POST /api/neuron to inspect this forward pass")
    input: ActivationData = Field(description="the model input as the network sees it (padding "
                                  "included), shown in 0..255, (H, W, C)")
    input_png: str = Field(description="the same as a PNG data URL")
    layers: list[ActivationData] = Field(description="every layer's output, in /api/model's order")
    probabilities: list[float] = Field(description="the last layer's output (softmax of it if the "
                                       "model ends in logits)")
    top_class: int
    top_name: str
    label: Optional[int] = Field(None, description="the true label, for data set samples")
    elapsed_ms: float = Field(description="server time for decoding, forward pass and encoding")


class NeuronRequest(BaseModel):
    layer: Union[int, str] = Field(description="layer name or index")
    position: list[int] = Field(description="(row, column, channel) for feature maps, (unit,) for vectors")
    trace_id: Optional[str] = Field(None, description="from POST /api/predict; default: the latest")


class NeuronExplanation(BaseModel):
    """The arithmetic of one neuron; the fields after `value` depend on `kind` (see faltung.explorer.inspect)."""
    model_config = ConfigDict(extra="allow")
    layer: str
    layer_type: str
    kind: str
    position: list[int]
    value: float = Field(description="what the forward pass produced")
    result: Optional[float] = Field(None, description="the value recomputed from the shown arithmetic")
    matches: Optional[bool] = None
    formula: str
    input_field: Optional[dict] = Field(None, description="the region {y0, y1, x0, x1} of the model "
                                        "input this neuron depends on (conv/pooling paths only)")


class FiltersResponse(BaseModel):
    layer: str
    shape: list[int] = Field(description="kernel shape (kh, kw, C_in, C_out)")
    kernel: str = Field(description="the kernel as little-endian float32, base64, C order")
    bias: list[float]
    min: float
    max: float


class Sample(BaseModel):
    index: int
    label: int
    label_name: str
    image: str = Field(description="PNG data URL")


class SamplesResponse(BaseModel):
    dataset: str
    count: int = Field(description="how many test images the data set has")
    samples: list[Sample]
