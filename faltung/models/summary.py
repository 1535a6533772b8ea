"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

Param # of a layer is every weight it owns (a Conv2D: kh·kw·C_in·C_out + C_out);
Trainable/Non-trainable split the total by each weight's ``trainable`` flag
(BatchNormalization's moving mean and variance are non-trainable). A functional
model gets a fourth column, "Connected to", naming each node's input layers.
"""
from ..layers.input_layer import InputLayer


def _shape_text(shape):
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _bytes_text(n_bytes):
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.2f} {unit}"
    return f"{n_bytes:.2f} B"


def _rows(model, functional):
    """One row per node of the model (one per layer for a Sequential)."""
    rows = []
    if not model.built:
        return [[f"{layer.name} ({type(layer).__name__})", "?", "0 (unbuilt)"] + ([""] if functional else [])
                for layer in model.layers]
    nodes = [t.node for t in model.inputs] + list(model._compute_nodes)
    counted = set()
    for node in nodes:
        layer = node.layer
        if not functional and isinstance(layer, InputLayer):
            continue
        params = 0 if id(layer) in counted else layer.count_params()
        counted.add(id(layer))
        row = [f"{layer.name} ({type(layer).__name__})", _shape_text(node.output.shape), f"{params:,}"]
        if functional:
            sources = []
            for t in node.inputs:
                index = t.node.layer._inbound_nodes.index(t.node)
                sources.append(f"{t.node.layer.name}[{index}][0]")
            row.append(sources if sources else ["-"])
        rows.append(row)
    return rows


def summary_lines(model, line_length=None):
    """The summary as a list of lines."""
    functional = type(model).__name__ != "Sequential"
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if functional else [])
    rows = _rows(model, functional)
    # Keras 3's column widths, or the line length shared out among the columns
    minimum = [33, 24, 15, 20] if line_length is None else [max(12, line_length // len(headers))] * 4
    widths = []
    for col, header in enumerate(headers):
        cells = [r[col] for r in rows]
        longest = max([len(c) for cell in cells for c in (cell if isinstance(cell, list) else [cell])] or [0])
        widths.append(max(minimum[col], longest + 2, len(header) + 2))

    def line(cells, left, sep, right, right_align=2):
        out = []
        for col, (cell, width) in enumerate(zip(cells, widths)):
            text = f" {cell}".ljust(width) if col != right_align else f"{cell} ".rjust(width)
            out.append(text)
        return left + sep.join(out) + right

    def rule(left, fill, sep, right):
        return left + sep.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "━", "┳", "┓"), line(headers, "┃", "┃", "┃"),
             rule("┡", "━", "╇", "┩")]
    for i, row in enumerate(rows):
        extra = row[3] if functional else [""]
        for k, source in enumerate(extra):
            cells = row[:3] if k == 0 else ["", "", ""]
            cells = cells + ([source] if functional else [])
            if k > 0:
                lines.append(line(cells, "│", "│", "│", right_align=-1))
            else:
                lines.append(line(cells, "│", "│", "│"))
        if i < len(rows) - 1:
            lines.append(rule("├", "─", "┼", "┤"))
    lines.append(rule("└", "─", "┴", "┘"))
    trainable = sum(w.size for w in model.trainable_weights) if model.built else 0
    total = model.count_params() if model.built else 0
    non_trainable = total - trainable

    def size(weights):
        return sum(w.nbytes for w in weights) if model.built else 0
    lines.append(f" Total params: {total:,} ({_bytes_text(size(model.weights))})")
    lines.append(f" Trainable params: {trainable:,} ({_bytes_text(size(model.trainable_weights))})")
    lines.append(f" Non-trainable params: {non_trainable:,} "
                 f"({_bytes_text(size(model.non_trainable_weights))})")
    return lines


def print_summary(model, line_length=None, print_fn=None):
    """Print the summary with ``print_fn(line)`` for each line (``print`` by default)."""
    print_fn = print_fn or print
    for text in summary_lines(model, line_length):
        print_fn(text)
