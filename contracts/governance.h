/* Governance contracts: how the consortium
 * of cities changes itself, and how a member manages its own keys.
 *
 * Propose / Vote. A proposal is a change that needs the consortium: admit,
 * suspend or reinstate a member, accredit a verifier for KPI categories or
 * revoke that, add, remove or re-weight a validator, set a parameter, add a
 * KPI. It is proposed and voted on by ADMIN accounts of CITY members, one
 * vote per city; proposing counts as the proposing city's approval. The
 * proposal's id is the id of the Propose transaction. Its record lives at
 * ESG_T_PROPOSALS/id (ProposalRecord), and while it is OPEN an index row
 * ESG_T_PROPOSAL_EXPIRY/(expires_height as 8 bytes big-endian ‖ id) -> ""
 * lets the end of block find the proposals that expire.
 *
 * Threshold. With C the CITY members not suspended when a vote is counted,
 * A the approvals and R the rejections among them, and T the parameter
 * governance_threshold_bps:
 *   executes when  A * 10000 >= T * C          (default T 6667: > 2/3)
 *   rejected when  (C - R) * 10000 < T * C     (it can no longer pass)
 * evaluated after the proposal and after every vote, so a proposal
 * executes in the very block whose vote reaches the threshold (at once in a
 * one-city consortium). A change is checked against the state when it is
 * proposed (a bad one is rejected with the rule's error) and again when it
 * executes: if it is no longer valid then (say the member was admitted
 * meanwhile by another proposal) the proposal becomes FAILED with the
 * error's name in `failure`, and the vote that triggered it still succeeds.
 * A proposal still OPEN at the end of block expires_height (= proposing
 * height + proposal_ttl_blocks) becomes EXPIRED. Votes are accepted up to
 * and including expires_height.
 *
 * Effects of an executed change:
 *   AddMember          MemberRecord{admitted_height, lei, population} and
 *                      its first account (roles ADMIN, OFFICER; nonce 0)
 *                      with its index row
 *   Suspend/Reinstate  MemberRecord.suspended (the executor then refuses
 *                      every account of a suspended member)
 *   Accredit/Revoke    MemberRecord.accredited_categories (sorted, unique)
 *   validator changes  ESG_T_VALIDATORS, and block->valset_changed so the
 *                      executor records the set in force from height + 2
 *   SetParam           Params
 *   AddKpi             ESG_T_KPIS/id -> Kpi
 *
 * AddAccount / RevokeAccount. An ADMIN account adds an account to its own
 * member (key rotation without a vote) or revokes one of them. Keys are
 * never reused: an account key that ever existed, even revoked, cannot be
 * added again. A revoked account keeps its record (history) with
 * revoked = true. A member's last live ADMIN account cannot be revoked.
 *
 * Errors: each rule has its own code from ledger/error.h, listed at each
 * function. A rejected transaction changes nothing (the executor rolls back
 * its writes); storage errors (ESG_ERR_STORE, ESG_ERR_MAP_FULL,
 * ESG_ERR_NOMEM, ESG_ERR_STORE_CORRUPT) pass through.
 */
#ifndef ESG_CONTRACTS_GOVERNANCE_H
#define ESG_CONTRACTS_GOVERNANCE_H

#include "ledger/contract.h"

#define ESG_GOV_MAX_DESCRIPTION 1000 /* bytes of Proposal.description */

/* Propose{proposal}.
 * ESG_ERR_UNAUTHORIZED   signer not ADMIN, or its member not a CITY
 * ESG_ERR_BAD_PROPOSAL   no change, description over 1000 bytes, suspending
 *                        a suspended member or the last active city,
 *                        reinstating an active member, validator set full
 * and the change's own rules:
 *   AddMember        ESG_ERR_BAD_MEMBER_ID, ESG_ERR_MEMBER_EXISTS,
 *                    ESG_ERR_BAD_MEMBER_KIND, ESG_ERR_BAD_NAME,
 *                    ESG_ERR_BAD_COUNTRY, ESG_ERR_BAD_LEI (lei given
 *                    but not an ISO 17442 LEI), ESG_ERR_BAD_POPULATION
 *                    (over 10^10; 0 means not given), ESG_ERR_BAD_PUBKEY,
 *                    ESG_ERR_ACCOUNT_EXISTS
 *   Suspend/Reinstate ESG_ERR_BAD_MEMBER_ID, ESG_ERR_UNKNOWN_MEMBER
 *   Accredit/Revoke  ESG_ERR_BAD_MEMBER_ID, ESG_ERR_UNKNOWN_MEMBER,
 *                    ESG_ERR_NOT_VERIFIER, ESG_ERR_BAD_CATEGORY (none
 *                    given, unknown, or listed twice), ESG_ERR_NOT_ACCREDITED
 *                    (revoking a category not held)
 *   AddValidator     ESG_ERR_BAD_PUBKEY, ESG_ERR_VALIDATOR_EXISTS,
 *                    ESG_ERR_BAD_POWER (outside 1..2^60, or total power
 *                    over 2^60), ESG_ERR_BAD_MEMBER_ID, ESG_ERR_UNKNOWN_MEMBER
 *   RemoveValidator  ESG_ERR_BAD_PUBKEY, ESG_ERR_UNKNOWN_VALIDATOR,
 *                    ESG_ERR_LAST_VALIDATOR
 *   SetValidatorPower ESG_ERR_BAD_PUBKEY, ESG_ERR_UNKNOWN_VALIDATOR,
 *                    ESG_ERR_BAD_POWER
 *   SetParam         ESG_ERR_BAD_PARAM (governance_threshold_bps
 *                    5001..10000, proposal_ttl_blocks 1..10000000,
 *                    max_block_txs 1..100000, max_block_bytes
 *                    ESG_MIN_BLOCK_BYTES..ESG_MAX_BLOCK_BYTES, i.e.
 *                    2097152..67108864)
 *   AddKpi           ESG_ERR_BAD_KPI (id [a-z0-9_]{2,64}, name 1..200
 *                    characters, unit 1..32, category, direction),
 *                    ESG_ERR_KPI_EXISTS */
int esg_gov_propose(esg_tx_ctx *ctx);

/* Vote{proposal_id, approve}.
 * ESG_ERR_UNAUTHORIZED     signer not ADMIN, or its member not a CITY
 * ESG_ERR_UNKNOWN_PROPOSAL no proposal with that id
 * ESG_ERR_PROPOSAL_CLOSED  decided already, or past expires_height
 * ESG_ERR_ALREADY_VOTED    the signer's city has voted (or proposed it) */
int esg_gov_vote(esg_tx_ctx *ctx);

/* AddAccount{pubkey, roles}: a new account of the signer's member.
 * ESG_ERR_UNAUTHORIZED   signer not ADMIN
 * ESG_ERR_BAD_PUBKEY     not a valid 32-byte x-only key
 * ESG_ERR_ACCOUNT_EXISTS the key is (or was) an account
 * ESG_ERR_BAD_ROLES      roles empty, duplicated, or not ADMIN/OFFICER */
int esg_gov_add_account(esg_tx_ctx *ctx);

/* RevokeAccount{pubkey}: revokes an account of the signer's member (the
 * signer's own included, if another ADMIN remains).
 * ESG_ERR_UNAUTHORIZED   signer not ADMIN, or the account is another
 *                        member's
 * ESG_ERR_BAD_PUBKEY     pubkey is not 32 bytes
 * ESG_ERR_UNKNOWN_ACCOUNT no such account
 * ESG_ERR_ACCOUNT_REVOKED already revoked
 * ESG_ERR_LAST_ADMIN     it is the member's last live ADMIN account */
int esg_gov_revoke_account(esg_tx_ctx *ctx);

/* End of block: proposals still OPEN whose expires_height is this block's
 * height become EXPIRED (decided_height = height); their index rows are
 * deleted. Returns 0 or a storage error (which makes the block invalid). */
int esg_gov_end_block(esg_block_ctx *ctx);

/* The governance rows of the contract table (contracts/contracts.c). */
#define ESG_GOVERNANCE_CONTRACTS                 \
    [ESG_ACTION_PROPOSE] = esg_gov_propose,       \
    [ESG_ACTION_VOTE] = esg_gov_vote,             \
    [ESG_ACTION_ADD_ACCOUNT] = esg_gov_add_account, \
    [ESG_ACTION_REVOKE_ACCOUNT] = esg_gov_revoke_account,

#endif
