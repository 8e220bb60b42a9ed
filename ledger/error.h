/* esgledger error codes: the one list.
 *
 * Every rejection anywhere in esgledger -- a contract rule, a malformed
 * request, a bad file -- is one of these codes. The same name
 * ("ERR_NONCE") travels from the contract through the HTTP API's JSON
 * ({"error": {"code": "ERR_NONCE", ...}}) to the wallet's stderr, so a
 * user can look it up. Codes are stable: never rename or reuse one.
 *
 * 0 is success; errors are negative. esg_err_name() and esg_err_message()
 * return static strings. The list lives in ledger/ (not contracts/) because
 * the core needs codes of its own (decoding, storage) and ledger/ must not
 * depend on contracts/; contract rules are listed here all the same.
 *
 * X(ENUM, http_status, "default message")
 */
#ifndef ESG_ERROR_H
#define ESG_ERROR_H

#include <stddef.h>

#define ESG_ERRORS(X) \
    /* generic and input */ \
    X(ERR_INTERNAL, 500, "internal error") \
    X(ERR_NOMEM, 503, "out of memory") \
    X(ERR_IO, 500, "input/output error") \
    X(ERR_INVALID_ARGUMENT, 400, "invalid argument") \
    X(ERR_NOT_FOUND, 404, "not found") \
    X(ERR_TOO_LARGE, 413, "input exceeds the size limit") \
    X(ERR_DECODE, 400, "malformed protobuf encoding") \
    X(ERR_NON_CANONICAL, 400, "encoding is not canonical") \
    X(ERR_UNKNOWN_FIELD, 400, "message has an unknown field") \
    X(ERR_JSON, 400, "malformed JSON") \
    X(ERR_HEX, 400, "malformed hexadecimal") \
    X(ERR_OVERFLOW, 400, "amount overflows 64 bits") \
    X(ERR_BAD_DATE, 400, "date is not a valid YYYY-MM-DD") \
    X(ERR_BAD_DECIMAL, 400, "malformed decimal value") \
    /* keys and signatures */ \
    X(ERR_BAD_PUBKEY, 400, "public key is not a valid x-only secp256k1 key") \
    X(ERR_BAD_SECRET, 400, "secret key is not valid") \
    X(ERR_BAD_SIGNATURE, 401, "signature does not verify") \
    X(ERR_MISSING_SIGNATURE, 401, "a required signature is missing") \
    X(ERR_DUPLICATE_SIGNATURE, 400, "the same key signed twice") \
    X(ERR_UNEXPECTED_SIGNATURE, 400, "signature from a key the action does not need") \
    X(ERR_KEY_PERMISSIONS, 400, "key file is readable by group or others") \
    X(ERR_BAD_PASSPHRASE, 401, "wrong passphrase or corrupted key file") \
    X(ERR_KEY_EXISTS, 409, "a key with that name already exists") \
    /* transactions */ \
    X(ERR_CHAIN_ID, 400, "transaction is for another chain") \
    X(ERR_NONCE, 409, "nonce is not the signer's next nonce") \
    X(ERR_NO_ACTION, 400, "transaction has no action") \
    X(ERR_UNKNOWN_SIGNER, 403, "signer is not an account on this chain") \
    X(ERR_ACCOUNT_REVOKED, 403, "signer's account has been revoked") \
    X(ERR_MEMBER_SUSPENDED, 403, "signer's member is suspended") \
    X(ERR_UNAUTHORIZED, 403, "signer lacks the role or member kind this action needs") \
    X(ERR_DUPLICATE_TX, 409, "transaction is already known") \
    X(ERR_MEMPOOL_FULL, 503, "mempool is full, retry later") \
    X(ERR_TIMEOUT, 504, "timed out waiting for commit") \
    /* blocks, store, chain */ \
    X(ERR_BAD_BLOCK, 400, "block is invalid") \
    X(ERR_BAD_COMMIT, 400, "commit does not verify against the validator set") \
    X(ERR_APP_HASH, 500, "app hash differs from the replayed state") \
    X(ERR_STORE, 500, "storage error") \
    X(ERR_STORE_CORRUPT, 500, "stored data is corrupt") \
    X(ERR_MAP_FULL, 503, "storage map is full") \
    X(ERR_STORAGE_FULL, 507, "the node's disk is full: new transactions are refused until space is freed") \
    X(ERR_NOT_INITIALIZED, 400, "datadir is not initialized") \
    X(ERR_ALREADY_INITIALIZED, 409, "datadir is already initialized") \
    X(ERR_GENESIS, 400, "genesis is invalid") \
    X(ERR_PROOF, 400, "proof does not verify") \
    X(ERR_BAD_CONSENSUS_MSG, 400, "consensus message is malformed or out of range") \
    X(ERR_PEER_DROPPED, 503, "peer connection was dropped (it stopped reading or ran out of frame counters)") \
    X(ERR_BAD_EVIDENCE, 400, "evidence of equivocation is invalid") \
    X(ERR_EVIDENCE_RECORDED, 409, "this equivocation is already recorded on chain") \
    X(ERR_DOUBLE_SIGN, 409, "signing would conflict with a vote or proposal this validator already signed") \
    /* governance */ \
    X(ERR_BAD_MEMBER_ID, 400, "member id must match [a-z0-9-]{2,40}") \
    X(ERR_BAD_MEMBER_KIND, 400, "member kind is not valid") \
    X(ERR_BAD_COUNTRY, 400, "country must be an ISO 3166-1 alpha-2 code") \
    X(ERR_BAD_NAME, 400, "name must be 1..200 printable characters") \
    X(ERR_MEMBER_EXISTS, 409, "member already exists") \
    X(ERR_UNKNOWN_MEMBER, 404, "no such member") \
    X(ERR_ACCOUNT_EXISTS, 409, "account already exists") \
    X(ERR_UNKNOWN_ACCOUNT, 404, "no such account") \
    X(ERR_BAD_ROLES, 400, "roles must be a non-empty set of ADMIN and OFFICER") \
    X(ERR_LAST_ADMIN, 409, "cannot revoke the member's last admin account") \
    X(ERR_BAD_PROPOSAL, 400, "proposal has no valid change") \
    X(ERR_UNKNOWN_PROPOSAL, 404, "no such proposal") \
    X(ERR_PROPOSAL_CLOSED, 409, "proposal is no longer open") \
    X(ERR_ALREADY_VOTED, 409, "this member has already voted on the proposal") \
    X(ERR_BAD_CATEGORY, 400, "unknown KPI category") \
    X(ERR_NOT_VERIFIER, 400, "only VERIFIER members can be accredited") \
    X(ERR_NOT_ACCREDITED, 403, "verifier is not accredited for the category") \
    X(ERR_VALIDATOR_EXISTS, 409, "validator already exists") \
    X(ERR_UNKNOWN_VALIDATOR, 404, "no such validator") \
    X(ERR_BAD_POWER, 400, "validator power must be 1..2^60") \
    X(ERR_LAST_VALIDATOR, 409, "cannot remove the last validator") \
    X(ERR_BAD_PARAM, 400, "unknown parameter or value out of range") \
    X(ERR_BAD_KPI, 400, "KPI definition is invalid") \
    X(ERR_KPI_EXISTS, 409, "KPI already exists") \
    X(ERR_UNKNOWN_KPI, 404, "no such KPI") \
    X(ERR_BAD_LEI, 400, "LEI must be an ISO 17442 Legal Entity Identifier (20 characters, valid check digits)") \
    X(ERR_BAD_POPULATION, 400, "population must be 1..10000000000 inhabitants") \
    /* instruments */ \
    X(ERR_BAD_INSTRUMENT_ID, 400, "instrument id must match [A-Z0-9-]{3,40}") \
    X(ERR_INSTRUMENT_EXISTS, 409, "instrument already exists") \
    X(ERR_UNKNOWN_INSTRUMENT, 404, "no such instrument") \
    X(ERR_BAD_INSTRUMENT_KIND, 400, "instrument kind is not valid") \
    X(ERR_BAD_CURRENCY, 400, "currency must be an ISO 4217 code") \
    X(ERR_BAD_AMOUNT, 400, "amount must be positive") \
    X(ERR_CO_ISSUER_COUNT, 400, "an instrument has 1 to 10 co-issuers") \
    X(ERR_CO_ISSUER_NOT_CITY, 400, "every co-issuer must be an active CITY member") \
    X(ERR_DUPLICATE_CO_ISSUER, 400, "a co-issuer is listed twice") \
    X(ERR_BAD_SHARE, 400, "each co-issuer share must be positive") \
    X(ERR_SHARES_SUM, 400, "co-issuer shares must sum to exactly 10000 bps") \
    X(ERR_BAD_PROJECT, 400, "project is invalid") \
    X(ERR_PROJECT_CITY, 400, "a project's city must be a co-issuer") \
    X(ERR_BAD_DATES, 400, "issue date must precede maturity date") \
    X(ERR_BAD_FREQUENCY, 400, "coupon frequency must be 1, 3, 6 or 12 months") \
    X(ERR_MATURITY_OFF_SCHEDULE, 400, "maturity date does not fall on the coupon schedule") \
    X(ERR_KPI_TARGETS, 400, "a sustainability-linked bond needs KPI targets, other kinds none") \
    X(ERR_BAD_KPI_TARGET, 400, "KPI target is invalid") \
    X(ERR_NOT_PAYING_AGENT, 400, "the paying agent must be a PAYING_AGENT member") \
    X(ERR_MISSING_COSIGNER, 401, "an officer of every co-issuer must sign") \
    X(ERR_BAD_HASH, 400, "a SHA-256 must be 32 bytes") \
    X(ERR_BAD_STATUS, 409, "the instrument's status does not allow this") \
    X(ERR_BAD_UNITS, 400, "units must be at least 1") \
    X(ERR_INSUFFICIENT_UNITS, 409, "not enough units remain in the offering") \
    X(ERR_NOT_INVESTOR, 403, "only an INVESTOR member may hold units") \
    X(ERR_NOT_LEAD_ISSUER, 403, "only an officer of the lead co-issuer may do this") \
    X(ERR_INSUFFICIENT_HOLDING, 409, "the holder does not hold that many units") \
    X(ERR_BAD_RECEIVER, 400, "the receiver must be an active INVESTOR member other than the sender") \
    X(ERR_NOT_INSTRUMENT_AGENT, 403, "only the instrument's paying agent may record payments") \
    X(ERR_WRONG_DUE_DATE, 409, "due date is not the earliest unrecorded scheduled date") \
    X(ERR_NOT_DUE, 409, "the payment is not due yet at this block time") \
    X(ERR_REDEMPTION_EARLY, 409, "redemption only at maturity, after the final coupon") \
    X(ERR_BAD_PAYMENT_KIND, 400, "payment kind must be COUPON or REDEMPTION") \
    X(ERR_BAD_ISIN, 400, "ISIN must be two letters, nine letters or digits and a check digit (ISO 6166)") \
    /* proceeds */ \
    X(ERR_UNKNOWN_PROJECT, 404, "no such project (registered, or in the instrument)") \
    X(ERR_NOT_PROJECT_CITY, 403, "only an officer of the project's city may do this") \
    X(ERR_ALLOCATION_EXCEEDS, 409, "allocations would exceed the city's part of the amount raised") \
    X(ERR_DATE_IN_FUTURE, 409, "the date lies after the block's date") \
    X(ERR_DATE_AFTER_MATURITY, 409, "the allocation date lies after the instrument's maturity") \
    X(ERR_DATE_BEFORE_LOOKBACK, 409, "the allocation date lies before the refinancing look-back") \
    X(ERR_UNKNOWN_ALLOCATION, 404, "no such allocation") \
    X(ERR_ALLOCATION_REVERSED, 409, "the allocation is already reversed") \
    /* projects and external funding */ \
    X(ERR_BAD_PROJECT_ID, 400, "project id must match [A-Z0-9-]{3,40}") \
    X(ERR_PROJECT_EXISTS, 409, "a project with that id is already registered") \
    X(ERR_PROJECT_MISMATCH, 409, "the registered project names another city or currency") \
    X(ERR_BAD_FUNDING_SOURCE, 400, "funding source must be EU, NATIONAL, REGIONAL, MUNICIPAL, PRIVATE or OTHER") \
    X(ERR_UNKNOWN_FUNDING, 404, "no such funding") \
    X(ERR_FUNDING_REVERSED, 409, "the funding is already reversed") \
    /* impact */ \
    X(ERR_BAD_PERIOD, 400, "period start must precede period end") \
    X(ERR_BAD_TEXT, 400, "text is too long or holds control characters") \
    X(ERR_DUPLICATE_REPORT, 409, "a live report exists for this project, KPI and period: name it in supersedes") \
    X(ERR_BAD_SUPERSEDES, 409, "supersedes must name the live report for the same project, KPI and period") \
    X(ERR_MISSING_REASON, 400, "a reason is required") \
    X(ERR_UNKNOWN_REPORT, 404, "no such impact report") \
    X(ERR_REPORT_SUPERSEDED, 409, "the report has been superseded") \
    X(ERR_BAD_OPINION, 400, "opinion must be CONFIRMED, QUALIFIED or REJECTED") \
    X(ERR_ALREADY_ATTESTED, 409, "this verifier has a live attestation of the report") \
    X(ERR_UNKNOWN_ATTESTATION, 404, "no such attestation") \
    X(ERR_NOT_ATTESTER, 403, "only the verifier that attested may revoke") \
    X(ERR_ATTESTATION_REVOKED, 409, "the attestation is already revoked") \
    X(ERR_NOT_HOLDER, 403, "only a holder of the instrument may do this") \
    X(ERR_OVERLAPPING_PERIOD, 409, "the period overlaps a live report of the same project and KPI: supersede it") \
    /* the HTTP transport */ \
    X(ERR_BAD_FRAMING, 400, "request framing is ambiguous or unsupported (Content-Length, Transfer-Encoding)") \
    X(ERR_HEADERS_TOO_LARGE, 431, "request headers exceed the size limit") \
    X(ERR_TOO_MANY_PARAMS, 400, "query has more parameters than the limit") \
    X(ERR_BUSY, 503, "server is at its limit for request bodies in flight, retry later") \
    /* lookups by a short id */ \
    X(ERR_AMBIGUOUS_ID, 400, "the id prefix matches more than one record: give more of it")

typedef enum esg_err {
    ESG_OK = 0,
#define ESG_ERR_ENUM_(name, status, msg) ESG_##name,
    ESG_ERR_FIRST_ = -1000,
    ESG_ERRORS(ESG_ERR_ENUM_)
#undef ESG_ERR_ENUM_
    ESG_ERR_END_
} esg_err;

/* Writes the printf-style message into err (errlen bytes, NUL-terminated;
 * nothing when err is NULL or errlen is 0) and returns `code`, so a failing
 * path reads `return esg_errf(err, errlen, ESG_ERR_IO, "cannot ...", ...)`. */
int esg_errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Returns the stable name ("ERR_NONCE") of a code; "OK" for 0 and
 * "ERR_INTERNAL" for a value that is not a code. Static storage. */
const char *esg_err_name(int err);

/* Returns the default human message of a code. Static storage. */
const char *esg_err_message(int err);

/* Returns the HTTP status the API answers with for this code (200 for 0). */
int esg_err_http_status(int err);

/* Returns the code named `name` ("ERR_NONCE"), or ESG_ERR_INTERNAL if
 * there is none. */
int esg_err_from_name(const char *name);

#endif
