"""Each measurement in a fresh process, so none inherits another's imports, caches, threads or
peak memory."""

import multiprocessing
from collections.abc import Callable


def in_fresh_process(what: str, target: Callable, *args) -> dict:
    """Runs `target(*args, queue)` in a spawned process and returns the dict it puts on the queue.
    A target that fails puts {"error": ...} there first (the parent would wait forever otherwise),
    raised here as a RuntimeError naming `what` failed."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    if "error" in result:
        raise RuntimeError(f"{what} failed: {result['error']}")
    return result
