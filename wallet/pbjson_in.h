/* JSON to protobuf: the inverse of ledger/pbjson.h's generic renderer,
 * for `esgwallet tx build --action FILE.json`.
 *
 * A user (or a script) holding the JSON of an action -- as the node shows
 * it under "action" in GET /v1/txs/{id} -- gets the protobuf message back,
 * so any action of proto/esg.proto can be built without a dedicated verb.
 * Like the renderer, the converter walks protobuf-c's descriptors, so a
 * field added to the schema is accepted without code here. The mapping is
 * the renderer's, read backwards:
 *
 *   object keys     field names as in the .proto; any order; a key that
 *                   names no field is an error (a typo never passes)
 *   absent field    its proto3 default (0, "", empty, unset message)
 *   bytes           hex, either case, even length ("" = empty)
 *   string          a JSON string without NUL characters
 *   64-bit ints     a decimal string ("1234", "-5" for signed types) or a
 *                   JSON integer; strict: no spaces, '+', leading zeros or
 *                   exponent; out of range is an error
 *   32-bit ints     a JSON integer in range
 *   bool            true / false
 *   enum            the short value name ("CITY"), the full name
 *                   ("MEMBER_KIND_CITY"), any case, or a JSON integer
 *   float, double   a JSON number
 *   repeated        an array (null is refused)
 *   message         an object, or null for an unset message
 *   oneof           at most one member present; the key "type", when the
 *                   message has no field of that name, is accepted and
 *                   must equal the present member's message name
 *                   ("AddMember"), as the renderer writes it
 *
 * Errors are ESG_ERR_JSON (wrong JSON type, unknown key, missing or
 * conflicting oneof, bad value), ESG_ERR_HEX (bytes), ESG_ERR_OVERFLOW
 * (an integer out of its field's range) or ESG_ERR_NOMEM; the caller's
 * `err` buffer then names the JSON path of the culprit and says what is
 * wrong: "proposal.add_member.kind: unknown MemberKind 'TOWN'",
 * "roles[1]: ...". Messages are lower case with no trailing period.
 *
 * Memory: every byte of a built message (the message structs, strings,
 * bytes, arrays) comes from the caller's allocator `alloc`, which returns
 * zeroed memory that outlives the message's use; nothing is ever freed
 * here, on success or on failure (partial results stay in the caller's
 * arena). So a built message must NOT be passed to esg_pb_free(). The
 * input JSON is only read and may be released at once: strings are
 * copied.
 *
 * Encoding what is built is canonical by construction (ledger/codec.h);
 * the codec's decoder still checks the UTF-8 of strings, which is why the
 * wallet decodes every transaction it builds before writing it.
 *
 * Threads: no global state; reentrant.
 */
#ifndef ESGW_PBJSON_IN_H
#define ESGW_PBJSON_IN_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "ledger/codec.h"
#include "wallet/jreader.h" /* esgw_alloc_fn, the arena allocator */

/* Builds a message of type `desc` from the JSON object `j` by the mapping
 * above into *out (arena memory, see above). `path` prefixes the paths in
 * error messages ("" or NULL for none). Returns 0, or an error code with
 * err[0..errlen) set (*out is then NULL). */
int esgw_json_to_pb(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc,
                    const json_t *j, const char *path, esgw_alloc_fn alloc, void *ctx,
                    char *err, size_t errlen);

/* Sets the action of `body` (action_case and the member it selects) from
 * an action document in the shape of GET /v1/txs/{id}'s "action":
 * {"type": "<action message name>", <that message's fields>...}, e.g.
 * {"type": "AddAccount", "pubkey": "<hex>", "roles": ["OFFICER"]}. "type"
 * is required and must name one of TxBody's actions (esg_action_name:
 * "Propose", "IssueInstrument", ...). chain_id, nonce and signer are left
 * as they are. Errors as esgw_json_to_pb. */
int esgw_json_to_action(esg_pb_tx_body *body, const json_t *action, esgw_alloc_fn alloc,
                        void *ctx, char *err, size_t errlen);

#endif
