#!/usr/bin/env bash
# Governance through esgwallet against a real esgnode on 127.0.0.1
# (contracts/governance.h, wallet/cli.h): four cities admit an investor by
# proposal and votes, the investor's admin adds an officer account, and
# every error path a user meets comes back as one stderr line naming its
# code. Also the offline multi-party file flow (-o, tx inspect, tx sign,
# tx submit). Needs ESG_BIN_DIR (the build dir holding esgnode and
# esgwallet); python3 and curl.
set -euo pipefail

BIN=${ESG_BIN_DIR:?ESG_BIN_DIR must name the build directory holding esgnode and esgwallet}
NODE=$BIN/esgnode
WALLET=$BIN/esgwallet
[[ -x $NODE && -x $WALLET ]] || { echo "FAIL: no esgnode/esgwallet in $BIN" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/esg-wallet-gov.XXXXXX")
NODE_PID=
cleanup() {
    local rc=$?
    if [[ -n $NODE_PID ]]; then
        kill "$NODE_PID" 2>/dev/null || true
        wait "$NODE_PID" 2>/dev/null || true
    fi
    if ((rc != 0)) && [[ -f $T/node.log ]]; then
        echo "--- last lines of the node's log" >&2
        tail -n 30 "$T/node.log" >&2 || true
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# jget EXPR: evaluates the Python expression EXPR over the JSON document
# on stdin (bound to d) and prints the result.
jget() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,bool) else str(r).lower())' "$1"
}

export ESGWALLET_KDF=fast ESGWALLET_PASSPHRASE=test
unset ESGWALLET_NODE
API_PORT=$(free_port)
P2P_PORT=$(free_port)
URL=http://127.0.0.1:$API_PORT
w() { "$WALLET" --keystore "$T/keys" --node "$URL" "$@"; }

# expect_err CODE WHAT COMMAND...: COMMAND must exit non-zero with exactly
# one stderr line "esgwallet: CODE: ..." and nothing on stdout.
expect_err() {
    local code=$1 what=$2 out rc=0
    shift 2
    out=$("$@" 2>"$T/stderr") || rc=$?
    local err
    err=$(cat "$T/stderr")
    ((rc != 0)) || fail "$what: exit status 0, expected $code (stdout: $out)"
    [[ $(wc -l <"$T/stderr") -eq 1 ]] || fail "$what: stderr is not one line: $err"
    [[ $err == "esgwallet: $code: "* ]] || fail "$what: expected $code, got: $err"
    [[ -z $out ]] || fail "$what: stdout is not empty: $out"
    echo "ok: $what -> $err"
}

# status_of PROPOSAL_ID: the proposal's status as the wallet reports it.
status_of() { w --json proposals "$1" | jget 'd["status"]'; }

# -------------------------------------------------------------- keys
step "wallet keys"
declare -A PK
for k in heraklion kavala thessaloniki trikala verifier inv-admin inv-officer spare; do
    w key new "$k" >/dev/null || fail "key new $k"
    PK[$k]=$(w --json key show "$k" | jget 'd["pubkey"]')
    [[ ${PK[$k]} =~ ^[0-9a-f]{64}$ ]] || fail "key show $k: bad pubkey '${PK[$k]}'"
done
w key list | grep -q "^inv-officer  *${PK[inv-officer]}$" || fail "key list does not show inv-officer"
expect_err ERR_KEY_EXISTS "key new of an existing name" w key new kavala

step "key import: a secret file readable by others is refused"
printf '%064x\n' 7 >"$T/secret.hex"
chmod 644 "$T/secret.hex"
expect_err ERR_KEY_PERMISSIONS "key import of a 0644 secret file" w key import imported --secret-file "$T/secret.hex"
chmod 600 "$T/secret.hex"
w key import imported --secret-file "$T/secret.hex" >/dev/null || fail "key import"

# ------------------------------------------------------------- chain
step "genesis, init, run"
VPK=$("$NODE" key new -o "$T/validator.json") || fail "esgnode key new"
"$NODE" genesis new --chain-id esg-it-gov -o "$T/genesis.json" \
    --member "city-heraklion:CITY:Heraklion:${PK[heraklion]}" \
    --member "city-kavala:CITY:Kavala:${PK[kavala]}" \
    --member "city-thessaloniki:CITY:Thessaloniki:${PK[thessaloniki]}" \
    --member "city-trikala:CITY:Trikala:${PK[trikala]}" \
    --member "verifier-a:VERIFIER:Verifier A:${PK[verifier]}" \
    --validator "$VPK:10:city-heraklion" \
    --accredit "verifier-a:climate" --population city-heraklion:211370 \
    --lei city-heraklion:529900T8BM49AURSDO55 || fail "esgnode genesis new"
"$NODE" init --genesis "$T/genesis.json" --datadir "$T/data" --key "$T/validator.json" \
    >/dev/null || fail "esgnode init"
"$NODE" run --datadir "$T/data" --api "127.0.0.1:$API_PORT" --p2p "127.0.0.1:$P2P_PORT" \
    >"$T/node.log" 2>&1 &
NODE_PID=$!
deadline=$((SECONDS + 30))
until curl -sf "$URL/v1/status" >/dev/null 2>&1; do
    kill -0 "$NODE_PID" 2>/dev/null || fail "esgnode exited before serving its API"
    ((SECONDS < deadline)) || fail "esgnode did not serve $URL/v1/status within 30 s"
    sleep 0.1
done
[[ $(w --json status | jget 'd["chain_id"]') == esg-it-gov ]] || fail "status: wrong chain_id"
w status | grep -q '^chain_id  *esg-it-gov$' || fail "status (human) does not show the chain id"

# ---------------------------------------------------- admit an investor
step "heraklion proposes to admit investor-acme"
out=$(w member propose add-member --id investor-acme --kind INVESTOR --name "Acme Capital" \
    --country GR --lei 5493001KJTIIGC8Y1R12 --admin-pubkey "${PK[inv-admin]}" \
    --description "first investor" --key heraklion) || fail "propose add-member"
echo "$out"
grep -Eq '^tx [0-9a-f]{64} committed at height [0-9]+$' <<<"$out" || fail "propose: no commit line"
P1=$(sed -n 's/^proposal \([0-9a-f]\{64\}\)$/\1/p' <<<"$out")
[[ -n $P1 ]] || fail "propose add-member printed no proposal id"
[[ $(grep '^tx ' <<<"$out" | cut -d' ' -f2) == "$P1" ]] || fail "proposal id is not the tx id"
[[ $(status_of "$P1") == OPEN ]] || fail "new proposal is not OPEN"

step "kavala approves: 2 of 4 cities, still OPEN"
w member vote "$P1" --approve --key kavala | grep -Eq '^tx [0-9a-f]{64} committed at height' ||
    fail "kavala's vote was not committed"
[[ $(status_of "$P1") == OPEN ]] || fail "proposal is not OPEN after 2 of 4 approvals"
[[ $(curl -sf "$URL/v1/proposals/$P1" | jget 'len(d["approvals"])') == 2 ]] ||
    fail "API does not show 2 approvals"

step "the same city cannot vote twice"
expect_err ERR_ALREADY_VOTED "kavala votes again" w member vote "$P1" --approve --key kavala
expect_err ERR_ALREADY_VOTED "the proposing city votes" w member vote "$P1" --reject --key heraklion

step "thessaloniki approves: 3 of 4, EXECUTED"
w member vote "$P1" --approve --key thessaloniki >/dev/null || fail "thessaloniki's vote"
[[ $(status_of "$P1") == EXECUTED ]] || fail "proposal is not EXECUTED after 3 of 4 approvals"
w proposals | grep -q "^$P1  *EXECUTED  *AddMember " || fail "proposals list does not show P1 EXECUTED"
expect_err ERR_PROPOSAL_CLOSED "a vote on a decided proposal" w member vote "$P1" --approve --key trikala

step "the investor's admin adds an officer account"
w member add-account --pubkey "${PK[inv-officer]}" --roles officer --key inv-admin >/dev/null ||
    fail "add-account by the investor admin"
m=$(w --json member show investor-acme)
[[ $(jget 'd["kind"]' <<<"$m") == INVESTOR ]] || fail "member show: kind is not INVESTOR"
[[ $(jget 'd["name"]' <<<"$m") == "Acme Capital" ]] || fail "member show: wrong name"
[[ $(jget 'sorted(a["pubkey"] for a in d["accounts"]) == sorted(["'"${PK[inv-admin]}"'", "'"${PK[inv-officer]}"'"])' <<<"$m") == true ]] ||
    fail "member show: accounts are not the admin and the officer"
[[ $(jget '[sorted(a["roles"]) for a in d["accounts"] if a["pubkey"]=="'"${PK[inv-officer]}"'"][0]' <<<"$m") == "['OFFICER']" ]] ||
    fail "member show: the officer's roles are not [OFFICER]"
[[ $(jget '[sorted(a["roles"]) for a in d["accounts"] if a["pubkey"]=="'"${PK[inv-admin]}"'"][0]' <<<"$m") == "['ADMIN', 'OFFICER']" ]] ||
    fail "member show: the admin's roles are not [ADMIN, OFFICER]"
curl -sf "$URL/v1/members" | jget '[m for m in d["members"] if m["id"]=="investor-acme"][0]["accounts"]' |
    grep -q "${PK[inv-officer]}" || fail "GET /v1/members does not list the officer account"
w member show investor-acme | grep -q "^  ${PK[inv-officer]}  OFFICER" ||
    fail "member show (human) does not list the officer"
[[ $(jget 'd["lei"]' <<<"$m") == 5493001KJTIIGC8Y1R12 ]] || fail "member show: the LEI proposed is not in the record"
w member show investor-acme | grep -q '^lei  *5493001KJTIIGC8Y1R12$' || fail "member show (human): no lei line"
w member show investor-acme | grep -q '^population  *-$' || fail "member show (human): an investor shows a population"
m=$(w --json member show city-heraklion)
[[ $(jget 'd["lei"]' <<<"$m") == 529900T8BM49AURSDO55 ]] || fail "member show: the genesis LEI is not in the record"
[[ $(jget 'int(d["population"])' <<<"$m") == 211370 ]] || fail "member show: the genesis population is not in the record"
w member show city-heraklion | grep -q '^population  *211370$' || fail "member show (human): no population line"
expect_err ERR_BAD_LEI "add-member with an LEI whose check digits are wrong" \
    w member propose add-member --id investor-bad --kind INVESTOR --name Bad \
    --lei 5493001KJTIIGC8Y1R13 --admin-pubkey "${PK[spare]}" --key heraklion
w member list | grep -Eq '^investor-acme +INVESTOR +Acme Capital +GR +2 +active$' ||
    fail "member list does not show investor-acme with 2 accounts"

# ------------------------------------------------------ authorization
step "authorization errors"
expect_err ERR_UNAUTHORIZED "an officer (not ADMIN) adds an account" \
    w member add-account --pubkey "${PK[spare]}" --roles officer --key inv-officer
expect_err ERR_UNAUTHORIZED "a non-city member proposes" \
    w member propose suspend-member --id city-trikala --key inv-admin
expect_err ERR_UNAUTHORIZED "a non-city member votes" \
    w member vote "$P1" --approve --key inv-admin
expect_err ERR_BAD_PUBKEY "add-account of a key that is not on the curve" \
    w member add-account --pubkey "$(printf 'f%.0s' {1..64})" --roles officer --key inv-admin

# ------------------------------------------- multi-party file flow (-o)
step "a second proposal, voted through files"
out=$(w member propose accredit --member verifier-a --categories energy,water --key heraklion)
P2=$(sed -n 's/^proposal //p' <<<"$out")
[[ $P2 =~ ^[0-9a-f]{64}$ ]] || fail "propose accredit printed no proposal id"

w member vote "$P2" --approve --key kavala -o "$T/vote.tx" | grep -q "written to $T/vote.tx" ||
    fail "vote -o did not write the file"
[[ -s $T/vote.tx ]] || fail "vote -o wrote nothing"
expect_err ERR_INVALID_ARGUMENT "-o onto an existing file" \
    w member vote "$P2" --approve --key kavala -o "$T/vote.tx"
ins=$(w --json tx inspect "$T/vote.tx")
[[ $(jget 'd["action"]' <<<"$ins") == Vote ]] || fail "inspect: action is not Vote"
[[ $(jget 'd["body"]["vote"]["proposal_id"]' <<<"$ins") == "$P2" ]] || fail "inspect: wrong proposal id"
[[ $(jget 'd["body"]["chain_id"]' <<<"$ins") == esg-it-gov ]] || fail "inspect: wrong chain id"
[[ $(jget '[(s["pubkey"], s["valid"], s["signer"]) for s in d["signatures"]] == [("'"${PK[kavala]}"'", True, True)]' <<<"$ins") == true ]] ||
    fail "inspect: the signer's valid signature is not the one signature present"
[[ $(jget 'd["complete"] and d["missing"] == []' <<<"$ins") == true ]] ||
    fail "inspect: a governance vote should need no other signature"
VOTE_ID=$(jget 'd["tx_id"]' <<<"$ins")
w tx inspect "$T/vote.tx" | grep -q "^  ${PK[kavala]}  valid  signer" ||
    fail "inspect (human) does not show the signer's valid signature"

step "tx sign refuses a signature the vote does not need, unless --force; the node refuses it"
expect_err ERR_UNEXPECTED_SIGNATURE "signing a vote with a key it does not need" \
    w tx sign "$T/vote.tx" --key thessaloniki -o "$T/vote2.tx"
[[ ! -e $T/vote2.tx ]] || fail "a refused tx sign left a file"
w tx sign "$T/vote.tx" --key thessaloniki -o "$T/vote2.tx" --force | grep -q "2 signatures" ||
    fail "tx sign --force -o did not add a signature"
expect_err ERR_DUPLICATE_SIGNATURE "signing twice with one key" \
    w tx sign "$T/vote2.tx" --key thessaloniki -o "$T/vote3.tx" --force
[[ ! -e $T/vote3.tx ]] || fail "a failed tx sign left a file"
[[ $(w --json tx inspect "$T/vote2.tx" | jget 'len(d["signatures"]) == 2 and d["signatures"][1]["unexpected"]') == true ]] ||
    fail "inspect does not flag the extra signature"
expect_err ERR_UNEXPECTED_SIGNATURE "submitting a vote with an extra signature" \
    w tx submit "$T/vote2.tx"

step "tx submit of the file commits the vote"
out=$(w tx submit "$T/vote.tx") || fail "tx submit"
[[ $out == "tx $VOTE_ID committed at height "* ]] || fail "tx submit: unexpected output: $out"
[[ $(curl -sf "$URL/v1/proposals/$P2" | jget '"city-kavala" in d["approvals"]') == true ]] ||
    fail "kavala's approval from the file is not recorded"
expect_err ERR_DUPLICATE_TX "submitting the same file again" w tx submit "$T/vote.tx"

step "a transaction built offline for another chain is refused"
NEXT=$(curl -sf "$URL/v1/accounts/${PK[thessaloniki]}" | jget 'd["next_nonce"]')
w member vote "$P2" --approve --key thessaloniki --chain-id other-chain --nonce "$NEXT" \
    -o "$T/wrong-chain.tx" >/dev/null || fail "offline build with --chain-id/--nonce"
[[ $(w --json tx inspect "$T/wrong-chain.tx" | jget 'd["body"]["chain_id"]') == other-chain ]] ||
    fail "offline build did not use --chain-id"
expect_err ERR_CHAIN_ID "submitting a tx for another chain" w tx submit "$T/wrong-chain.tx"
expect_err ERR_NONCE "a vote with a stale nonce" \
    w member vote "$P2" --approve --key thessaloniki --nonce 1

step "--no-wait returns once admitted; the proposal then executes"
out=$(w member vote "$P2" --approve --key thessaloniki --no-wait)
[[ $out =~ ^tx\ [0-9a-f]{64}\ accepted\ \(pending\)$ ]] || fail "--no-wait: unexpected output: $out"
deadline=$((SECONDS + 30))
until [[ $(status_of "$P2") == EXECUTED ]]; do
    ((SECONDS < deadline)) || fail "proposal P2 did not execute within 30 s"
    sleep 0.1
done
[[ $(w --json member show verifier-a | jget 'd["accredited_categories"]') == "['climate', 'energy', 'water']" ]] ||
    fail "verifier-a is not accredited for climate, energy and water"

# -------------------------------------------------- CLI error contract
step "error output contract"
expect_err ERR_NOT_FOUND "--json member show of an unknown member" w --json member show nobody-here
expect_err ERR_INVALID_ARGUMENT "an unknown command" w frobnicate
expect_err ERR_INVALID_ARGUMENT "vote without --approve or --reject" w member vote "$P2" --key kavala
expect_err ERR_HEX "a malformed proposal id" w member vote abc --approve --key kavala
DEAD_PORT=$(free_port)
expect_err ERR_IO "an unreachable node" "$WALLET" --keystore "$T/keys" --node "http://127.0.0.1:$DEAD_PORT" status
grep -q "cannot reach node at http://127.0.0.1:$DEAD_PORT" "$T/stderr" ||
    fail "unreachable node: message does not name the URL"

step "the node still answers"
curl -sf "$URL/v1/status" >/dev/null || fail "node does not answer /v1/status"
kill -0 "$NODE_PID" || fail "node is gone"
echo "PASS: wallet governance"
