"""``faltung explore [RUN_OR_MODEL] [--host 127.0.0.1] [--port 8000] [--no-browser]``.

Without an argument it opens the LeNet-5 shipped in faltung/applications/pretrained/
(trained on MNIST by faltung's own CLI; see the README there).
"""
import errno
import json
import os
import sys
import threading
import time
import webbrowser
from pathlib import Path

PRETRAINED_DIR = Path(__file__).resolve().parent.parent / "applications" / "pretrained"
DEFAULT_MODEL = PRETRAINED_DIR / "lenet5_mnist.faltung"
DEFAULT_RUN_INFO = PRETRAINED_DIR / "lenet5_mnist.json"


def add_arguments(parser):
    """Add the explore sub-command's arguments to an argparse parser."""
    parser.add_argument("run", nargs="?", default=None, metavar="RUN_OR_MODEL",
                        help="a run directory (model.faltung + run.json) or a model file; "
                             "default: the shipped LeNet-5 trained on MNIST")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    from ..cli.arguments import port_number
    parser.add_argument("--port", type=port_number, default=8000, help="port (default 8000; 0 = any free port)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    return parser


def load_model_and_info(path=None):
    """(model, run_info or None) for a run directory, a model file, or (None) the shipped LeNet-5."""
    from ..models import load_model
    if path is None:
        if not DEFAULT_MODEL.exists():
            raise ValueError(f"explore: the shipped model {DEFAULT_MODEL} is missing; "
                             "give a run directory or a model file")
        info = json.loads(DEFAULT_RUN_INFO.read_text()) if DEFAULT_RUN_INFO.exists() else None
        return load_model(str(DEFAULT_MODEL)), info
    from ..cli.runs import resolve
    model_path, info = resolve(path)
    return load_model(str(model_path)), info


def _cannot_bind(host, port):
    """Why ``host:port`` cannot be served (e.g. "address already in use"), or None if it can."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.create_server((host, port), family=family):
            return None
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return "the port is already in use (choose another --port, or --port 0 for any free port)"
        return f"{os.strerror(error.errno)}" if error.errno else str(error)


def run(args):
    """Start the server for ``args`` (from ``add_arguments``); returns the exit status."""
    import uvicorn

    from .server import create_app
    try:
        model, info = load_model_and_info(args.run)
        app = create_app(model, info)
    except (ValueError, OSError) as error:
        print(f"faltung explore: error: {error}", file=sys.stderr)
        return 2
    problem = _cannot_bind(args.host, args.port)
    if problem:
        print(f"faltung explore: error: cannot serve on {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 1  # as when uvicorn itself cannot bind (below)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning")
    server = uvicorn.Server(config)

    def announce():
        # wait until uvicorn has bound the socket, then print the real URL (port 0 = any free port)
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if not server.started:
            return
        port = server.servers[0].sockets[0].getsockname()[1] if server.servers else args.port
        host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{port}/"
        print(f"faltung explore: serving {getattr(model, 'name', 'model')} at {url}  (Ctrl+C to stop)",
              flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.run()
    except SystemExit:           # uvicorn exits when it cannot bind (it has logged why)
        pass
    if not server.started:
        print(f"faltung explore: could not serve on {args.host}:{args.port}", file=sys.stderr)
        return 1
    return 0
