#!/usr/bin/env bash
# The command lines' own documentation: `esgnode COMMAND --help` (and
# `esgnode help COMMAND`) explains every option the command accepts -- the
# options are read from the getopt tables of node/main.c, so a new option
# without help fails here --; --version prints the project's version on
# both binaries; unknown commands and bad values are refused with one line
# naming the code and pointing to the help. The same for esgwallet, whose
# options come from its command tables (esgwallet --list-commands); a
# passphrase it cannot get says how to give one.
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

# esgwallet: every command of `esgwallet --help`'s list explains, in
# `esgwallet COMMAND --help`, every option its row of the command tables
# accepts. The rows' options come from `esgwallet --list-commands`
# (wallet/cli.h), which prints the very lists the argument parser checks.
p = run(esgwallet, "--help")
assert p.returncode == 0 and p.stderr == "" and "COMMAND --help" in p.stdout, p
listed = p.stdout.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
help_paths = []
for line in listed:
    assert line.startswith("  "), line
    words = []
    for w in line[2:].split(" "):
        if not re.fullmatch(r"[a-z][a-z-]*", w):
            break
        words.append(w)
    help_paths.append(" ".join(words))
p = run(esgwallet, "--list-commands")
assert p.returncode == 0 and p.stderr == "", p
rows = [l.split("\t") for l in p.stdout.splitlines()]
assert all(len(r) == 4 for r in rows), rows
assert rows[0][0] == "" and "--node" in rows[0][1].split() and "--json" in rows[0][2].split()
rows = {r[0]: (r[1].split() + r[2].split()) for r in rows[1:]}
assert sorted(help_paths) == sorted(rows), (set(help_paths) ^ set(rows))
assert len(help_paths) == len(set(help_paths)), "a command is listed twice"

def mentions(text, opt):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text) is not None

for path in help_paths:
    opts = rows[path]
    for flag in ("--help", "-h"):
        p = run(esgwallet, *path.split(), flag)
        assert p.returncode == 0 and p.stderr == "", (path, flag, p)
        assert re.match(r"usage: esgwallet %s[ \n]" % re.escape(path), p.stdout), (path, p.stdout)
    text = p.stdout
    # The command's own paragraph comes right after the usage line(s).
    body = text.split("\n\n", 1)[1]
    assert not body.startswith(("Options of every", "Global options")), (path, "no help text")
    missing = [o for o in opts if not mentions(text, o)]
    assert not missing, (path, "options without help:", missing)
    for o in ("--json", "--help"):
        assert mentions(text, o), (path, o)
    long = [l for l in text.splitlines() if len(l) > 90]
    assert not long, (path, "lines over 90 columns:", long)
    print("ok: esgwallet %s --help explains %s" % (path, ", ".join(opts) or "no option"))

# What applies where: the node, the passphrase, the KDF.
def helptext(*words):
    return run(esgwallet, *words, "--help").stdout
for words, present, absent in (
        (["key", "new"], ["ESGWALLET_PASSPHRASE", "ESGWALLET_KDF", "--keystore"],
         ["ESGWALLET_NODE"]),
        (["status"], ["ESGWALLET_NODE", "--node"], ["ESGWALLET_PASSPHRASE", "ESGWALLET_KDF"]),
        (["member", "vote"], ["ESGWALLET_NODE", "ESGWALLET_PASSPHRASE", "--passphrase-file",
                              "--no-wait", "--chain-id", "--nonce", "-o FILE"],
         ["ESGWALLET_KDF"]),
        (["tx", "sign"], ["--force", "ERR_UNEXPECTED_SIGNATURE", "ESGWALLET_PASSPHRASE"], [])):
    t = helptext(*words)
    assert all(x in t for x in present) and not any(x in t for x in absent), (words, t)
print("ok: each command's help explains the global options and variables that apply to it")
PY

# A passphrase that cannot be had says how to give one: no terminal (a new
# session has none), no ESGWALLET_PASSPHRASE, no --passphrase-file.
python3 - "$ESGWALLET" "$T/keys" <<'PY'
import os, subprocess, sys
env = {k: v for k, v in os.environ.items() if k != "ESGWALLET_PASSPHRASE"}
p = subprocess.run([sys.argv[1], "--keystore", sys.argv[2], "key", "new", "k"], env=env,
                   capture_output=True, text=True, timeout=30, start_new_session=True,
                   stdin=subprocess.DEVNULL)
assert p.returncode == 1 and p.stdout == "" and len(p.stderr.splitlines()) == 1, p
for needle in ("esgwallet: ERR_INVALID_ARGUMENT: no passphrase for key 'k'",
               "--passphrase-file FILE", "ESGWALLET_PASSPHRASE", "on a terminal to be prompted"):
    assert needle in p.stderr, (needle, p.stderr)
print("ok: without a terminal:", p.stderr.strip())
PY

pass "cli_help"
