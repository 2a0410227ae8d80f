"""The validation worker (see :mod:`pipelines.quality.gx`): imports great_expectations, then
answers one request per pickle read from stdin until stdin closes.

A request is ``(suite name, polars frame, expectation specs)``; the reply is
``("ok", SuiteOutcome)`` or ``("error", message)``. Whatever GX prints goes to stderr: stdout
carries only replies.
"""

from __future__ import annotations

import os
import pickle
import sys


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    from pipelines.quality import gx

    gx._context()  # the import and the context, before the first request arrives
    while True:
        try:
            name, frame, expectations = pickle.load(requests)
        except EOFError:
            # the run is over: skip the interpreter's teardown of GX's thousands of modules
            # (~0.8 s), there is nothing to flush or close
            replies.close()
            os._exit(0)
        try:
            reply: tuple = ("ok", gx.validate_here(name, frame, expectations))
        except Exception as exc:  # noqa: BLE001 - reported to the check, which fails
            reply = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


if __name__ == "__main__":
    sys.exit(main())
