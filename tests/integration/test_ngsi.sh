#!/usr/bin/env bash
# The NGSI-LD routes (docs/NGSI-LD.md) against a real esgnode, after real
# impact reports and attestations made with esgwallet: every entity, from
# the list and by id, expands with a JSON-LD processor (python3-pyld, the
# published contexts served from tests/data/ngsi, no network) to the same
# form whether asked as application/json (+ Link) or application/ld+json,
# and validates against the Smart Data Models KeyPerformanceIndicator
# schema (python3-jsonschema, $refs resolved locally); only counted
# figures are entities, one per (city, project, KPI, period), whose id
# survives a restatement; q, limit, offset and count select what they
# say; bad requests get NGSI-LD error bodies and change nothing; the
# entity routes need the API token, the context documents do not.
. "$(dirname "$0")/lib.sh"
# Debian's python3-pyld and python3-jsonschema live in /usr/bin/python3's
# path; a python3 earlier on PATH (a virtualenv, pyenv) may not see them.
PY=python3
$PY -c 'import pyld, jsonschema' 2>/dev/null || PY=/usr/bin/python3
$PY -c 'import pyld, jsonschema' 2>/dev/null || {
    fail "python3-pyld and python3-jsonschema are needed: tests/run installs them (scripts/deps.sh ESG_DEB_TEST_PACKAGES)"; }

W=("$ESGWALLET" --keystore "$T/keys")
for k in rhodes kavala verifier; do
    "${W[@]}" key new "$k" >/dev/null
done
valpk=$("$ESGNODE" key new -o "$T/validator.key")
"$ESGNODE" genesis new --chain-id esg-ngsi-1 -o "$T/genesis.json" \
    --member "city-rhodes:CITY:Rhodes:$(pk rhodes)" \
    --member "city-kavala:CITY:Kavala:$(pk kavala)" \
    --member "verifier-a:VERIFIER:Assurance A:$(pk verifier)" \
    --validator "$valpk:10:city-rhodes" --accredit "verifier-a:climate,energy,social" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port"

"$PY" - "$T" "http://127.0.0.1:$port" "$ESGWALLET" "$ESG_SRC_DIR/tests/data/ngsi" <<'PY'
import json, subprocess, sys
t, url, wallet, data = sys.argv[1:5]
W = [wallet, "--keystore", t + "/keys", "--node", url]

from walletrun import runner
run = runner(W)

def rid(doc):
    return doc.get("report_id") or doc.get("attestation_id") or doc["tx_id"]

def write(name, data_):
    with open(f"{t}/{name}", "wb") as f:
        f.write(data_)
    return f"{t}/{name}"

ev = write("meter.csv", b"month,value\n1,100\n")
st = write("statement.pdf", b"assurance statement")
for pid, city, key, name in (("RHO-PV", "city-rhodes", "rhodes", "Harbour solar"),
                             ("RHO-BUS", "city-rhodes", "rhodes", "Electric buses"),
                             ("KAV-HOME", "city-kavala", "kavala", "Social housing")):
    run("project", "register", "--id", pid, "--city", city, "--name", name,
        "--eu-objective", "CCM", "--total-cost", "1000000", "--currency", "EUR", "--key", key)

def report(project, kpi, value, period, key, *extra):
    return rid(run("impact", "report", "--project", project, "--kpi", kpi, "--value", value,
                   "--period", period, "--evidence", ev, "--key", key, *extra))

def attest(report_id, opinion, value):
    return rid(run("impact", "attest", report_id, "--opinion", opinion, "--value", value,
                   "--statement", st, "--key", "verifier"))

# Counted: r1 (a year, tCO2e), r2 (a quarter, MWh; one attestation revoked
# and made again), r4 (dwellings: no unit code; 182 days: no frequency),
# r6b (restates r6a for the same quarter).
r1 = report("RHO-PV", "ghg_avoided_tco2e", "1200.500", "2024-01-01:2024-12-31", "rhodes",
            "--methodology", "GHG Protocol, metered")
attest(r1, "confirmed", "1180.250")
r2 = report("RHO-BUS", "renewable_generation_mwh", "300", "2024-01-01:2024-03-31", "rhodes")
a2 = attest(r2, "qualified", "290")
run("impact", "revoke", a2, "--reason", "meter data incomplete", "--key", "verifier")
attest(r2, "qualified", "275.5")
r4 = report("KAV-HOME", "affordable_housing_units", "12", "2024-01-01:2024-06-30", "kavala")
attest(r4, "confirmed", "12")
r6a = report("RHO-BUS", "renewable_generation_mwh", "100", "2024-04-01:2024-06-30", "rhodes")
attest(r6a, "confirmed", "100")
# Not counted: rejected (r3), never attested (r5).
r3 = report("RHO-PV", "ghg_avoided_tco2e", "50", "2025-01-01:2025-02-15", "rhodes")
attest(r3, "rejected", "0")
r5 = report("KAV-HOME", "affordable_housing_units", "3", "2024-07-01:2024-12-31", "kavala")
print("ok: impact reports and attestations committed")

# ---------------------------------------------------------------- helpers
import urllib.request, urllib.error
from pyld import jsonld
import jsonschema

MODEL_CTX = "https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld"
CORE_CTX = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld"
TYPE_IRI = "https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator"
LOCAL = {MODEL_CTX: data + "/dataModel.KeyPerformanceIndicator-context.jsonld",
         CORE_CTX: data + "/ngsi-ld-core-context-v1.7.jsonld"}
loaded = set()

def loader(u, options=None):
    """The published contexts from tests/data/ngsi; this node's own from
    the node (without the token: they are open); nothing else."""
    loaded.add(u)
    if u in LOCAL:
        doc = json.load(open(LOCAL[u]))
    elif u.startswith(url + "/ngsi-ld/v1/contexts/"):
        with urllib.request.urlopen(u, timeout=30) as r:
            assert r.headers["Content-Type"] == "application/ld+json", r.headers
            doc = json.load(r)
    else:
        raise Exception(f"no network: context {u} is not one of the local files")
    return {"contentType": "application/ld+json", "contextUrl": None,
            "documentUrl": u, "document": doc}
jsonld.set_document_loader(loader)

def get(path, accept=None, token=None):
    req = urllib.request.Request(url + path)
    if accept is not None:
        req.add_header("Accept", accept)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()

def ok(path, accept=None):
    s, h, b = get(path, accept)
    assert s == 200, (path, s, b)
    return h, json.loads(b)

def err(path, status, kind, accept=None, needle=""):
    s, h, b = get(path, accept)
    assert s == status and h["Content-Type"] == "application/json", (path, s, h, b)
    e = json.loads(b)
    assert e["type"] == "https://uri.etsi.org/ngsi-ld/errors/" + kind, (path, e)
    assert e["title"] and needle in e["detail"], (path, e)
    assert "Link" not in h, (path, h)
    return e

def link_ctx(h):
    link = h["Link"]
    assert link.endswith('; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'), link
    return link[1:link.index(">")]

def expand_json(entity, h):
    assert "@context" not in entity, entity
    return jsonld.expand(entity, {"expandContext": link_ctx(h)})

def expand_ld(entity):
    assert entity["@context"] == [MODEL_CTX, url + "/ngsi-ld/v1/contexts/esgledger.jsonld", CORE_CTX], entity
    return jsonld.expand(entity)

with open(data + "/KeyPerformanceIndicator-schema.json") as f:
    SCHEMA = json.load(f)
with open(data + "/common-schema.json") as f:
    COMMON = json.load(f)
resolver = jsonschema.RefResolver.from_schema(SCHEMA, store={COMMON["$id"]: COMMON, SCHEMA["$id"]: SCHEMA})
validator = jsonschema.Draft202012Validator(SCHEMA, resolver=resolver,
                                            format_checker=jsonschema.FormatChecker())

def key_values(entity):
    """The simplified (keyValues) form the schema describes: each Property
    by its value (a DateTime by its string), each Relationship by its object."""
    out = {}
    for k, v in entity.items():
        if k in ("id", "type"):
            out[k] = v
        elif k != "@context":
            assert v["type"] in ("Property", "Relationship"), (k, v)
            x = v["value"] if v["type"] == "Property" else v["object"]
            out[k] = x["@value"] if isinstance(x, dict) and "@value" in x else x
    return out

def check_entity(e):
    validator.validate(key_values(e))
    assert e["type"] == "KeyPerformanceIndicator" and e["id"].startswith(
        "urn:ngsi-ld:KeyPerformanceIndicator:esg-ngsi-1:"), e

# The schema check can fail: a ledger category where the model has its enum.
_probe = {"id": "urn:ngsi-ld:KeyPerformanceIndicator:x", "type": "KeyPerformanceIndicator",
          "category": ["climate"]}
try:
    validator.validate(_probe)
    sys.exit("FAIL: the schema accepted a category outside its enum")
except jsonschema.ValidationError:
    pass

# --------------------------------------------------- the list and by id
status0 = ok("/v1/status")[1]
h, ents = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")
assert h["Content-Type"] == "application/json" and "NGSILD-Results-Count" not in h, h
ids = [e["id"] for e in ents]
assert len(ents) == 4 and len(set(ids)) == 4, ids
tx = {e["txId"]["value"]: e for e in ents}
assert set(tx) == {r1, r2, r4, r6a}, (set(tx), r1, r2, r4, r6a)
# In index order: project, KPI, report id.
assert [(e["process"]["value"], e["kpi"]["value"], e["txId"]["value"]) for e in ents] == \
    sorted((e["process"]["value"], e["kpi"]["value"], e["txId"]["value"]) for e in ents), ids
hl, ents_ld = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator", "application/ld+json")
assert hl["Content-Type"] == "application/ld+json" and "Link" not in hl, hl
assert [e["id"] for e in ents_ld] == ids
for e, eld in zip(ents, ents_ld):
    check_entity(e)
    check_entity(eld)
    x1, x2 = expand_json(e, h), expand_ld(eld)
    assert x1 == x2, (x1, x2)
    assert x1[0]["@type"] == [TYPE_IRI], x1
    # and the same by id, in both forms
    hi, one = ok("/ngsi-ld/v1/entities/" + e["id"])
    assert one == e, (one, e)
    assert expand_json(one, hi) == x1
    _, one_ld = ok("/ngsi-ld/v1/entities/" + e["id"], "application/ld+json")
    assert one_ld == eld and expand_ld(one_ld) == x1
assert loaded >= {MODEL_CTX, CORE_CTX, url + "/ngsi-ld/v1/contexts/esgledger.jsonld",
                  url + "/ngsi-ld/v1/contexts/esgledger-kpi.jsonld"}, loaded
print(f"ok: {len(ents)} entities expand alike as application/json + Link and "
      "application/ld+json, and validate against the model's schema")

# The mapping, figure for figure.
e1, e2, e4, e6 = tx[r1], tx[r2], tx[r4], tx[r6a]
assert e1["id"] == "urn:ngsi-ld:KeyPerformanceIndicator:esg-ngsi-1:city-rhodes:RHO-PV:ghg_avoided_tco2e:2024-01-01:2024-12-31", e1["id"]
assert e1["kpiValue"]["value"] == 1180.25 and e1["kpiValue"]["unitCode"] == "TNE", e1
assert e1["calculationPeriod"]["value"] == {"from": "2024-01-01", "to": "2024-12-31"}
assert e1["organization"]["value"] == "city-rhodes" and e1["process"]["value"] == "RHO-PV"
assert e1["provider"]["value"] == "verifier-a" and e1["attestationOpinion"]["value"] == "CONFIRMED"
assert e1["calculationFrequency"]["value"] == "yearly" and e1["unit"]["value"] == "tCO2e"
assert e1["calculationFormula"]["value"] == "GHG Protocol, metered"
assert e1["impactCategory"]["value"] == "climate" and e1["reportedValue"]["value"] == 1200.5
assert e1["category"]["value"] == ["quantitative", "output"]
assert e2["kpiValue"]["value"] == 275.5 and e2["kpiValue"]["unitCode"] == "MWH", e2
assert e2["calculationFrequency"]["value"] == "quarterly" and e2["attestationOpinion"]["value"] == "QUALIFIED"
assert e2["attestation"]["value"]["verifiedValue"] == 275.5, e2
assert e4["kpiValue"]["value"] == 12 and "unitCode" not in e4["kpiValue"], e4
assert "calculationFrequency" not in e4 and e4["unit"]["value"] == "dwellings", e4
# Block heights, times and proofs are the ledger's.
for e in (e1, e2, e4, e6):
    h_ = e["blockHeight"]["value"]
    blk = ok(f"/v1/blocks/{h_}")[1]
    assert e["txId"]["value"] in [x["tx_id"] for x in blk["txs"]], (e["txId"], blk["txs"])
    att = e["attestation"]["value"]
    ablk = ok(f"/v1/blocks/{att['blockHeight']}")[1]
    assert att["attestationId"] in [x["tx_id"] for x in ablk["txs"]]
    assert e["kpiValue"]["observedAt"] == ablk["header"]["time"], (e["kpiValue"], ablk["header"])
    proof_url = e["stateProof"]["value"]
    assert proof_url.startswith(url + "/v1/state/proof?table=20&key="), proof_url
    proof = ok(proof_url[len(url):])[1]
    assert proof["record_key"] == e["txId"]["value"] and proof["value"], proof
    aproof = ok(att["stateProof"][len(url):])[1]
    assert aproof["record_key"] == att["attestationId"] and aproof["value"], aproof
# r2's dateModified is the block of its last change (the second attestation),
# later than the report's.
b2 = ok(f"/v1/blocks/{e2['attestation']['value']['blockHeight']}")[1]["header"]["time"]
assert e2["dateModified"]["value"] == {"@type": "DateTime", "@value": b2}, (e2["dateModified"], b2)
print("ok: values, unit codes, frequencies, heights, times and state proofs are the ledger's")

# ---------------------------------------------------------------------- q
def q(expr, want):
    got = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&q=" + urllib.parse.quote(expr))[1]
    got = sorted(e["txId"]["value"] for e in got)
    assert got == sorted(want), (expr, got, sorted(want))
import urllib.parse
q('organization=="city-rhodes"', [r1, r2, r6a])
q('organization!="city-rhodes"', [r4])
q('process=="RHO-PV"', [r1])
q('process=="RHO-BUS";kpi=="renewable_generation_mwh"', [r2, r6a])
q('process=="RHO-BUS","KAV-HOME"', [r2, r4, r6a])
q('kpiValue>200', [r1, r2])
q('kpiValue>=275.5;kpiValue<1000', [r2])
q('kpiValue==100..300', [r2, r6a])
q('kpiValue!=100..300', [r1, r4])
q('category=="quantitative"', [r1, r2, r4, r6a])
q('category=="financial"', [])
q('impactCategory=="social"', [r4])
q('attestationOpinion=="QUALIFIED"', [r2])
q('calculationFrequency=="yearly"', [r1])
q('calculationFrequency', [r1, r2, r6a])
q('unitCode=="MWH";kpiValue<=100', [r6a])
q('noSuchAttribute=="x"', [])
# q without type is enough; q on another type none.
assert len(ok("/ngsi-ld/v1/entities?q=" + urllib.parse.quote('kpiValue>0'))[1]) == 4
print("ok: q selects by organization, process, kpi, category, value, opinion, frequency, unit")

# ----------------------------------------------------- limit, offset, count
page = lambda qs: [e["id"] for e in ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&" + qs)[1]]
assert page("limit=2") == ids[:2] and page("limit=2&offset=2") == ids[2:]
assert page("offset=3") == ids[3:] and page("offset=10") == [] and page("limit=1000") == ids
hc, body = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&limit=1&count=true")
assert hc["NGSILD-Results-Count"] == "4" and len(body) == 1, (hc, body)
hc, body = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&limit=0&count=true")
assert hc["NGSILD-Results-Count"] == "4" and body == [], (hc, body)
hc, body = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&count=true&q=" +
              urllib.parse.quote('organization=="city-rhodes"') + "&offset=1&limit=1")
assert hc["NGSILD-Results-Count"] == "3" and len(body) == 1, (hc, body)
hc, body = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&count=false")
assert "NGSILD-Results-Count" not in hc and len(body) == 4
assert page("id=" + ids[1] + "," + ids[3]) == [ids[1], ids[3]]
assert ok("/ngsi-ld/v1/entities?type=Building")[1] == []
assert [e["id"] for e in ok("/ngsi-ld/v1/entities?type=" + urllib.parse.quote(TYPE_IRI))[1]] == ids
print("ok: limit, offset, count=true (NGSILD-Results-Count), id and type behave")

# -------------------------------------------------------- a restatement
# r6a is restated for the same quarter: the entity keeps its id, with the
# new report's figure and tx id.
old = tx[r6a]
r6b = report("RHO-BUS", "renewable_generation_mwh", "110", "2024-04-01:2024-06-30", "rhodes",
             "--supersedes", r6a, "--reason", "late meter readings")
err("/ngsi-ld/v1/entities/" + old["id"], 404, "ResourceNotFound")   # neither counts now
attest(r6b, "confirmed", "105")
_, new = ok("/ngsi-ld/v1/entities/" + old["id"])
assert new["txId"]["value"] == r6b and new["kpiValue"]["value"] == 105, new
assert new["reportedValue"]["value"] == 110 and new["id"] == old["id"]
check_entity(new)
ids_now = [e["id"] for e in ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")[1]]
assert sorted(ids_now) == sorted(ids), (ids_now, ids)   # in index order: r6b's id is new
print("ok: a restated figure keeps its entity id; while nothing counts it is gone")

# ---------------------------------------------------------------- errors
status1 = ok("/v1/status")[1]
listing = ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")[1]
E = "/ngsi-ld/v1/entities?type=KeyPerformanceIndicator&"
for qs, needle in (("limit=0", "'limit'"), ("limit=1001", "1..1000"), ("limit=abc", "'limit'"),
                   ("offset=-1", "'offset'"), ("count=yes", "'count'"), ("attrs=kpiValue", "attrs"),
                   ("options=keyValues", "options")):
    err(E + qs, 400, "BadRequestData", needle=needle)
for expr, needle in (('organization=="a"|process=="b"', "'|'"), ('(kpiValue>1)', "'('"),
                     ('organization=~"city.*"', "=~"), ('process==RHO-PV', "double quotes"),
                     ('calculationPeriod.from=="2024-01-01"', "paths"), ('kpiValue>', "number"),
                     ('organization=="a";', "attribute name"), ('kpiValue~1', "operator"),
                     ('kpiValue>' + "9" * 60, "18 digits"), ('kpiValue>1.0000000001', "9 decimals")):
    err(E + "q=" + urllib.parse.quote(expr), 400, "BadRequestData", needle=needle)
err("/ngsi-ld/v1/entities", 400, "BadRequestData", needle="'type'")
err("/ngsi-ld/v1/entities?limit=5", 400, "BadRequestData", needle="'type'")
err("/ngsi-ld/v1/entities/urn:ngsi-ld:KeyPerformanceIndicator:esg-ngsi-1:city-rhodes:RHO-PV:"
    "ghg_avoided_tco2e:2023-01-01:2023-12-31", 404, "ResourceNotFound")
err("/ngsi-ld/v1/entities/urn:ngsi-ld:KeyPerformanceIndicator:other-chain:city-rhodes:RHO-PV:"
    "ghg_avoided_tco2e:2024-01-01:2024-12-31", 404, "ResourceNotFound")
err("/ngsi-ld/v1/entities/urn:ngsi-ld:Building:1", 404, "ResourceNotFound")
err("/ngsi-ld/v1/entities/not-a-uri", 400, "BadRequestData", needle="URI")
err("/ngsi-ld/v1/contexts/nope.jsonld", 404, "ResourceNotFound")
for accept in ("text/html", "application/geo+json", "application/json;q=0, application/ld+json;q=0"):
    err(E + "limit=1", 406, "NotAcceptable", accept=accept)
    err("/ngsi-ld/v1/entities/" + ids[0], 406, "NotAcceptable", accept=accept)
for accept, ld in (("*/*", False), ("application/*", False), ("text/html, application/json", False),
                   ("application/json;q=0.5, application/ld+json", True),
                   ("application/ld+json;q=0.4, application/json;q=0.9", False),
                   ("application/ld+json, */*", True)):
    h_, b_ = ok("/ngsi-ld/v1/entities/" + ids[0], accept)
    assert h_["Content-Type"] == ("application/ld+json" if ld else "application/json"), (accept, h_)
    assert ("@context" in b_) == ld and ("Link" in h_) != ld, (accept, h_, b_)
assert ok("/v1/status")[1]["app_hash"] == status1["app_hash"]
assert ok("/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")[1] == listing
ids = [e["id"] for e in listing]
print("ok: bad limit/offset/count/q/type/id/Accept get NGSI-LD errors and change nothing")

# The context documents as served, against what the Link points to.
h_, own = ok("/ngsi-ld/v1/contexts/esgledger.jsonld")
assert h_["Content-Type"] == "application/ld+json" and isinstance(own["@context"], dict), own
_, allc = ok("/ngsi-ld/v1/contexts/esgledger-kpi.jsonld")
assert allc["@context"] == [MODEL_CTX, own["@context"], CORE_CTX], allc
with open(t + "/entity.json", "w") as f:
    json.dump(ok("/ngsi-ld/v1/entities/" + ids[0])[1], f)
PY

# With an API token the entity routes need it; the context documents,
# static and fetched by JSON-LD processors, do not.
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
printf '[api]
token = ngsi-secret
' >>"$T/node/esgnode.conf"
start_node "$T/node" "$port"
base=http://127.0.0.1:$port
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")" = 401 ] || fail "list without token"
[ "$(code "$base/ngsi-ld/v1/entities/x:y")" = 401 ] || fail "entity without token"
[ "$(code -H 'Authorization: Bearer ngsi-secret' "$base/ngsi-ld/v1/entities?type=KeyPerformanceIndicator")" = 200 ]     || fail "list with token"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/entity.json")
curl -fsS -H 'Authorization: Bearer ngsi-secret' "$base/ngsi-ld/v1/entities/$id" >"$T/entity2.json"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))'     "$T/entity.json" "$T/entity2.json" || fail "entity changed across a restart"
[ "$(code "$base/ngsi-ld/v1/contexts/esgledger.jsonld")" = 200 ] || fail "context needs a token"
pass "entity routes need the token, contexts do not; an entity is the same after a restart"
pass "ngsi"
