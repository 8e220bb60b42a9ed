#!/usr/bin/env python3
"""ontty.py FILE CMD [ARG...]: runs CMD with its stderr on a pseudo-terminal
(TERM=xterm) and writes what appeared there, byte for byte, to FILE; CMD's
stdout is this script's. Exits with CMD's status. For the tests of what a
program draws only on a terminal (ledger/progress.h's line)."""
import os
import subprocess
import sys
import threading

out_path, cmd = sys.argv[1], sys.argv[2:]
master, slave = os.openpty()
got = bytearray()


def drain():
    # Read while CMD runs, so that it never blocks on a full terminal.
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the last writer has closed the slave
            return
        if not chunk:
            return
        got.extend(chunk)


reader = threading.Thread(target=drain)
reader.start()
env = dict(os.environ, TERM="xterm")
p = subprocess.run(cmd, stderr=slave, env=env)
os.close(slave)
reader.join(timeout=30)
os.close(master)
with open(out_path, "wb") as f:
    f.write(got)
sys.exit(p.returncode)
