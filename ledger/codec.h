/* The canonical codec: the one place that knows protobuf-c.
 *
 * Every byte string esgledger signs, hashes or stores is a protobuf message
 * from proto/esg.proto or proto/state.proto in CANONICAL form (docs/WIRE.md
 * §2):
 * exactly the bytes protobuf-c's packer produces for the decoded message --
 * fields in number order, minimal varints, proto3 defaults omitted, repeated
 * scalars packed -- and no unknown fields at any depth. One action therefore
 * has one encoding and one id. Decoders here enforce that: they decode,
 * reject unknown fields, re-encode and compare with the input bytes. They
 * also reject strings that are not valid UTF-8 (proto3 requires it, the
 * runtimes of other languages enforce it, and the HTTP API must be able to
 * put every string in JSON).
 *
 * Names. The generated protobuf-c names (Esg__TxBody, ESG__TX_BODY__INIT,
 * esg__tx_body__descriptor) stay behind this header: other layers use the
 * aliases below, which are mechanical --
 *   message Foo      -> type esg_pb_foo, initializer ESG_PB_FOO_INIT,
 *                       descriptor ESG_PB_FOO_DESC, and static inline
 *                       esg_pb_foo_decode / _encode / _free;
 *   except the state records MemberRecord, AccountRecord and
 *   ValidatorRecord, which are esg_pb_member, esg_pb_account and
 *   esg_pb_validator (ProposalRecord stays esg_pb_proposal_record because
 *   esg_pb_proposal is the governance Proposal);
 *   enum value FOO_BAR -> ESG_FOO_BAR (ESG_ROLE_ADMIN, ESG_OPINION_CONFIRMED,
 *                       ESG_PROPOSAL_STATUS_OPEN), dropping "_KIND" for the
 *                       *Kind enums (ESG_MEMBER_CITY, ESG_INSTRUMENT_GREEN_BOND,
 *                       ESG_PAYMENT_COUPON);
 *   oneof cases      -> ESG_ACTION_<FIELD> for TxBody.action (ESG_ACTION_NONE
 *                       when unset), ESG_PROPOSAL_<FIELD> for
 *                       Proposal.change (ESG_PROPOSAL_NONE) and
 *                       ESG_P2P_MSG_<FIELD> for P2pMessage.msg
 *                       (ESG_P2P_MSG_NONE, ESG_P2P_MSG_VOTE).
 * Struct members keep their .proto field names (body->nonce,
 * body->action_case, body->add_account->pubkey.len). Bytes fields are
 * esg_pb_bytes {size_t len; uint8_t *data;}; strings are NUL-terminated
 * char * (never NULL in a decoded message; "" when absent).
 *
 * Ownership. A message returned by a decode function is one heap tree
 * owned by the caller and freed, with everything it points to, by
 * esg_pb_free(). A message built by hand (ESG_PB_FOO_INIT on the stack,
 * pointers to the caller's own data) is never passed to esg_pb_free(); the
 * encoder only reads it.
 *
 * Threads: every function here is reentrant; a decoded message may be read
 * from several threads at once.
 */
#ifndef ESG_CODEC_H
#define ESG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "esg.pb-c.h"
#include "state.pb-c.h"
#include "ledger/hash.h"

/* ------------------------------------------------------------ messages */

/* Every message of both .proto files: X(alias, generated type, descriptor).
 * Keep in the order of the .proto files. */
#define ESG_PB_MESSAGES(X) \
    /* esg.proto */ \
    X(signature, Esg__Signature, esg__signature__descriptor) \
    X(tx, Esg__Tx, esg__tx__descriptor) \
    X(tx_body, Esg__TxBody, esg__tx_body__descriptor) \
    X(kpi, Esg__Kpi, esg__kpi__descriptor) \
    X(add_member, Esg__AddMember, esg__add_member__descriptor) \
    X(suspend_member, Esg__SuspendMember, esg__suspend_member__descriptor) \
    X(reinstate_member, Esg__ReinstateMember, esg__reinstate_member__descriptor) \
    X(accredit, Esg__Accredit, esg__accredit__descriptor) \
    X(revoke_accreditation, Esg__RevokeAccreditation, esg__revoke_accreditation__descriptor) \
    X(add_validator, Esg__AddValidator, esg__add_validator__descriptor) \
    X(remove_validator, Esg__RemoveValidator, esg__remove_validator__descriptor) \
    X(set_validator_power, Esg__SetValidatorPower, esg__set_validator_power__descriptor) \
    X(set_param, Esg__SetParam, esg__set_param__descriptor) \
    X(add_kpi, Esg__AddKpi, esg__add_kpi__descriptor) \
    X(proposal, Esg__Proposal, esg__proposal__descriptor) \
    X(propose, Esg__Propose, esg__propose__descriptor) \
    X(vote, Esg__Vote, esg__vote__descriptor) \
    X(add_account, Esg__AddAccount, esg__add_account__descriptor) \
    X(revoke_account, Esg__RevokeAccount, esg__revoke_account__descriptor) \
    X(co_issuer, Esg__CoIssuer, esg__co_issuer__descriptor) \
    X(project, Esg__Project, esg__project__descriptor) \
    X(kpi_target, Esg__KpiTarget, esg__kpi_target__descriptor) \
    X(instrument_spec, Esg__InstrumentSpec, esg__instrument_spec__descriptor) \
    X(issue_instrument, Esg__IssueInstrument, esg__issue_instrument__descriptor) \
    X(subscribe, Esg__Subscribe, esg__subscribe__descriptor) \
    X(close_offering, Esg__CloseOffering, esg__close_offering__descriptor) \
    X(transfer, Esg__Transfer, esg__transfer__descriptor) \
    X(record_payment, Esg__RecordPayment, esg__record_payment__descriptor) \
    X(allocate_proceeds, Esg__AllocateProceeds, esg__allocate_proceeds__descriptor) \
    X(reverse_allocation, Esg__ReverseAllocation, esg__reverse_allocation__descriptor) \
    X(register_project, Esg__RegisterProject, esg__register_project__descriptor) \
    X(update_project, Esg__UpdateProject, esg__update_project__descriptor) \
    X(record_funding, Esg__RecordFunding, esg__record_funding__descriptor) \
    X(reverse_funding, Esg__ReverseFunding, esg__reverse_funding__descriptor) \
    X(report_impact, Esg__ReportImpact, esg__report_impact__descriptor) \
    X(attest_impact, Esg__AttestImpact, esg__attest_impact__descriptor) \
    X(revoke_attestation, Esg__RevokeAttestation, esg__revoke_attestation__descriptor) \
    X(dispute_impact, Esg__DisputeImpact, esg__dispute_impact__descriptor) \
    X(block_header, Esg__BlockHeader, esg__block_header__descriptor) \
    X(block, Esg__Block, esg__block__descriptor) \
    X(vote_sign_doc, Esg__VoteSignDoc, esg__vote_sign_doc__descriptor) \
    X(commit_sig, Esg__CommitSig, esg__commit_sig__descriptor) \
    X(commit, Esg__Commit, esg__commit__descriptor) \
    X(block_with_commit, Esg__BlockWithCommit, esg__block_with_commit__descriptor) \
    X(merkle_proof, Esg__MerkleProof, esg__merkle_proof__descriptor) \
    X(proposal_sign_doc, Esg__ProposalSignDoc, esg__proposal_sign_doc__descriptor) \
    X(consensus_proposal, Esg__ConsensusProposal, esg__consensus_proposal__descriptor) \
    X(consensus_vote, Esg__ConsensusVote, esg__consensus_vote__descriptor) \
    X(evidence, Esg__Evidence, esg__evidence__descriptor) \
    X(block_request, Esg__BlockRequest, esg__block_request__descriptor) \
    X(block_response, Esg__BlockResponse, esg__block_response__descriptor) \
    X(hello, Esg__Hello, esg__hello__descriptor) \
    X(ping, Esg__Ping, esg__ping__descriptor) \
    X(p2p_message, Esg__P2pMessage, esg__p2p_message__descriptor) \
    /* state.proto */ \
    X(member, Esg__MemberRecord, esg__member_record__descriptor) \
    X(account, Esg__AccountRecord, esg__account_record__descriptor) \
    X(validator, Esg__ValidatorRecord, esg__validator_record__descriptor) \
    X(validator_set, Esg__ValidatorSet, esg__validator_set__descriptor) \
    X(params, Esg__Params, esg__params__descriptor) \
    X(proposal_record, Esg__ProposalRecord, esg__proposal_record__descriptor) \
    X(instrument_record, Esg__InstrumentRecord, esg__instrument_record__descriptor) \
    X(holding, Esg__HoldingRecord, esg__holding_record__descriptor) \
    X(payment_line, Esg__PaymentLine, esg__payment_line__descriptor) \
    X(payment, Esg__PaymentRecord, esg__payment_record__descriptor) \
    X(allocation, Esg__AllocationRecord, esg__allocation_record__descriptor) \
    X(allocation_total, Esg__AllocationTotal, esg__allocation_total__descriptor) \
    X(allocation_ref, Esg__AllocationRef, esg__allocation_ref__descriptor) \
    X(cost_change, Esg__CostChange, esg__cost_change__descriptor) \
    X(project_record, Esg__ProjectRecord, esg__project_record__descriptor) \
    X(funding, Esg__FundingRecord, esg__funding_record__descriptor) \
    X(report, Esg__ReportRecord, esg__report_record__descriptor) \
    X(attestation, Esg__AttestationRecord, esg__attestation_record__descriptor) \
    X(dispute, Esg__DisputeRecord, esg__dispute_record__descriptor) \
    X(evidence_record, Esg__EvidenceRecord, esg__evidence_record__descriptor)

/* One type per message (see the naming rule above). */
typedef Esg__Signature esg_pb_signature;
typedef Esg__Tx esg_pb_tx;
typedef Esg__TxBody esg_pb_tx_body;
typedef Esg__Kpi esg_pb_kpi;
typedef Esg__AddMember esg_pb_add_member;
typedef Esg__SuspendMember esg_pb_suspend_member;
typedef Esg__ReinstateMember esg_pb_reinstate_member;
typedef Esg__Accredit esg_pb_accredit;
typedef Esg__RevokeAccreditation esg_pb_revoke_accreditation;
typedef Esg__AddValidator esg_pb_add_validator;
typedef Esg__RemoveValidator esg_pb_remove_validator;
typedef Esg__SetValidatorPower esg_pb_set_validator_power;
typedef Esg__SetParam esg_pb_set_param;
typedef Esg__AddKpi esg_pb_add_kpi;
typedef Esg__Proposal esg_pb_proposal;
typedef Esg__Propose esg_pb_propose;
typedef Esg__Vote esg_pb_vote;
typedef Esg__AddAccount esg_pb_add_account;
typedef Esg__RevokeAccount esg_pb_revoke_account;
typedef Esg__CoIssuer esg_pb_co_issuer;
typedef Esg__Project esg_pb_project;
typedef Esg__KpiTarget esg_pb_kpi_target;
typedef Esg__InstrumentSpec esg_pb_instrument_spec;
typedef Esg__IssueInstrument esg_pb_issue_instrument;
typedef Esg__Subscribe esg_pb_subscribe;
typedef Esg__CloseOffering esg_pb_close_offering;
typedef Esg__Transfer esg_pb_transfer;
typedef Esg__RecordPayment esg_pb_record_payment;
typedef Esg__AllocateProceeds esg_pb_allocate_proceeds;
typedef Esg__ReportImpact esg_pb_report_impact;
typedef Esg__AttestImpact esg_pb_attest_impact;
typedef Esg__RevokeAttestation esg_pb_revoke_attestation;
typedef Esg__DisputeImpact esg_pb_dispute_impact;
typedef Esg__ReverseAllocation esg_pb_reverse_allocation;
typedef Esg__RegisterProject esg_pb_register_project;
typedef Esg__UpdateProject esg_pb_update_project;
typedef Esg__RecordFunding esg_pb_record_funding;
typedef Esg__ReverseFunding esg_pb_reverse_funding;
typedef Esg__BlockHeader esg_pb_block_header;
typedef Esg__Block esg_pb_block;
typedef Esg__VoteSignDoc esg_pb_vote_sign_doc;
typedef Esg__CommitSig esg_pb_commit_sig;
typedef Esg__Commit esg_pb_commit;
typedef Esg__BlockWithCommit esg_pb_block_with_commit;
typedef Esg__MerkleProof esg_pb_merkle_proof;
typedef Esg__ProposalSignDoc esg_pb_proposal_sign_doc;
typedef Esg__ConsensusProposal esg_pb_consensus_proposal;
typedef Esg__ConsensusVote esg_pb_consensus_vote;
typedef Esg__Evidence esg_pb_evidence;
typedef Esg__BlockRequest esg_pb_block_request;
typedef Esg__BlockResponse esg_pb_block_response;
typedef Esg__Hello esg_pb_hello;
typedef Esg__Ping esg_pb_ping;
typedef Esg__P2pMessage esg_pb_p2p_message;
typedef Esg__MemberRecord esg_pb_member;
typedef Esg__AccountRecord esg_pb_account;
typedef Esg__EvidenceRecord esg_pb_evidence_record;
typedef Esg__ValidatorRecord esg_pb_validator;
typedef Esg__ValidatorSet esg_pb_validator_set;
typedef Esg__Params esg_pb_params;
typedef Esg__ProposalRecord esg_pb_proposal_record;
typedef Esg__InstrumentRecord esg_pb_instrument_record;
typedef Esg__HoldingRecord esg_pb_holding;
typedef Esg__PaymentLine esg_pb_payment_line;
typedef Esg__PaymentRecord esg_pb_payment;
typedef Esg__AllocationRecord esg_pb_allocation;
typedef Esg__AllocationTotal esg_pb_allocation_total;
typedef Esg__AllocationRef esg_pb_allocation_ref;
typedef Esg__CostChange esg_pb_cost_change;
typedef Esg__ProjectRecord esg_pb_project_record;
typedef Esg__FundingRecord esg_pb_funding;
typedef Esg__ReportRecord esg_pb_report;
typedef Esg__AttestationRecord esg_pb_attestation;
typedef Esg__DisputeRecord esg_pb_dispute;

/* Initializers for messages built by hand: esg_pb_tx_body b = ESG_PB_TX_BODY_INIT; */
#define ESG_PB_SIGNATURE_INIT ESG__SIGNATURE__INIT
#define ESG_PB_TX_INIT ESG__TX__INIT
#define ESG_PB_TX_BODY_INIT ESG__TX_BODY__INIT
#define ESG_PB_KPI_INIT ESG__KPI__INIT
#define ESG_PB_ADD_MEMBER_INIT ESG__ADD_MEMBER__INIT
#define ESG_PB_SUSPEND_MEMBER_INIT ESG__SUSPEND_MEMBER__INIT
#define ESG_PB_REINSTATE_MEMBER_INIT ESG__REINSTATE_MEMBER__INIT
#define ESG_PB_ACCREDIT_INIT ESG__ACCREDIT__INIT
#define ESG_PB_REVOKE_ACCREDITATION_INIT ESG__REVOKE_ACCREDITATION__INIT
#define ESG_PB_ADD_VALIDATOR_INIT ESG__ADD_VALIDATOR__INIT
#define ESG_PB_REMOVE_VALIDATOR_INIT ESG__REMOVE_VALIDATOR__INIT
#define ESG_PB_SET_VALIDATOR_POWER_INIT ESG__SET_VALIDATOR_POWER__INIT
#define ESG_PB_SET_PARAM_INIT ESG__SET_PARAM__INIT
#define ESG_PB_ADD_KPI_INIT ESG__ADD_KPI__INIT
#define ESG_PB_PROPOSAL_INIT ESG__PROPOSAL__INIT
#define ESG_PB_PROPOSE_INIT ESG__PROPOSE__INIT
#define ESG_PB_VOTE_INIT ESG__VOTE__INIT
#define ESG_PB_ADD_ACCOUNT_INIT ESG__ADD_ACCOUNT__INIT
#define ESG_PB_REVOKE_ACCOUNT_INIT ESG__REVOKE_ACCOUNT__INIT
#define ESG_PB_CO_ISSUER_INIT ESG__CO_ISSUER__INIT
#define ESG_PB_PROJECT_INIT ESG__PROJECT__INIT
#define ESG_PB_KPI_TARGET_INIT ESG__KPI_TARGET__INIT
#define ESG_PB_INSTRUMENT_SPEC_INIT ESG__INSTRUMENT_SPEC__INIT
#define ESG_PB_ISSUE_INSTRUMENT_INIT ESG__ISSUE_INSTRUMENT__INIT
#define ESG_PB_SUBSCRIBE_INIT ESG__SUBSCRIBE__INIT
#define ESG_PB_CLOSE_OFFERING_INIT ESG__CLOSE_OFFERING__INIT
#define ESG_PB_TRANSFER_INIT ESG__TRANSFER__INIT
#define ESG_PB_RECORD_PAYMENT_INIT ESG__RECORD_PAYMENT__INIT
#define ESG_PB_ALLOCATE_PROCEEDS_INIT ESG__ALLOCATE_PROCEEDS__INIT
#define ESG_PB_REPORT_IMPACT_INIT ESG__REPORT_IMPACT__INIT
#define ESG_PB_ATTEST_IMPACT_INIT ESG__ATTEST_IMPACT__INIT
#define ESG_PB_REVOKE_ATTESTATION_INIT ESG__REVOKE_ATTESTATION__INIT
#define ESG_PB_DISPUTE_IMPACT_INIT ESG__DISPUTE_IMPACT__INIT
#define ESG_PB_REVERSE_ALLOCATION_INIT ESG__REVERSE_ALLOCATION__INIT
#define ESG_PB_REGISTER_PROJECT_INIT ESG__REGISTER_PROJECT__INIT
#define ESG_PB_UPDATE_PROJECT_INIT ESG__UPDATE_PROJECT__INIT
#define ESG_PB_RECORD_FUNDING_INIT ESG__RECORD_FUNDING__INIT
#define ESG_PB_REVERSE_FUNDING_INIT ESG__REVERSE_FUNDING__INIT
#define ESG_PB_BLOCK_HEADER_INIT ESG__BLOCK_HEADER__INIT
#define ESG_PB_BLOCK_INIT ESG__BLOCK__INIT
#define ESG_PB_VOTE_SIGN_DOC_INIT ESG__VOTE_SIGN_DOC__INIT
#define ESG_PB_COMMIT_SIG_INIT ESG__COMMIT_SIG__INIT
#define ESG_PB_COMMIT_INIT ESG__COMMIT__INIT
#define ESG_PB_BLOCK_WITH_COMMIT_INIT ESG__BLOCK_WITH_COMMIT__INIT
#define ESG_PB_MERKLE_PROOF_INIT ESG__MERKLE_PROOF__INIT
#define ESG_PB_PROPOSAL_SIGN_DOC_INIT ESG__PROPOSAL_SIGN_DOC__INIT
#define ESG_PB_CONSENSUS_PROPOSAL_INIT ESG__CONSENSUS_PROPOSAL__INIT
#define ESG_PB_CONSENSUS_VOTE_INIT ESG__CONSENSUS_VOTE__INIT
#define ESG_PB_EVIDENCE_INIT ESG__EVIDENCE__INIT
#define ESG_PB_BLOCK_REQUEST_INIT ESG__BLOCK_REQUEST__INIT
#define ESG_PB_BLOCK_RESPONSE_INIT ESG__BLOCK_RESPONSE__INIT
#define ESG_PB_HELLO_INIT ESG__HELLO__INIT
#define ESG_PB_PING_INIT ESG__PING__INIT
#define ESG_PB_P2P_MESSAGE_INIT ESG__P2P_MESSAGE__INIT
#define ESG_PB_MEMBER_INIT ESG__MEMBER_RECORD__INIT
#define ESG_PB_ACCOUNT_INIT ESG__ACCOUNT_RECORD__INIT
#define ESG_PB_VALIDATOR_INIT ESG__VALIDATOR_RECORD__INIT
#define ESG_PB_VALIDATOR_SET_INIT ESG__VALIDATOR_SET__INIT
#define ESG_PB_PARAMS_INIT ESG__PARAMS__INIT
#define ESG_PB_PROPOSAL_RECORD_INIT ESG__PROPOSAL_RECORD__INIT
#define ESG_PB_INSTRUMENT_RECORD_INIT ESG__INSTRUMENT_RECORD__INIT
#define ESG_PB_HOLDING_INIT ESG__HOLDING_RECORD__INIT
#define ESG_PB_PAYMENT_LINE_INIT ESG__PAYMENT_LINE__INIT
#define ESG_PB_PAYMENT_INIT ESG__PAYMENT_RECORD__INIT
#define ESG_PB_ALLOCATION_INIT ESG__ALLOCATION_RECORD__INIT
#define ESG_PB_ALLOCATION_TOTAL_INIT ESG__ALLOCATION_TOTAL__INIT
#define ESG_PB_ALLOCATION_REF_INIT ESG__ALLOCATION_REF__INIT
#define ESG_PB_COST_CHANGE_INIT ESG__COST_CHANGE__INIT
#define ESG_PB_PROJECT_RECORD_INIT ESG__PROJECT_RECORD__INIT
#define ESG_PB_FUNDING_INIT ESG__FUNDING_RECORD__INIT
#define ESG_PB_REPORT_INIT ESG__REPORT_RECORD__INIT
#define ESG_PB_ATTESTATION_INIT ESG__ATTESTATION_RECORD__INIT
#define ESG_PB_DISPUTE_INIT ESG__DISPUTE_RECORD__INIT

/* Descriptors, for the generic esg_pb_decode(). */
#define ESG_PB_SIGNATURE_DESC (&esg__signature__descriptor)
#define ESG_PB_TX_DESC (&esg__tx__descriptor)
#define ESG_PB_TX_BODY_DESC (&esg__tx_body__descriptor)
#define ESG_PB_KPI_DESC (&esg__kpi__descriptor)
#define ESG_PB_ADD_MEMBER_DESC (&esg__add_member__descriptor)
#define ESG_PB_SUSPEND_MEMBER_DESC (&esg__suspend_member__descriptor)
#define ESG_PB_REINSTATE_MEMBER_DESC (&esg__reinstate_member__descriptor)
#define ESG_PB_ACCREDIT_DESC (&esg__accredit__descriptor)
#define ESG_PB_REVOKE_ACCREDITATION_DESC (&esg__revoke_accreditation__descriptor)
#define ESG_PB_ADD_VALIDATOR_DESC (&esg__add_validator__descriptor)
#define ESG_PB_REMOVE_VALIDATOR_DESC (&esg__remove_validator__descriptor)
#define ESG_PB_SET_VALIDATOR_POWER_DESC (&esg__set_validator_power__descriptor)
#define ESG_PB_SET_PARAM_DESC (&esg__set_param__descriptor)
#define ESG_PB_ADD_KPI_DESC (&esg__add_kpi__descriptor)
#define ESG_PB_PROPOSAL_DESC (&esg__proposal__descriptor)
#define ESG_PB_PROPOSE_DESC (&esg__propose__descriptor)
#define ESG_PB_VOTE_DESC (&esg__vote__descriptor)
#define ESG_PB_ADD_ACCOUNT_DESC (&esg__add_account__descriptor)
#define ESG_PB_REVOKE_ACCOUNT_DESC (&esg__revoke_account__descriptor)
#define ESG_PB_CO_ISSUER_DESC (&esg__co_issuer__descriptor)
#define ESG_PB_PROJECT_DESC (&esg__project__descriptor)
#define ESG_PB_KPI_TARGET_DESC (&esg__kpi_target__descriptor)
#define ESG_PB_INSTRUMENT_SPEC_DESC (&esg__instrument_spec__descriptor)
#define ESG_PB_ISSUE_INSTRUMENT_DESC (&esg__issue_instrument__descriptor)
#define ESG_PB_SUBSCRIBE_DESC (&esg__subscribe__descriptor)
#define ESG_PB_CLOSE_OFFERING_DESC (&esg__close_offering__descriptor)
#define ESG_PB_TRANSFER_DESC (&esg__transfer__descriptor)
#define ESG_PB_RECORD_PAYMENT_DESC (&esg__record_payment__descriptor)
#define ESG_PB_ALLOCATE_PROCEEDS_DESC (&esg__allocate_proceeds__descriptor)
#define ESG_PB_REPORT_IMPACT_DESC (&esg__report_impact__descriptor)
#define ESG_PB_ATTEST_IMPACT_DESC (&esg__attest_impact__descriptor)
#define ESG_PB_REVOKE_ATTESTATION_DESC (&esg__revoke_attestation__descriptor)
#define ESG_PB_DISPUTE_IMPACT_DESC (&esg__dispute_impact__descriptor)
#define ESG_PB_REVERSE_ALLOCATION_DESC (&esg__reverse_allocation__descriptor)
#define ESG_PB_REGISTER_PROJECT_DESC (&esg__register_project__descriptor)
#define ESG_PB_UPDATE_PROJECT_DESC (&esg__update_project__descriptor)
#define ESG_PB_RECORD_FUNDING_DESC (&esg__record_funding__descriptor)
#define ESG_PB_REVERSE_FUNDING_DESC (&esg__reverse_funding__descriptor)
#define ESG_PB_BLOCK_HEADER_DESC (&esg__block_header__descriptor)
#define ESG_PB_BLOCK_DESC (&esg__block__descriptor)
#define ESG_PB_VOTE_SIGN_DOC_DESC (&esg__vote_sign_doc__descriptor)
#define ESG_PB_COMMIT_SIG_DESC (&esg__commit_sig__descriptor)
#define ESG_PB_COMMIT_DESC (&esg__commit__descriptor)
#define ESG_PB_BLOCK_WITH_COMMIT_DESC (&esg__block_with_commit__descriptor)
#define ESG_PB_MERKLE_PROOF_DESC (&esg__merkle_proof__descriptor)
#define ESG_PB_PROPOSAL_SIGN_DOC_DESC (&esg__proposal_sign_doc__descriptor)
#define ESG_PB_CONSENSUS_PROPOSAL_DESC (&esg__consensus_proposal__descriptor)
#define ESG_PB_CONSENSUS_VOTE_DESC (&esg__consensus_vote__descriptor)
#define ESG_PB_EVIDENCE_DESC (&esg__evidence__descriptor)
#define ESG_PB_BLOCK_REQUEST_DESC (&esg__block_request__descriptor)
#define ESG_PB_BLOCK_RESPONSE_DESC (&esg__block_response__descriptor)
#define ESG_PB_HELLO_DESC (&esg__hello__descriptor)
#define ESG_PB_PING_DESC (&esg__ping__descriptor)
#define ESG_PB_P2P_MESSAGE_DESC (&esg__p2p_message__descriptor)
#define ESG_PB_MEMBER_DESC (&esg__member_record__descriptor)
#define ESG_PB_ACCOUNT_DESC (&esg__account_record__descriptor)
#define ESG_PB_VALIDATOR_DESC (&esg__validator_record__descriptor)
#define ESG_PB_VALIDATOR_SET_DESC (&esg__validator_set__descriptor)
#define ESG_PB_PARAMS_DESC (&esg__params__descriptor)
#define ESG_PB_PROPOSAL_RECORD_DESC (&esg__proposal_record__descriptor)
#define ESG_PB_INSTRUMENT_RECORD_DESC (&esg__instrument_record__descriptor)
#define ESG_PB_HOLDING_DESC (&esg__holding_record__descriptor)
#define ESG_PB_PAYMENT_LINE_DESC (&esg__payment_line__descriptor)
#define ESG_PB_PAYMENT_DESC (&esg__payment_record__descriptor)
#define ESG_PB_ALLOCATION_DESC (&esg__allocation_record__descriptor)
#define ESG_PB_ALLOCATION_TOTAL_DESC (&esg__allocation_total__descriptor)
#define ESG_PB_ALLOCATION_REF_DESC (&esg__allocation_ref__descriptor)
#define ESG_PB_COST_CHANGE_DESC (&esg__cost_change__descriptor)
#define ESG_PB_PROJECT_RECORD_DESC (&esg__project_record__descriptor)
#define ESG_PB_FUNDING_DESC (&esg__funding_record__descriptor)
#define ESG_PB_REPORT_DESC (&esg__report_record__descriptor)
#define ESG_PB_ATTESTATION_DESC (&esg__attestation_record__descriptor)
#define ESG_PB_DISPUTE_DESC (&esg__dispute_record__descriptor)
#define ESG_PB_EVIDENCE_RECORD_DESC (&esg__evidence_record__descriptor)

/* --------------------------------------------------------------- enums */

/* Enum types and values (naming rule above). proto3 enums are open: a
 * decoded enum field may hold a value not listed here, and it is the
 * contract's job to reject it. */
typedef Esg__MemberKind esg_pb_member_kind;
#define ESG_MEMBER_UNSPECIFIED                   ESG__MEMBER_KIND__MEMBER_KIND_UNSPECIFIED
#define ESG_MEMBER_CITY                          ESG__MEMBER_KIND__MEMBER_KIND_CITY
#define ESG_MEMBER_INVESTOR                      ESG__MEMBER_KIND__MEMBER_KIND_INVESTOR
#define ESG_MEMBER_VERIFIER                      ESG__MEMBER_KIND__MEMBER_KIND_VERIFIER
#define ESG_MEMBER_PAYING_AGENT                  ESG__MEMBER_KIND__MEMBER_KIND_PAYING_AGENT
#define ESG_MEMBER_AUDITOR                       ESG__MEMBER_KIND__MEMBER_KIND_AUDITOR

typedef Esg__Role esg_pb_role;
#define ESG_ROLE_UNSPECIFIED                     ESG__ROLE__ROLE_UNSPECIFIED
#define ESG_ROLE_ADMIN                           ESG__ROLE__ROLE_ADMIN
#define ESG_ROLE_OFFICER                         ESG__ROLE__ROLE_OFFICER

typedef Esg__KpiDirection esg_pb_kpi_direction;
#define ESG_KPI_DIRECTION_UNSPECIFIED            ESG__KPI_DIRECTION__KPI_DIRECTION_UNSPECIFIED
#define ESG_KPI_DIRECTION_HIGHER                 ESG__KPI_DIRECTION__KPI_DIRECTION_HIGHER
#define ESG_KPI_DIRECTION_LOWER                  ESG__KPI_DIRECTION__KPI_DIRECTION_LOWER

typedef Esg__InstrumentKind esg_pb_instrument_kind;
#define ESG_INSTRUMENT_UNSPECIFIED               ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_UNSPECIFIED
#define ESG_INSTRUMENT_GREEN_BOND                ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_GREEN_BOND
#define ESG_INSTRUMENT_SOCIAL_BOND               ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_SOCIAL_BOND
#define ESG_INSTRUMENT_SUSTAINABILITY_BOND       ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_SUSTAINABILITY_BOND
#define ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_SUSTAINABILITY_LINKED_BOND
#define ESG_INSTRUMENT_GREEN_LOAN                ESG__INSTRUMENT_KIND__INSTRUMENT_KIND_GREEN_LOAN

typedef Esg__EuObjective esg_pb_eu_objective;
#define ESG_EU_OBJECTIVE_UNSPECIFIED             ESG__EU_OBJECTIVE__EU_OBJECTIVE_UNSPECIFIED
#define ESG_EU_OBJECTIVE_CCM                     ESG__EU_OBJECTIVE__EU_OBJECTIVE_CCM
#define ESG_EU_OBJECTIVE_CCA                     ESG__EU_OBJECTIVE__EU_OBJECTIVE_CCA
#define ESG_EU_OBJECTIVE_WTR                     ESG__EU_OBJECTIVE__EU_OBJECTIVE_WTR
#define ESG_EU_OBJECTIVE_CE                      ESG__EU_OBJECTIVE__EU_OBJECTIVE_CE
#define ESG_EU_OBJECTIVE_PPC                     ESG__EU_OBJECTIVE__EU_OBJECTIVE_PPC
#define ESG_EU_OBJECTIVE_BIO                     ESG__EU_OBJECTIVE__EU_OBJECTIVE_BIO

typedef Esg__PaymentKind esg_pb_payment_kind;
#define ESG_PAYMENT_UNSPECIFIED                  ESG__PAYMENT_KIND__PAYMENT_KIND_UNSPECIFIED
#define ESG_PAYMENT_COUPON                       ESG__PAYMENT_KIND__PAYMENT_KIND_COUPON
#define ESG_PAYMENT_REDEMPTION                   ESG__PAYMENT_KIND__PAYMENT_KIND_REDEMPTION

typedef Esg__Opinion esg_pb_opinion;
#define ESG_OPINION_UNSPECIFIED                  ESG__OPINION__OPINION_UNSPECIFIED
#define ESG_OPINION_CONFIRMED                    ESG__OPINION__OPINION_CONFIRMED
#define ESG_OPINION_QUALIFIED                    ESG__OPINION__OPINION_QUALIFIED
#define ESG_OPINION_REJECTED                     ESG__OPINION__OPINION_REJECTED

typedef Esg__FundingSource esg_pb_funding_source;
#define ESG_FUNDING_SOURCE_UNSPECIFIED           ESG__FUNDING_SOURCE__FUNDING_SOURCE_UNSPECIFIED
#define ESG_FUNDING_SOURCE_EU                    ESG__FUNDING_SOURCE__FUNDING_SOURCE_EU
#define ESG_FUNDING_SOURCE_NATIONAL              ESG__FUNDING_SOURCE__FUNDING_SOURCE_NATIONAL
#define ESG_FUNDING_SOURCE_REGIONAL              ESG__FUNDING_SOURCE__FUNDING_SOURCE_REGIONAL
#define ESG_FUNDING_SOURCE_MUNICIPAL             ESG__FUNDING_SOURCE__FUNDING_SOURCE_MUNICIPAL
#define ESG_FUNDING_SOURCE_PRIVATE               ESG__FUNDING_SOURCE__FUNDING_SOURCE_PRIVATE
#define ESG_FUNDING_SOURCE_OTHER                 ESG__FUNDING_SOURCE__FUNDING_SOURCE_OTHER

typedef Esg__VoteType esg_pb_vote_type;
#define ESG_VOTE_TYPE_UNSPECIFIED                ESG__VOTE_TYPE__VOTE_TYPE_UNSPECIFIED
#define ESG_VOTE_TYPE_PREVOTE                    ESG__VOTE_TYPE__VOTE_TYPE_PREVOTE
#define ESG_VOTE_TYPE_PRECOMMIT                  ESG__VOTE_TYPE__VOTE_TYPE_PRECOMMIT

typedef Esg__ProposalStatus esg_pb_proposal_status;
#define ESG_PROPOSAL_STATUS_UNSPECIFIED          ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_UNSPECIFIED
#define ESG_PROPOSAL_STATUS_OPEN                 ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_OPEN
#define ESG_PROPOSAL_STATUS_EXECUTED             ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_EXECUTED
#define ESG_PROPOSAL_STATUS_REJECTED             ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_REJECTED
#define ESG_PROPOSAL_STATUS_EXPIRED              ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_EXPIRED
#define ESG_PROPOSAL_STATUS_FAILED               ESG__PROPOSAL_STATUS__PROPOSAL_STATUS_FAILED

typedef Esg__InstrumentStatus esg_pb_instrument_status;
#define ESG_INSTRUMENT_STATUS_UNSPECIFIED        ESG__INSTRUMENT_STATUS__INSTRUMENT_STATUS_UNSPECIFIED
#define ESG_INSTRUMENT_STATUS_OFFERING           ESG__INSTRUMENT_STATUS__INSTRUMENT_STATUS_OFFERING
#define ESG_INSTRUMENT_STATUS_ACTIVE             ESG__INSTRUMENT_STATUS__INSTRUMENT_STATUS_ACTIVE
#define ESG_INSTRUMENT_STATUS_MATURED            ESG__INSTRUMENT_STATUS__INSTRUMENT_STATUS_MATURED

typedef Esg__TxBody__ActionCase esg_pb_action_case;
#define ESG_ACTION_NONE                          ESG__TX_BODY__ACTION__NOT_SET
#define ESG_ACTION_PROPOSE                       ESG__TX_BODY__ACTION_PROPOSE
#define ESG_ACTION_VOTE                          ESG__TX_BODY__ACTION_VOTE
#define ESG_ACTION_ADD_ACCOUNT                   ESG__TX_BODY__ACTION_ADD_ACCOUNT
#define ESG_ACTION_REVOKE_ACCOUNT                ESG__TX_BODY__ACTION_REVOKE_ACCOUNT
#define ESG_ACTION_ISSUE_INSTRUMENT              ESG__TX_BODY__ACTION_ISSUE_INSTRUMENT
#define ESG_ACTION_SUBSCRIBE                     ESG__TX_BODY__ACTION_SUBSCRIBE
#define ESG_ACTION_CLOSE_OFFERING                ESG__TX_BODY__ACTION_CLOSE_OFFERING
#define ESG_ACTION_TRANSFER                      ESG__TX_BODY__ACTION_TRANSFER
#define ESG_ACTION_RECORD_PAYMENT                ESG__TX_BODY__ACTION_RECORD_PAYMENT
#define ESG_ACTION_ALLOCATE_PROCEEDS             ESG__TX_BODY__ACTION_ALLOCATE_PROCEEDS
#define ESG_ACTION_REPORT_IMPACT                 ESG__TX_BODY__ACTION_REPORT_IMPACT
#define ESG_ACTION_ATTEST_IMPACT                 ESG__TX_BODY__ACTION_ATTEST_IMPACT
#define ESG_ACTION_REVOKE_ATTESTATION            ESG__TX_BODY__ACTION_REVOKE_ATTESTATION
#define ESG_ACTION_DISPUTE_IMPACT                ESG__TX_BODY__ACTION_DISPUTE_IMPACT
#define ESG_ACTION_REVERSE_ALLOCATION           ESG__TX_BODY__ACTION_REVERSE_ALLOCATION
#define ESG_ACTION_REGISTER_PROJECT             ESG__TX_BODY__ACTION_REGISTER_PROJECT
#define ESG_ACTION_UPDATE_PROJECT               ESG__TX_BODY__ACTION_UPDATE_PROJECT
#define ESG_ACTION_RECORD_FUNDING               ESG__TX_BODY__ACTION_RECORD_FUNDING
#define ESG_ACTION_REVERSE_FUNDING              ESG__TX_BODY__ACTION_REVERSE_FUNDING

typedef Esg__Proposal__ChangeCase esg_pb_change_case;
#define ESG_PROPOSAL_NONE                        ESG__PROPOSAL__CHANGE__NOT_SET
#define ESG_PROPOSAL_ADD_MEMBER                  ESG__PROPOSAL__CHANGE_ADD_MEMBER
#define ESG_PROPOSAL_SUSPEND_MEMBER              ESG__PROPOSAL__CHANGE_SUSPEND_MEMBER
#define ESG_PROPOSAL_REINSTATE_MEMBER            ESG__PROPOSAL__CHANGE_REINSTATE_MEMBER
#define ESG_PROPOSAL_ACCREDIT                    ESG__PROPOSAL__CHANGE_ACCREDIT
#define ESG_PROPOSAL_REVOKE_ACCREDITATION        ESG__PROPOSAL__CHANGE_REVOKE_ACCREDITATION
#define ESG_PROPOSAL_ADD_VALIDATOR               ESG__PROPOSAL__CHANGE_ADD_VALIDATOR
#define ESG_PROPOSAL_REMOVE_VALIDATOR            ESG__PROPOSAL__CHANGE_REMOVE_VALIDATOR
#define ESG_PROPOSAL_SET_VALIDATOR_POWER         ESG__PROPOSAL__CHANGE_SET_VALIDATOR_POWER
#define ESG_PROPOSAL_SET_PARAM                   ESG__PROPOSAL__CHANGE_SET_PARAM
#define ESG_PROPOSAL_ADD_KPI                     ESG__PROPOSAL__CHANGE_ADD_KPI

typedef Esg__P2pMessage__MsgCase esg_pb_p2p_msg_case;
#define ESG_P2P_MSG_NONE                         ESG__P2P_MESSAGE__MSG__NOT_SET
#define ESG_P2P_MSG_HELLO                        ESG__P2P_MESSAGE__MSG_HELLO
#define ESG_P2P_MSG_TX                           ESG__P2P_MESSAGE__MSG_TX
#define ESG_P2P_MSG_PROPOSAL                     ESG__P2P_MESSAGE__MSG_PROPOSAL
#define ESG_P2P_MSG_VOTE                         ESG__P2P_MESSAGE__MSG_VOTE
#define ESG_P2P_MSG_COMMIT                       ESG__P2P_MESSAGE__MSG_COMMIT
#define ESG_P2P_MSG_BLOCK_REQUEST                ESG__P2P_MESSAGE__MSG_BLOCK_REQUEST
#define ESG_P2P_MSG_BLOCK_RESPONSE               ESG__P2P_MESSAGE__MSG_BLOCK_RESPONSE
#define ESG_P2P_MSG_EVIDENCE                     ESG__P2P_MESSAGE__MSG_EVIDENCE
#define ESG_P2P_MSG_PING                         ESG__P2P_MESSAGE__MSG_PING
#define ESG_P2P_MSG_PONG                         ESG__P2P_MESSAGE__MSG_PONG
#define ESG_P2P_MSG_CONSENSUS_STATE              ESG__P2P_MESSAGE__MSG_CONSENSUS_STATE

/* ------------------------------------------------------------- helpers */

/* A bytes field: {size_t len; uint8_t *data;}. */
typedef ProtobufCBinaryData esg_pb_bytes;

/* A bytes value pointing at the caller's `data` (not copied), for building
 * a message by hand: body.signer = esg_pb_bin(pk.b, 32). The message only
 * borrows the bytes; the encoder never writes through the pointer. */
static inline esg_pb_bytes esg_pb_bin(const void *data, size_t len) {
    esg_pb_bytes b = {len, (uint8_t *)(uintptr_t)data};
    return b;
}

/* Copies a bytes field that must be exactly 32 bytes (a hash, a tx id, a
 * pubkey) into *out. Returns 0, or ESG_ERR_INVALID_ARGUMENT when b->len is
 * not 32 (*out is then left unchanged). Callers turn that into the error
 * their rule names. */
int esg_pb_bytes32(const esg_pb_bytes *b, esg_hash *out);

/* The same for a 32-byte x-only public key. Checks the length only, not
 * that the key is on the curve (ledger/keys.h does that). */
int esg_pb_pubkey32(const esg_pb_bytes *b, esg_pubkey *out);

/* ---------------------------------------------------- canonical decoding */

/* Decodes `len` bytes at `buf` as a message of type `desc` and checks that
 * they are canonical. buf may be NULL when len is 0 (the empty message).
 * On success *out is a new message owned by the caller (esg_pb_free).
 * Errors, checked in this order; on error *out is NULL and nothing is
 * allocated:
 *   ESG_ERR_TOO_LARGE      len > max_len (nothing is parsed), or the
 *                          decoded message would take more than
 *                          ESG_PB_DECODE_BUDGET_BASE +
 *                          ESG_PB_DECODE_BUDGET_FACTOR * len bytes of
 *                          memory (a hostile encoding: protobuf-c's
 *                          allocations are counted as it unpacks)
 *   ESG_ERR_DECODE         not a valid encoding of `desc`, or a string
 *                          that is not valid UTF-8
 *   ESG_ERR_UNKNOWN_FIELD  a field number the schema does not know, in the
 *                          message or in any message nested in it
 *   ESG_ERR_NON_CANONICAL  valid, but re-encoding gives other bytes
 *                          (fields out of order, non-minimal varint,
 *                          explicit default, unpacked repeated scalar, a
 *                          field written twice...)
 *   ESG_ERR_NOMEM */
int esg_pb_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                  size_t len, size_t max_len, ProtobufCMessage **out);
#define ESG_PB_DECODE_BUDGET_BASE ((size_t)64 << 10)
#define ESG_PB_DECODE_BUDGET_FACTOR ((size_t)8)

/* Encodes `msg` into a new malloc'd buffer (*out, caller frees with free())
 * of *out_len bytes. The result is canonical by construction, but note that
 * a decoder rejects it if a string of `msg` is not valid UTF-8 or holds a
 * NUL byte. When the encoding is empty, *out is still a valid (1-byte)
 * allocation. Returns 0 or ESG_ERR_NOMEM (*out is then NULL). */
int esg_pb_encode(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len);

/* Frees a message returned by any decode function here, with everything it
 * points to. NULL is a no-op. Never pass a message built by hand. */
void esg_pb_free(void *msg);

/* Typed wrappers, one set per message (esg_pb_member_decode, ...):
 *   int  esg_pb_foo_decode(esg_pb_foo **out, const uint8_t *buf, size_t len,
 *                          size_t max_len);       as esg_pb_decode
 *   int  esg_pb_foo_encode(const esg_pb_foo *msg, uint8_t **out,
 *                          size_t *out_len);      as esg_pb_encode
 *   void esg_pb_foo_free(esg_pb_foo *msg);        as esg_pb_free */
#define ESG_PB_WRAPPERS_(alias, type, desc)                                  \
    static inline int esg_pb_##alias##_decode(esg_pb_##alias **out,         \
                                              const uint8_t *buf, size_t len, \
                                              size_t max_len) {             \
        ProtobufCMessage *m = NULL;                                          \
        int rc = esg_pb_decode(&desc, buf, len, max_len, &m);                \
        *out = (esg_pb_##alias *)m;                                          \
        return rc;                                                           \
    }                                                                        \
    static inline int esg_pb_##alias##_encode(const esg_pb_##alias *msg,    \
                                              uint8_t **out,                 \
                                              size_t *out_len) {             \
        return esg_pb_encode(&msg->base, out, out_len);                      \
    }                                                                        \
    static inline void esg_pb_##alias##_free(esg_pb_##alias *msg) {         \
        esg_pb_free(msg);                                                    \
    }
ESG_PB_MESSAGES(ESG_PB_WRAPPERS_)
#undef ESG_PB_WRAPPERS_

/* -------------------------------------------------------- transactions */

/* A decoded, structurally checked transaction (docs/WIRE.md §5):
 *   Tx { bytes body = 1; repeated Signature sigs = 2; }
 * where body is a canonical TxBody and the tx id is H("esg/tx", body).
 * "Structurally checked" means: both the envelope and the body are
 * canonical, the body has an action, the signer is 32 bytes, there are 1 to
 * ESG_TX_MAX_SIGS signatures, each with a 32-byte pubkey and a 64-byte sig,
 * and no pubkey signs twice. It does NOT mean the signatures verify (see
 * the signature module) or that the tx is valid against the state (chain
 * id, nonce, roles: the executor and contracts).
 *
 * All fields are read-only for the holder and live until esg_tx_free(). */
typedef struct esg_tx {
    esg_pb_tx *env;           /* decoded Tx envelope */
    esg_pb_tx_body *body;     /* decoded body (from env->body bytes) */
    esg_hash id;              /* H("esg/tx", env->body) */
    uint8_t *raw;             /* copy of the serialized Tx */
    size_t raw_len;
} esg_tx;

#define ESG_TX_MAX_BYTES (1u << 20) /* 1 MiB, the whole serialized Tx */
#define ESG_TX_MAX_SIGS 64

/* Decodes and structurally checks a serialized Tx (`len` bytes at `buf`,
 * NULL allowed when len is 0). On success *out is a new esg_tx owned by the
 * caller (esg_tx_free); `buf` is copied and may be released at once.
 * Errors (*out is then NULL):
 *   ESG_ERR_TOO_LARGE            len > ESG_TX_MAX_BYTES, or more than
 *                                ESG_TX_MAX_SIGS signatures
 *   ESG_ERR_DECODE, ESG_ERR_UNKNOWN_FIELD, ESG_ERR_NON_CANONICAL
 *                                as esg_pb_decode, for the envelope or body
 *   ESG_ERR_NO_ACTION            the body has no action
 *   ESG_ERR_BAD_PUBKEY           signer is not 32 bytes
 *   ESG_ERR_MISSING_SIGNATURE    no signature at all
 *   ESG_ERR_BAD_SIGNATURE        a pubkey is not 32 bytes or a sig not 64
 *   ESG_ERR_DUPLICATE_SIGNATURE  two signatures carry the same pubkey
 *   ESG_ERR_NOMEM */
int esg_tx_decode(esg_tx **out, const uint8_t *buf, size_t len);

/* Frees a transaction from esg_tx_decode(). NULL is a no-op. */
void esg_tx_free(esg_tx *tx);

/* Canonical bytes of a body: what H("esg/tx", .) hashes and what goes in
 * Tx.body. *out is malloc'd (caller frees with free()). Returns 0 or
 * ESG_ERR_NOMEM. */
int esg_tx_encode_body(const esg_pb_tx_body *body, uint8_t **out, size_t *len);

/* Serializes the envelope Tx{body, sigs} from body bytes (as from
 * esg_tx_encode_body) and n_sigs signatures (pks[i] signed with sigs[i]),
 * in the order given. *out is malloc'd (caller frees with free()). Returns
 * 0 or ESG_ERR_NOMEM. Checks nothing: esg_tx_decode() the result to check
 * it as a node will. */
int esg_tx_encode_envelope(const uint8_t *body, size_t body_len,
                           const esg_pubkey *pks, const esg_sig *sigs,
                           size_t n_sigs, uint8_t **out, size_t *out_len);

/* Number of signatures of a decoded tx (1..ESG_TX_MAX_SIGS). */
size_t esg_tx_n_sigs(const esg_tx *tx);

/* Copies signature i (< esg_tx_n_sigs) out of the envelope. Either output
 * may be NULL. */
void esg_tx_sig_at(const esg_tx *tx, size_t i, esg_pubkey *pk, esg_sig *sig);

/* The body's signer, the account that pays the nonce. */
esg_pubkey esg_tx_signer(const esg_tx *tx);

/* Name of an action case: the action's message name (docs/WIRE.md §1)
 * ("AddAccount", "Propose", ...); "none" for ESG_ACTION_NONE or a value that
 * is not an action. Static storage. */
const char *esg_action_name(int action_case);

/* Name of a Proposal.change case ("AddMember", "SetParam", ...); "none" for
 * ESG_PROPOSAL_NONE or a value that is not a change. Static storage. */
const char *esg_proposal_change_name(int change_case);

#endif
