/* evidence.h — the relay's Ed25519 evidence key, and the court's X25519 keys.
 *
 *   DIR/keys/evidence.key   Ed25519 private key (PKCS#8 PEM, mode 0600), created on first use
 *   DIR/keys/evidence.pub   its public key (SubjectPublicKeyInfo PEM), exported for the court
 *
 * Signing and verifying are generic (any bytes): the recorder signs recording manifests with
 * it, the hearing audit log is signed the same way. Signatures are raw Ed25519 (64 bytes). */
#pragma once

#include <glib.h>
#include <stdint.h>

#define TM_EVIDENCE_SIG_LEN 64
#define TM_EVIDENCE_PUB_LEN 32

typedef struct _TmEvidenceKey TmEvidenceKey;

/* Loads DIR/keys/evidence.key, creating it (and DIR/keys) if missing, and (re)writes
 * DIR/keys/evidence.pub when missing or different. Refuses a private key file that others can
 * read. */
TmEvidenceKey *tm_evidence_key_load(const char *state_dir, GError **error);
void tm_evidence_key_free(TmEvidenceKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmEvidenceKey, tm_evidence_key_free)

/* The 64-byte Ed25519 signature of DATA (never NULL). Thread-safe. */
GBytes *tm_evidence_sign(TmEvidenceKey *key, const void *data, size_t len);
/* The raw 32-byte public key, and its PEM text (owned by KEY). */
const uint8_t *tm_evidence_key_public(const TmEvidenceKey *key);
const char *tm_evidence_key_public_pem(const TmEvidenceKey *key);

/* Verifies SIG over DATA with a raw Ed25519 public key. FALSE with a readable error. */
gboolean tm_evidence_verify(const uint8_t public_key[TM_EVIDENCE_PUB_LEN], const void *data,
                            size_t len, const void *sig, size_t sig_len, GError **error);
/* Reads an Ed25519 public key from a PEM file (evidence.pub) into raw bytes. */
gboolean tm_evidence_public_load(const char *pem_path, uint8_t out[TM_EVIDENCE_PUB_LEN],
                                 GError **error);
/* Lower-case hex SHA-256 of a raw public key: how keys are named to people. g_free. */
char *tm_evidence_fingerprint(const uint8_t public_key[TM_EVIDENCE_PUB_LEN]);

/* The court's X25519 keys (encryption at rest), PEM files → raw 32 bytes. A private key file
 * may also be given where a public key is expected. */
gboolean tm_evidence_x25519_public_load(const char *pem_path, uint8_t out[32], GError **error);
gboolean tm_evidence_x25519_private_load(const char *pem_path, uint8_t out[32], GError **error);
