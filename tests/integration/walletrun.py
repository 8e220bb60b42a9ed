"""The integration tests' way of running esgwallet from Python: lib.sh puts
this directory on PYTHONPATH."""
import json
import subprocess
import sys


def runner(w):
    """run(*args) for the wallet command line `w` (a list: the binary and
    its global options): runs it with --json and returns the parsed output
    ({} when it prints nothing); on a non-zero exit the test stops with
    FAIL and the wallet's error line."""
    def run(*args):
        p = subprocess.run(w + ["--json"] + list(args), capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"FAIL: esgwallet {' '.join(args)}: {p.stderr.strip()}")
        return json.loads(p.stdout) if p.stdout.strip() else {}
    return run
