/* Protobuf to JSON: a generic renderer driven by protobuf-c's descriptors.
 *
 * The HTTP API shows clients the records and actions of proto/esg.proto and
 * proto/state.proto. Rather than one hand-written renderer per message,
 * this module walks any message by its descriptor, so a field added to the
 * schema shows up in the API without code here. The mapping (documented
 * for clients in docs/API.md):
 *
 *   field names     as in the .proto (snake_case), in field-number order
 *   defaults        EVERY field is present, zeros and "" included, so a
 *                   client never has to know proto3's omitted defaults
 *   bytes           lowercase hex ("" when empty)
 *   string          the string (codec-decoded strings are valid UTF-8)
 *   int64, uint64,  decimal strings ("1234"), as in the proto3 JSON
 *   sint64, fixed64 mapping: amounts exceed what a JSON number holds
 *                   exactly in most clients (2^53)
 *   32-bit ints     JSON numbers
 *   bool            true / false
 *   float, double   JSON numbers (the schema has none today)
 *   enum            the value name without the prefix that equals the
 *                   enum's type name in UPPER_SNAKE case: MemberKind
 *                   MEMBER_KIND_CITY -> "CITY", Role ROLE_ADMIN -> "ADMIN",
 *                   ProposalStatus PROPOSAL_STATUS_OPEN -> "OPEN". A value
 *                   the schema does not list (proto3 enums are open) is
 *                   shown as its number
 *   repeated        arrays
 *   message         objects; an absent (NULL) sub-message is null
 *   oneof           only the member that is set appears, under its field
 *                   name; when that member is a message and the enclosing
 *                   message has no field named "type", a key "type" holds
 *                   the member's message name ("AddAccount"). Nothing
 *                   appears for an unset oneof
 *   unknown fields  not shown (the codec rejects messages that have any)
 *
 * Ownership: every function returns a new jansson value (reference count
 * 1) that the caller releases with json_decref, or NULL when out of memory.
 * The message is only read.
 *
 * Thread rules: pure functions; safe from any number of threads.
 */
#ifndef ESG_PBJSON_H
#define ESG_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Renders `msg` (not NULL) as a JSON object by the mapping above. */
json_t *esg_pb_to_json(const ProtobufCMessage *msg);

/* Renders one value of enum `desc` as the mapping above does: the short
 * value name ("ADMIN") or, for a value the enum does not list, its number. */
json_t *esg_pb_enum_to_json(const ProtobufCEnumDescriptor *desc, int value);

/* Writes the short name of `value` (as esg_pb_enum_to_json) into
 * out[0..outlen), NUL-terminated, truncated to fit. Returns 0, or -1 when
 * the enum has no such value (out is then ""). */
int esg_pb_enum_short_name(const ProtobufCEnumDescriptor *desc, int value,
                           char *out, size_t outlen);

/* The value of enum `desc` whose short name (as above) or full name is
 * `name`, compared without regard to case ("open", "OPEN",
 * "PROPOSAL_STATUS_OPEN"). Returns 0 and *value, or -1 when none. */
int esg_pb_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name,
                      int *value);

/* Size of one element of a repeated field of type t, as protobuf-c lays
 * out its arrays (for walking a message by its descriptor). */
size_t esg_pb_elem_size(ProtobufCType t);

#endif
