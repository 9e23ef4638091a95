"""`python -m neka.serve run_dir=outputs/<run>`: load the run once, then answer HTTP until stopped.

The listening socket is bound before uvicorn starts, so a taken port or an unknown host is a
one-line user error like a missing run folder or an unreadable checkpoint.
"""

import logging
import socket

import hydra
from omegaconf import DictConfig

from neka.cli.configs import CONFIG_PATH
from neka.cli.entry import run_command, user_errors
from neka.errors import NekaError
from neka.inference.onnx_backend import open_backend

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=CONFIG_PATH, config_name="serve")
def main(cfg: DictConfig) -> None:
    with user_errors():
        uvicorn, build_app = import_server()
        run = open_backend(cfg.backend, cfg.run_dir, cfg.ckpt, cfg.trust_checkpoint)
        app = build_app(run, cfg.batch_size, cfg.serve.max_texts, cfg.serve.max_bytes, cfg.serve.max_batch_rows,
                        cfg.serve.max_wait_ms)
        listener = listen(cfg.host, cfg.port)
    host, port = listener.getsockname()[:2]
    log.info("neka: serving %s (%s) at http://%s:%d/", run.run_dir, run.checkpoint.name, host, port)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, log_level="info",
                            access_log=cfg.access_log)
    uvicorn.Server(config).run(sockets=[listener])


def import_server():
    """FastAPI and uvicorn are an optional extra; without them, say how to install them."""
    try:
        import uvicorn

        from neka.serve.app import build_app
    except ModuleNotFoundError as error:
        raise NekaError(f"python -m neka.serve needs {error.name}, from the serve extra: "
                        f"pip install -e '.[serve]'") from None
    return uvicorn, build_app


def listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((host, port), family=family)
    except OSError as error:
        raise NekaError(f"host={host} port={port}: cannot listen there ({error.strerror or error}); choose another "
                        f"port (port=0 takes any free one) or host") from None
    # Connections inherit this. Without it every answer waited ~40 ms for the client's delayed
    # ACK (Nagle's algorithm holds back the body sent after the headers): GET /health took 44 ms.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def command() -> None:
    """`python -m neka.serve` and the console script `neka-serve`."""
    run_command(main, "serve")


if __name__ == "__main__":
    command()
