"""A peer written from docs/protocol.md alone, with the standard library only (no memview import).

It implements four operations, view_open, memfd_create, file_create and close, for any process,
with the model's numbering (lowest free fd; process 0 is A, 1..clients the clients), and claims no
decision. Its modes misbehave at the transport level, where the reference peer's --fault cannot:

    python tests/peers/standalone.py [MODE [ARG]]

    ok                   behave (the default)
    v2                   answer the hello with protocol 2
    mismatch             claim sizing=inode, whatever the design asks
    flood                answer step 0 with an endless line (no newline, ever)
    partial-exit         answer step 0 with half a line, then exit with status 1
    stderr-flood         write 1 MiB to stderr before the hello, then behave
    extra-line           answer step 0 twice (so step 1 reads an answer for step 0)
    grandchild PIDFILE   start a sleeping grandchild (in this process group), write its pid to
                         PIDFILE, answer the hello, then go silent
    no-read              answer the hello, then never read or write again
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

EBADF, ENFILE, EMFILE, ESRCH = "EBADF", "ENFILE", "EMFILE", "ESRCH"


def send(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    if mode == "stderr-flood":
        for _ in range(1024):
            sys.stderr.write("x" * 1023 + "\n")
        sys.stderr.flush()
    fds: list[list[bool]] = []  # per process: which fd slots are open
    objects_left = 0
    alive = 0  # processes 0..alive-1 exist
    view_exists = False
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["type"] == "bye":
            return 0
        if msg["type"] == "hello":
            config = msg["config"]
            fds = [[False] * config["fds"] for _ in range(1 + config["clients"] + config["fork_slots"])]
            objects_left = config["objects"]
            alive = 1 + config["clients"]
            decisions = {"sizing": "inode"} if mode == "mismatch" else {}
            send({"type": "hello", "protocol": 2 if mode == "v2" else 1, "implementation": f"standalone {mode}",
                  "operations": ["view_open", "memfd_create", "file_create", "close"], "decisions": decisions})
            if mode == "grandchild":
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
                with open(sys.argv[2], "w") as out:
                    out.write(str(child.pid))
                while True:
                    time.sleep(3600)
            if mode == "no-read":
                while True:
                    time.sleep(3600)
            continue
        step, act = msg["step"], msg["action"]
        if mode == "flood" and step == 0:
            while True:
                sys.stdout.write("x" * 65536)
                sys.stdout.flush()
        if mode == "partial-exit" and step == 0:
            sys.stdout.write('{"type":"obs","st')
            sys.stdout.flush()
            return 1
        proc = act["proc"]
        if proc >= alive:
            result: dict[str, object] = {"outcome": "errno", "errno": ESRCH}
        elif act["op"] == "close":
            fd = act["fd"]
            if fd < len(fds[proc]) and fds[proc][fd]:
                fds[proc][fd] = False
                result = {"outcome": "ok", "value": 0}
            else:
                result = {"outcome": "errno", "errno": EBADF}
        else:
            free = [i for i, used in enumerate(fds[proc]) if not used]
            table_full = view_exists if act["op"] == "view_open" else objects_left == 0
            if table_full:
                result = {"outcome": "errno", "errno": ENFILE}
            elif not free:
                result = {"outcome": "errno", "errno": EMFILE}
            else:
                fds[proc][free[0]] = True
                if act["op"] == "view_open":
                    view_exists = True
                else:
                    objects_left -= 1
                result = {"outcome": "ok", "value": free[0]}
        send({"type": "obs", "step": step, "observation": result})
        if mode == "extra-line" and step == 0:
            send({"type": "obs", "step": step, "observation": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
