/* audit.h — the hearing's audit log: a hash chain of JSON lines, signed when the hearing ends.
 *
 * Entry line (one line of JSON, members in this order):
 *   {"seq":N,"time":"2026-11-30T15:04:05.123456Z","actor":A,"action":X,"subject":S,
 *    "detail":D,"prev":P,"hash":H}
 * H is the lower-case hex SHA-256 of the line's bytes with `,"hash":"H"` removed (that is, the
 * line up to `,"hash":` followed by `}`); P is the previous entry's H (64 zeros for the first);
 * seq counts from 1. The last line may be the signature:
 *   {"signature":B64,"alg":"Ed25519","entries":N,"last":H}
 * B64 is the Ed25519 signature of the ASCII text "testimony-audit-v1:" + N + ":" + H.
 * Pure: the time is a string the caller gives. See docs/audit-log.md. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>

#define TM_AUDIT_HASH_HEX 64
#define TM_AUDIT_MAX_LINE 4096
#define TM_AUDIT_MAX_SIZE (64u << 20) /* a log larger than this is refused */

typedef struct {
  char last[TM_AUDIT_HASH_HEX + 1];
  uint64_t seq;
} TmAuditChain;

void tm_audit_chain_init(TmAuditChain *chain);
/* Formats the next entry (no line end) and advances the chain; strings may be "" but not NULL
 * and are cut to 512 bytes. Returns a newly allocated line. */
gchar *tm_audit_chain_append(TmAuditChain *chain, const char *time_utc, const char *actor,
                             const char *action, const char *subject, const char *detail);
/* The text a signature covers, for the chain's current state. */
gchar *tm_audit_signed_text(const TmAuditChain *chain);
/* The signature line for SIG (from signing tm_audit_signed_text). */
gchar *tm_audit_signature_line(const TmAuditChain *chain, const uint8_t *sig, size_t sig_len);

typedef enum {
  TM_AUDIT_OK = 0,
  TM_AUDIT_ERR_MALFORMED,    /* a line is not an entry */
  TM_AUDIT_ERR_HASH,         /* an entry's hash does not match its contents (altered) */
  TM_AUDIT_ERR_CHAIN,        /* an entry does not follow the one before it (deleted, reordered) */
  TM_AUDIT_ERR_SIGNATURE,    /* the signature does not verify */
  TM_AUDIT_ERR_UNSIGNED,     /* no signature line (the hearing has not ended) */
  TM_AUDIT_ERR_TRAILING,     /* lines after the signature */
  TM_AUDIT_ERR_TOO_LARGE,
  TM_AUDIT_ERR_COUNT
} TmAuditError;

typedef struct {
  TmAuditError error;
  guint line;                /* 1-based line of the first problem; 0 when none */
  uint64_t entries;          /* entries that verified */
  bool signed_log;
  TmAuditChain chain;        /* the chain after the last entry that verified */
} TmAuditReport;

/* Checks every entry and, when PUBLIC_KEY is not NULL, the signature. An unsigned log that
 * otherwise verifies gives TM_AUDIT_ERR_UNSIGNED. */
TmAuditError tm_audit_verify(const char *text, size_t len, EVP_PKEY *public_key,
                             TmAuditReport *report);
const char *tm_audit_strerror(TmAuditError err);
