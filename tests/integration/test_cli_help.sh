#!/usr/bin/env bash
# The command lines' own documentation: `esgnode COMMAND --help` (and
# `esgnode help COMMAND`) explains every option the command accepts -- the
# options are read from the getopt tables of node/main.c, so a new option
# without help fails here --; --version prints the project's version on
# both binaries; unknown commands and bad values are refused with one line
# naming the code and pointing to the help. The same for esgwallet, whose
# options come from its command tables (esgwallet --list-commands); a
# passphrase it cannot get says how to give one; and the bash completion of
# both (scripts/completion/) registers and completes.
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

# Bash completion (scripts/completion/): both scripts register, complete
# command words, sub-words and options; esgnode's options are those of
# node/main.c's getopt tables, esgwallet's are read from the binary.
ESGNODE_OPTS=$(python3 - "$ESG_SRC_DIR" <<'PY'
import re, sys
main_c = open(sys.argv[1] + "/node/main.c").read()
for fn, words in {"cmd_key_new": "key new", "cmd_genesis_new": "genesis new",
                  "cmd_init": "init", "cmd_run": "run", "cmd_verify_chain": "verify-chain"}.items():
    body = re.search(r"static int %s\(int argc, char \*\*argv\) \{(.*?)\n\}\n" % fn,
                     main_c, re.S).group(1)
    opts = ["--" + o for o in re.findall(r'\{"([a-z0-9-]+)", (?:required|no)_argument', body)]
    short = re.search(r'getopt_long\(argc, argv, "([^"]*)"', body).group(1)
    opts += ["-" + c for c in short if c != ":"]
    print(words + "=" + " ".join(sorted(opts)))
PY
)
PATH=$ESG_BIN_DIR:$PATH ESGNODE_OPTS=$ESGNODE_OPTS bash --norc --noprofile -c '
set -u
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$ESG_SRC_DIR/scripts/completion/esgnode.bash"
. "$ESG_SRC_DIR/scripts/completion/esgwallet.bash"
complete -p esgnode esgwallet >/dev/null || fail "complete -p esgnode esgwallet"
[[ $(complete -p esgnode) == *"-F _esgnode esgnode" ]] || fail "esgnode: $(complete -p esgnode)"
[[ $(complete -p esgwallet) == *"-F _esgwallet esgwallet" ]] || fail "esgwallet registration"
# comp FUNCTION WORDS...: the completions of the last word.
comp() {
    local f=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$f"
    echo "${COMPREPLY[*]}"
}
has() { [[ " $1 " == *" $2 "* ]] || fail "completing [$3] offers [$1], not $2"; }
[[ $(comp _esgwallet esgwallet imp) == impact ]] || fail "esgwallet imp: $(comp _esgwallet esgwallet imp)"
has "$(comp _esgwallet esgwallet --json member propose add-m)" add-member "member propose add-m"
has "$(comp _esgwallet esgwallet tx sign f.tx --)" --force "tx sign f.tx --"
has "$(comp _esgwallet esgwallet tx sign f.tx --)" --key "tx sign f.tx --"
has "$(comp _esgwallet esgwallet instrument pay X --kind "")" redemption "--kind"
has "$(comp _esgwallet esgwallet --node http://127.0.0.1:1 st)" status "--node URL st"
# As readline splits it, at the colons too (COMP_LINE says what was typed).
COMP_WORDS=(esgwallet --node http : //127.0.0.1 : 1 st)
COMP_CWORD=7
COMP_LINE="esgwallet --node http://127.0.0.1:1 st"
COMP_POINT=${#COMP_LINE}
_esgwallet
[[ ${COMPREPLY[*]} == status ]] || fail "--node http://127.0.0.1:1 st split at colons"
# Every command of the tables is reached word by word.
while IFS= read -r path; do
    [[ -n $path ]] || continue
    read -ra w <<<"$path"
    for ((i = 0; i < ${#w[@]}; i++)); do
        has "$(comp _esgwallet esgwallet "${w[@]:0:i}" "${w[i]:0:2}")" "${w[i]}" "$path"
    done
done < <(esgwallet --list-commands | cut -f1)
echo "ok: esgwallet completion: commands, sub-words, options and values"
[[ $(comp _esgnode esgnode ver) == verify-chain ]] || fail "esgnode ver: $(comp _esgnode esgnode ver)"
has "$(comp _esgnode esgnode help "")" genesis "help"
has "$(comp _esgnode esgnode run --log-level "")" debug "run --log-level"
while IFS="=" read -r words want; do
    read -ra w <<<"$words"
    got=$(comp _esgnode esgnode "${w[@]}" -)
    got=$(tr " " "\n" <<<"$got" | grep -vx -- --help | sort | tr "\n" " ")
    want=$(tr " " "\n" <<<"$want" | sort | tr "\n" " ")
    [[ $got == "$want" ]] || fail "esgnode $words: completes [$got], getopt has [$want]"
done <<<"$ESGNODE_OPTS"
echo "ok: esgnode completion: commands, help COMMAND, values, and the getopt tables options"
' || fail "bash completion"
pass "cli_help"
