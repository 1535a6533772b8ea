"""A model's architecture as JSON, and the model back from it.

Sequential: ``{"class_name": "Sequential", "name", "layers": [layer specs], "build_input_shape"}``.
Functional: ``{"class_name": "Functional", "name", "layers": [...], "nodes": [...],
"inputs": [...], "outputs": [...]}`` where each node is ``{"layer": name, "inputs":
[node positions], "multi_input": bool}`` in topological order, so the graph is rebuilt
by calling each layer on the symbolic outputs of earlier nodes.
Layer specs are ``faltung.layers.serialize``'s ``{"class_name", "config"}``;
``faltung.layers.deserialize`` only creates registered faltung layer classes.
"""
import numpy as np


def model_config(model):
    from ..layers import serialize
    from .sequential import Sequential
    layers = [serialize(layer) for layer in model.layers]
    if isinstance(model, Sequential):
        shape = list(model.inputs[0].shape) if model.built else None
        return {"class_name": "Sequential", "name": model.name, "layers": layers,
                "build_input_shape": shape}
    nodes = [t.node for t in model.inputs] + list(model._compute_nodes)
    position = {node.id: i for i, node in enumerate(nodes)}
    return {"class_name": "Functional", "name": model.name, "layers": layers,
            "nodes": [{"layer": n.layer.name, "inputs": [position[p.id] for p in n.parents],
                       "multi_input": n.multi_input} for n in nodes],
            "inputs": [position[t.node.id] for t in model.inputs],
            "outputs": [position[t.node.id] for t in model.outputs],
            "nested_inputs": model._nested_inputs, "nested_outputs": model._nested_outputs}


def build_from_config(config):
    """A new, uncompiled model from ``model_config``'s output (ValueError if inconsistent)."""
    from ..layers import deserialize
    from .functional import Model
    from .sequential import Sequential
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("config.json: expected a model config with a 'layers' list")
    layers = [deserialize(spec) for spec in config["layers"]]
    kind = config.get("class_name")
    if kind == "Sequential":
        model = Sequential(name=config.get("name"))
        for layer in layers:
            model.add(layer)
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model
    if kind != "Functional":
        raise ValueError(f"config.json: expected class_name 'Sequential' or 'Functional', got {kind!r}")
    by_name = {layer.name: layer for layer in layers}
    tensors = []
    for spec in config["nodes"]:
        layer = by_name[spec["layer"]]
        if any(not isinstance(i, int) or not 0 <= i < len(tensors) for i in spec["inputs"]):
            raise ValueError("config.json: a node refers to a later node (not topological)")
        sources = [tensors[i] for i in spec["inputs"]]
        if not sources:
            tensors.append(layer.output)
        else:
            tensors.append(layer(sources if spec["multi_input"] else sources[0]))
    inputs = [tensors[i] for i in config["inputs"]]
    outputs = [tensors[i] for i in config["outputs"]]
    return Model(inputs=inputs if config.get("nested_inputs", True) else inputs[0],
                 outputs=outputs if config.get("nested_outputs", True) else outputs[0],
                 name=config.get("name"))


def training_state(model):
    """What a resumed ``fit`` needs besides weights and optimizer: JSON-friendly."""
    generators = {}
    for layer in model.layers:
        gen = getattr(layer, "_generator", None)
        if isinstance(gen, np.random.Generator):
            generators[layer.name] = gen.bit_generator.state
    return {"epochs_trained": model._epochs_trained, "shuffle_seed": model._shuffle_seed,
            "layer_generators": generators}


def set_training_state(model, state):
    model._epochs_trained = int(state.get("epochs_trained", 0))
    seed = state.get("shuffle_seed")
    model._shuffle_seed = None if seed is None else int(seed)
    for name, gen_state in (state.get("layer_generators") or {}).items():
        gen = getattr(model.get_layer(name), "_generator", None)
        if isinstance(gen, np.random.Generator):
            if gen_state.get("bit_generator") != type(gen.bit_generator).__name__:
                raise ValueError(f"compile.json: layer {name!r} generator state is for "
                                 f"{gen_state.get('bit_generator')!r}")
            gen.bit_generator.state = gen_state
