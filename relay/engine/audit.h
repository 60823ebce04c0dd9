/* audit.h — the hearing's audit log: a hash chain of JSON lines, each write signed as it is made.
 *
 * Entry line (one line of JSON, members in this order):
 *   {"seq":N,"time":"2026-11-30T15:04:05.123456Z","actor":A,"action":X,"subject":S,
 *    "detail":D,"prev":P,"hash":H}
 * H is the lower-case hex SHA-256 of the line's bytes with `,"hash":"H"` removed (that is, the
 * line up to `,"hash":` followed by `}`); P is the previous entry's H (64 zeros for the first);
 * seq counts from 1. The first entry opens the log and names what it belongs to:
 *   {"seq":1,"time":T,"actor":"relay","action":"log-open","subject":"","detail":"",
 *    "hearing":ID,"case":C,"key":K,"prev":"000…","hash":H}
 * (K: base64 of the raw Ed25519 evidence public key). After every write the relay appends a
 * checkpoint, and when the hearing ends a closing signature:
 *   {"checkpoint":B64,"entries":N,"last":H}
 *   {"signature":B64,"alg":"Ed25519","entries":N,"last":H}
 * B64 is the Ed25519 signature of "testimony-audit-v2:checkpoint:" ID ":" N ":" H (or
 * "testimony-audit-v2:end:" … for the closing signature). Only entries whose action is
 * TM_AUDIT_AFTER_END_ACTION may follow that, each write of them ending with a closing signature
 * again.
 * Pure: time is a parameter, keys are bytes. See docs/audit-log.md. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define TM_AUDIT_HASH_HEX 64
#define TM_AUDIT_KEY_LEN 32 /* raw Ed25519 public key */
#define TM_AUDIT_MAX_LINE 4096
#define TM_AUDIT_MAX_HEARING 64
#define TM_AUDIT_FIELD_MAX 512 /* every string member is cut to this many bytes */

typedef struct {
  char last[TM_AUDIT_HASH_HEX + 1];
  uint64_t seq;
} TmAuditChain;

/* The one action that may follow a closing signature: retention's record that a finished
 * recording of the ended hearing was deleted or archived (docs/operations.md). */
#define TM_AUDIT_AFTER_END_ACTION "retention"

void tm_audit_chain_init(TmAuditChain *chain);
/* The first entry of a log (CHAIN must be fresh). KEY: the raw evidence public key. */
gchar *tm_audit_chain_open(TmAuditChain *chain, const char *time_utc, const char *hearing_id,
                           const char *case_number, const uint8_t key[TM_AUDIT_KEY_LEN]);
/* Formats the next entry (no line end) and advances the chain; strings may be "" but not NULL
 * and are cut to TM_AUDIT_FIELD_MAX bytes. Returns a newly allocated line. */
gchar *tm_audit_chain_append(TmAuditChain *chain, const char *time_utc, const char *actor,
                             const char *action, const char *subject, const char *detail);
/* The text a checkpoint (END false) or the closing signature (END true) signs. */
gchar *tm_audit_signed_text(const TmAuditChain *chain, const char *hearing_id, bool end);
/* The checkpoint (END false) or closing-signature line for SIG, from signing
 * tm_audit_signed_text with the same END. */
gchar *tm_audit_signature_line(const TmAuditChain *chain, const uint8_t *sig, size_t sig_len,
                               bool end);

typedef enum {
  TM_AUDIT_OK = 0,
  TM_AUDIT_ERR_MALFORMED,      /* a line is not an entry */
  TM_AUDIT_ERR_HASH,           /* an entry's hash does not match its contents (altered) */
  TM_AUDIT_ERR_CHAIN,          /* an entry does not follow the one before it (deleted, moved) */
  TM_AUDIT_ERR_NO_OPEN,        /* the first entry does not name the hearing and key */
  TM_AUDIT_ERR_WRONG_HEARING,  /* the log belongs to another hearing than the one expected */
  TM_AUDIT_ERR_WRONG_KEY,      /* the log names another evidence key than the pinned one */
  TM_AUDIT_ERR_CHECKPOINT,     /* a checkpoint's signature does not verify */
  TM_AUDIT_ERR_SIGNATURE,      /* the closing signature does not verify */
  TM_AUDIT_ERR_UNCHECKPOINTED, /* entries after the last signed checkpoint */
  TM_AUDIT_ERR_UNSIGNED,       /* every entry is signed, but not the end: the hearing is open */
  TM_AUDIT_ERR_TRAILING,       /* lines after the closing signature but retention entries */
  TM_AUDIT_ERR_COUNT
} TmAuditError;

typedef struct {
  TmAuditError error;
  guint line;                             /* 1-based line of the first problem; 0 when none */
  uint64_t entries;                       /* entries whose hashes and links verify */
  uint64_t checkpointed;                  /* entries covered by the last checkpoint that verifies */
  bool signed_log;                        /* the closing signature verifies */
  bool key_pinned;                        /* signatures were checked against the caller's key */
  char hearing[TM_AUDIT_MAX_HEARING + 1]; /* as the first entry names them ("" if none) */
  char case_number[TM_AUDIT_FIELD_MAX + 1];
  uint8_t key[TM_AUDIT_KEY_LEN]; /* the key the first entry names */
  size_t signed_bytes;           /* bytes up to the end of the last signature line that verified */
  TmAuditChain chain;            /* the chain after the last entry that verified */
  TmAuditChain ended;            /* the chain at the first closing signature (seq 0: none) */
} TmAuditReport;

/* Checks every entry, checkpoint and the closing signature. Signatures are checked against
 * PINNED_KEY when given (a log naming another key fails), else against the key the log names
 * (REPORT->key_pinned false: integrity only). EXPECTED_HEARING, when given, must be the hearing
 * the log names. A log that verifies but is not closed gives TM_AUDIT_ERR_UNSIGNED. No size
 * limit: memory use does not grow with the log. */
TmAuditError tm_audit_verify(const char *text, size_t len, const uint8_t *pinned_key,
                             const char *expected_hearing, TmAuditReport *report);
const char *tm_audit_strerror(TmAuditError err);
/* After a failed verification: TRUE when the problem lies only in bytes after the last signed
 * checkpoint (REPORT->signed_bytes) — no checkpoint or signature line follows it — so that the
 * signed part is sound and only an unsigned tail (an interrupted write, or lines added since)
 * must be set aside; FALSE when the signed part itself does not verify. */
bool tm_audit_problem_in_tail(const char *text, size_t len, const TmAuditReport *report);

/* What a participant can make the log grow by is bounded (docs/audit-log.md):
 * - refused controls: one entry per participant and action per TM_AUDIT_REFUSAL_INTERVAL_US,
 *   which carries how many were refused since the last one;
 * - accepted controls: a token bucket per participant (TM_AUDIT_ACTION_RATE per second,
 *   TM_AUDIT_ACTION_BURST at once); past it the control is refused (not carried out), so no
 *   action goes unlogged. */
#define TM_AUDIT_REFUSAL_INTERVAL_US (60 * G_USEC_PER_SEC)
#define TM_AUDIT_ACTION_RATE 1.0
#define TM_AUDIT_ACTION_BURST 20.0

typedef struct {
  int64_t next_us; /* the next refusal at or after this time is written */
  guint held;      /* refusals not written yet */
} TmAuditRefusal;

void tm_audit_refusal_init(TmAuditRefusal *r);
/* A refusal at NOW_US: returns how many refusals the entry to write now stands for (this one and
 * those held back before it), or 0 when this one is held back. */
guint tm_audit_refusal_note(TmAuditRefusal *r, int64_t now_us);
/* Refusals held back and not yet written (to write when the participant leaves); resets. */
guint tm_audit_refusal_take(TmAuditRefusal *r);
