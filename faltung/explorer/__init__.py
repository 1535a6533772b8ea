"""``faltung explore``: a local web page that shows a trained CNN computing live.

Draw a digit (or upload an image, or pick a test image) and see every layer's feature
maps, the class probabilities, the arithmetic of any neuron (inspect.py), the filters
and a 3D view of the whole network. ``create_app(model, run_info)`` builds the FastAPI
app (server.py); ``command.run(args)`` is the CLI entry point (command.py).
"""


def create_app(model, run_info=None):
    """The explorer's FastAPI app for ``model`` (see faltung.explorer.server)."""
    from .server import create_app as _create_app
    return _create_app(model, run_info)
