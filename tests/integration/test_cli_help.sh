#!/usr/bin/env bash
# The command lines' own documentation: `esgnode COMMAND --help` (and
# `esgnode help COMMAND`) explains every option the command accepts -- the
# options are read from the getopt tables of node/main.c, so a new option
# without help fails here --; --version prints the project's version on
# both binaries; unknown commands and bad values are refused with one line
# naming the code and pointing to the help.
. "$(dirname "$0")/lib.sh"

python3 - "$ESGNODE" "$ESGWALLET" "$ESG_SRC_DIR" <<'PY'
import re, subprocess, sys
esgnode, esgwallet, src = sys.argv[1:4]

def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=30)

version = re.search(r"project\(esgledger VERSION ([0-9.]+)",
                    open(src + "/CMakeLists.txt").read()).group(1)
for binary, name in ((esgnode, "esgnode"), (esgwallet, "esgwallet")):
    p = run(binary, "--version")
    assert p.returncode == 0 and p.stdout == f"{name} {version}\n", (name, p)
print("ok: --version of both binaries is", version)

# Each command function's getopt table, and the words that select it.
main_c = open(src + "/node/main.c").read()
commands = {"cmd_key_new": ["key", "new"], "cmd_genesis_new": ["genesis", "new"],
            "cmd_init": ["init"], "cmd_run": ["run"], "cmd_verify_chain": ["verify-chain"]}
for fn, words in commands.items():
    body = re.search(r"static int %s\(int argc, char \*\*argv\) \{(.*?)\n\}\n" % fn,
                     main_c, re.S).group(1)
    opts = re.findall(r'\{"([a-z0-9-]+)", (?:required|no)_argument', body)
    assert opts, fn
    for how in (words + ["--help"], words + ["-h"], ["help"] + words):
        p = run(esgnode, *how)
        assert p.returncode == 0 and p.stderr == "", (how, p)
        assert p.stdout.startswith("usage: esgnode " + " ".join(words) + " "), (how, p.stdout)
    text = p.stdout
    missing = [o for o in opts if "--" + o not in text]
    assert not missing, (words, "options without help:", missing)
    assert all(len(line) <= 90 for line in text.splitlines()), (words, "line too long")
    print("ok: esgnode %s --help explains %s" % (" ".join(words), ", ".join("--" + o for o in opts)))

# The overview lists every command and points to the per-command help.
p = run(esgnode, "--help")
assert p.returncode == 0 and "COMMAND --help" in p.stdout, p
for words in commands.values():
    assert "  " + " ".join(words) + " " in p.stdout, words
p = run(esgnode)
assert p.returncode == 2 and p.stdout == "" and p.stderr.startswith("usage: esgnode"), p
print("ok: esgnode --help lists the commands; no command is a usage error (exit 2)")

for args, needle in ((["help", "nope"], "unknown command 'nope' (see esgnode --help)"),
                     (["nope", "--help"], "unknown command 'nope' (see esgnode --help)"),
                     (["run", "--bogus"], "unknown option '--bogus' (see esgnode run --help)"),
                     (["run"], "run needs --datadir DIR (see esgnode run --help)"),
                     (["verify-chain", "--datadir", "/nonexistent", "--threads", "0"],
                      "--threads '0' is not a number 1..1024"),
                     (["verify-chain", "--datadir", "/nonexistent", "--threads", "2x"],
                      "--threads '2x' is not a number 1..1024"),
                     (["key", "new"], "(see esgnode key new --help)")):
    p = run(esgnode, *args)
    assert p.returncode == 1 and p.stdout == "", (args, p)
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("esgnode: ERR_INVALID_ARGUMENT: ") and \
        needle in lines[0], (args, p.stderr)
    print("ok: esgnode %s: %s" % (" ".join(args), lines[0]))
PY
pass "cli_help"
