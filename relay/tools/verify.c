/* verify.c — testimony-verify: checks a recording or an audit log without the relay.
 *
 *   testimony-verify RECORDING [--key evidence.pub]
 *   testimony-verify --audit FILE [--hearing ID | RECORDING] [--key evidence.pub]
 *
 * Checks the manifest's Ed25519 signature, the file header and every chunk against the hash
 * chain and what the manifest signs (chunk count, final hash), prints a plain summary
 * (participants, duration, tracks, gaps, pauses, markers). Exit status: 0 everything verifies
 * and was signed by the pinned key (--key); 3 it is intact but signed by a key nobody pinned
 * (authenticity not checked); 1 altered, damaged, unfinished or of another hearing (the message
 * names the first bad chunk or line); 2 usage. */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "audit.h"
#include "evidence.h"
#include "recording-reader.h"

enum { EXIT_ALTERED = 1, EXIT_USAGE = 2, EXIT_UNPINNED = 3 };

static char *opt_key;
static char *opt_audit;
static char *opt_hearing;
static gboolean opt_quiet;
static char **opt_args;

static const GOptionEntry options[] = {
  { "key", 'k', 0, G_OPTION_ARG_FILENAME, &opt_key,
    "The relay's evidence public key (evidence.pub) the signature must match", "FILE" },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Print only the verdict", NULL },
  { "audit", 'a', 0, G_OPTION_ARG_FILENAME, &opt_audit,
    "Check a hearing's audit log (STATE/hearings/ID.audit.jsonl) instead of a recording", "FILE" },
  { "hearing", 0, 0, G_OPTION_ARG_STRING, &opt_hearing,
    "With --audit: the hearing the log must belong to (else a RECORDING's hearing)", "ID" },
  { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_args, NULL, "RECORDING" },
  { NULL, 0, 0, 0, NULL, NULL, NULL },
};

static char *
duration_text(int64_t us)
{
  int64_t s = (us + G_USEC_PER_SEC / 2) / G_USEC_PER_SEC;
  return g_strdup_printf("%lld:%02lld:%02lld", (long long) (s / 3600), (long long) (s / 60 % 60),
                         (long long) (s % 60));
}

static const char *
participant_label(TmRecording *rec, int64_t index)
{
  JsonArray *ps = tm_recording_array(rec->manifest, "participants");
  for (guint i = 0; i < json_array_get_length(ps); i++) {
    JsonObject *p = json_array_get_object_element(ps, i);
    if (p != NULL && tm_recording_int(p, "index") == index)
      return tm_recording_str(p, "name");
  }
  return "?";
}

/* Packets and bytes per participant and track, for an unencrypted recording. */
static void
count_packets(TmRecording *rec, GHashTable *counts)
{
  TmRecordKey key;
  if (rec->res.header.encrypted || tm_record_key_init(&key, &rec->res.header, NULL) != 0)
    return;
  size_t pos = rec->res.header.size;
  for (uint32_t i = 0; i < rec->res.chunks; i++) {
    TmRecordChunk c;
    if (tm_record_chunk_parse(rec->bytes + pos, rec->len - pos, &c) != TM_RECORD_OK)
      return;
    TmReader r;
    tm_reader_init(&r, c.payload, c.payload_len);
    TmRecordEntry e;
    while (tm_reader_remaining(&r) > 0 && tm_record_entry_parse(&r, &e) == TM_RECORD_OK) {
      if (e.type != TM_RECORD_PACKET)
        continue;
      gpointer k = GUINT_TO_POINTER((guint) e.participant * 2 + e.track + 1);
      g_hash_table_replace(counts, k,
                           GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(counts, k)) + 1));
    }
    pos += c.size;
  }
}

static void
print_participants(TmRecording *rec)
{
  JsonArray *ps = tm_recording_array(rec->manifest, "participants");
  printf("Participants: %u\n", json_array_get_length(ps));
  for (guint i = 0; i < json_array_get_length(ps); i++) {
    JsonObject *p = json_array_get_object_element(ps, i);
    printf("  %s (%s)", tm_recording_str(p, "name"), tm_recording_str(p, "role"));
    JsonArray *spans = tm_recording_array(p, "present");
    for (guint j = 0; j < json_array_get_length(spans); j++) {
      JsonObject *s = json_array_get_object_element(spans, j);
      g_autofree char *a = tm_recording_hearing_time(rec, tm_recording_int(s, "join_us"), FALSE);
      g_autofree char *b = tm_recording_hearing_time(rec, tm_recording_int(s, "leave_us"), FALSE);
      printf("%s %s-%s", j == 0 ? ": present" : ",", a, b);
    }
    printf("\n");
  }
  g_autoptr(GHashTable) counts = g_hash_table_new(NULL, NULL);
  count_packets(rec, counts);
  JsonArray *ts = tm_recording_array(rec->manifest, "tracks");
  printf("Tracks: %u\n", json_array_get_length(ts));
  for (guint i = 0; i < json_array_get_length(ts); i++) {
    JsonObject *t = json_array_get_object_element(ts, i);
    int64_t p = tm_recording_int(t, "participant");
    const char *kind = tm_recording_str(t, "kind");
    printf("  %s %s: %s %lld Hz", participant_label(rec, p), kind, tm_recording_str(t, "codec"),
           (long long) tm_recording_int(t, "clock_rate"));
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(
      counts, GUINT_TO_POINTER((guint) p * 2 + (strcmp(kind, "video") == 0) + 1)));
    if (!rec->res.header.encrypted)
      printf(", %u packets", n);
    printf("\n");
  }
}

static void
print_events(TmRecording *rec)
{
  JsonArray *gaps = tm_recording_array(rec->manifest, "gaps");
  printf("Gaps: %u\n", json_array_get_length(gaps));
  for (guint i = 0; i < json_array_get_length(gaps); i++) {
    JsonObject *g = json_array_get_object_element(gaps, i);
    int64_t a = tm_recording_int(g, "start_us"), b = tm_recording_int(g, "end_us");
    g_autofree char *from = tm_recording_hearing_time(rec, a, TRUE);
    g_autofree char *to = tm_recording_hearing_time(rec, b, TRUE);
    printf("  %s %s: %s-%s (%.1f s)\n", participant_label(rec, tm_recording_int(g, "participant")),
           tm_recording_str(g, "track"), from, to, (double) (b - a) / G_USEC_PER_SEC);
  }
  JsonArray *pauses = tm_recording_array(rec->manifest, "pauses");
  printf("Pauses: %u\n", json_array_get_length(pauses));
  for (guint i = 0; i < json_array_get_length(pauses); i++) {
    JsonObject *p = json_array_get_object_element(pauses, i);
    g_autofree char *from = tm_recording_hearing_time(rec, tm_recording_int(p, "start_us"), FALSE);
    g_autofree char *to = tm_recording_hearing_time(rec, tm_recording_int(p, "end_us"), FALSE);
    printf("  %s-%s\n", from, to);
  }
  JsonArray *markers = tm_recording_array(rec->manifest, "markers");
  printf("Markers: %u\n", json_array_get_length(markers));
  for (guint i = 0; i < json_array_get_length(markers); i++) {
    JsonObject *m = json_array_get_object_element(markers, i);
    g_autofree char *at = tm_recording_hearing_time(rec, tm_recording_int(m, "time_us"), FALSE);
    printf("  %s %s (%s): %s\n", at, tm_recording_str(m, "time_utc"), tm_recording_str(m, "by"),
           tm_recording_str(m, "text"));
  }
}

static void
print_summary(TmRecording *rec)
{
  JsonObject *m = rec->manifest;
  int64_t paused = 0;
  JsonArray *pauses = tm_recording_array(m, "pauses");
  for (guint i = 0; i < json_array_get_length(pauses); i++) {
    JsonObject *p = json_array_get_object_element(pauses, i);
    paused += tm_recording_int(p, "end_us") - tm_recording_int(p, "start_us");
  }
  g_autofree char *total = duration_text(rec->end_us - rec->start_us);
  g_autofree char *recorded = duration_text(rec->end_us - rec->start_us - paused);
  const char *case_number = tm_recording_str(m, "case_number");
  printf("Hearing: %s%s%s\n", tm_recording_str(m, "hearing_id"), *case_number ? ", case " : "",
         case_number);
  printf("Start: %s\nEnd:   %s\n", tm_recording_str(m, "start_utc"),
         tm_recording_str(m, "end_utc"));
  printf("Duration: %s (%s recorded, %s paused)\n", total, recorded, paused > 0 ? "some" : "none");
  if (json_object_get_boolean_member_with_default(m, "interrupted", FALSE))
    printf("INTERRUPTED: the relay stopped during the recording; it was finished at restart\n");
  JsonObject *recovery = tm_recording_object(m, "recovery");
  if (recovery != NULL)
    printf("Recovered up to the relay's signed checkpoint %lld (%s); %lld complete chunks after "
           "it could not be authenticated and are not part of the recording\n",
           (long long) tm_recording_int(recovery, "checkpoint"),
           tm_recording_str(recovery, "checkpoint_utc"),
           (long long) tm_recording_int(recovery, "unauthenticated_chunks"));
  if (*tm_recording_str(m, "note"))
    printf("Note: %s\n", tm_recording_str(m, "note"));
  if (tm_recording_int(m, "dropped_packets") > 0)
    printf("Dropped by an overloaded recorder: %lld packets\n",
           (long long) tm_recording_int(m, "dropped_packets"));
  print_participants(rec);
  print_events(rec);
}

/* Checks a recording; *HEARING (g_free) names its hearing when the manifest could be read. */
static int
verify_recording(const char *path, char **hearing)
{
  GError *error = NULL;
  g_autoptr(TmRecording) rec = tm_recording_open(path, &error);
  if (rec != NULL && rec->manifest != NULL)
    *hearing = g_strdup(tm_recording_str(rec->manifest, "hearing_id"));
  if (rec == NULL || !tm_recording_check(rec, opt_key, &error)) {
    printf("FAILED: %s\n", error->message);
    g_error_free(error);
    return EXIT_ALTERED;
  }
  char hex[2 * TM_RECORD_HASH_LEN + 1];
  tm_record_hex(rec->res.last_hash, TM_RECORD_HASH_LEN, hex);
  g_autofree char *fingerprint = tm_evidence_fingerprint(rec->signer);
  if (rec->signer_trusted)
    printf("OK: %s\nSignature: valid, by the given evidence key SHA256:%s\n", rec->dir,
           fingerprint);
  else
    printf("INTEGRITY ONLY: %s is intact and signed by evidence key SHA256:%s, which you have "
           "not pinned: authenticity NOT checked (pass --key evidence.pub)\n",
           rec->dir, fingerprint);
  printf("Chunks: %u verify, %zu bytes, final hash %s%s\n", rec->res.chunks, rec->res.good_bytes,
         hex, rec->res.header.encrypted ? ", encrypted for the court" : "");
  if (rec->res.tail_bytes > 0)
    printf("Not part of the recording: %zu bytes after the last chunk the relay vouched for "
           "(lost in the crash, or not authenticated)\n",
           rec->res.tail_bytes);
  if (!opt_quiet)
    print_summary(rec);
  return rec->signer_trusted ? EXIT_SUCCESS : EXIT_UNPINNED;
}

/* The hearing audit log (docs/audit-log.md): every entry's hash and link, every checkpoint, the
 * closing signature, and the hearing it names. */
static int
verify_audit(const char *path, const char *expected_hearing)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mf = g_mapped_file_new(path, FALSE, &error);
  if (mf == NULL) {
    fprintf(stderr, "testimony-verify: %s\n", error->message);
    return EXIT_USAGE;
  }
  uint8_t pub[TM_EVIDENCE_PUB_LEN];
  if (opt_key != NULL && !tm_evidence_public_load(opt_key, pub, &error)) {
    fprintf(stderr, "testimony-verify: %s\n", error->message);
    return EXIT_USAGE;
  }
  TmAuditReport r;
  TmAuditError e = tm_audit_verify(g_mapped_file_get_contents(mf), g_mapped_file_get_length(mf),
                                   opt_key != NULL ? pub : NULL, expected_hearing, &r);
  g_autofree char *fingerprint = tm_evidence_fingerprint(r.key);
  if (e == TM_AUDIT_ERR_WRONG_HEARING) {
    printf("WRONG HEARING: %s is the audit log of hearing %s, not %s\n", path, r.hearing,
           expected_hearing);
    return EXIT_ALTERED;
  }
  if (e != TM_AUDIT_OK && e != TM_AUDIT_ERR_UNSIGNED) {
    printf("ALTERED: %s, line %u: %s (the %" G_GUINT64_FORMAT " entries before it verify)\n", path,
           r.line, tm_audit_strerror(e), r.entries);
    return EXIT_ALTERED;
  }
  const char *case_number = r.case_number;
  printf("Hearing: %s%s%s\n", r.hearing, *case_number ? ", case " : "", case_number);
  if (e == TM_AUDIT_ERR_UNSIGNED) {
    printf("NOT CLOSED: the %" G_GUINT64_FORMAT " entries of %s verify and are signed, but %s\n",
           r.entries, path, tm_audit_strerror(e));
    return EXIT_ALTERED;
  }
  if (!r.key_pinned) {
    printf("INTEGRITY ONLY: the audit log %s is intact (%" G_GUINT64_FORMAT " entries), signed by "
           "evidence key SHA256:%s, which you have not pinned: authenticity NOT checked (pass "
           "--key evidence.pub)\n",
           path, r.entries, fingerprint);
    return EXIT_UNPINNED;
  }
  printf("OK: the audit log %s verifies: %" G_GUINT64_FORMAT " entries, signed by the given "
         "evidence key SHA256:%s\n",
         path, r.entries, fingerprint);
  return EXIT_SUCCESS;
}

int
main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  g_autoptr(GOptionContext) ctx = g_option_context_new("RECORDING");
  g_option_context_set_summary(ctx,
                               "Checks an evidence recording of testimony-relay: the "
                               "signature of its manifest and every chunk of its data.");
  g_option_context_add_main_entries(ctx, options, NULL);
  GError *error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "testimony-verify: %s\n", error->message);
    g_error_free(error);
    return EXIT_USAGE;
  }
  int n_args = opt_args != NULL ? (int) g_strv_length(opt_args) : 0;
  if (n_args > 1 || (n_args == 0 && opt_audit == NULL) || (opt_hearing != NULL && !opt_audit)) {
    fprintf(stderr,
            "usage: testimony-verify RECORDING [--key evidence.pub]\n"
            "       testimony-verify --audit FILE [--hearing ID | RECORDING] "
            "[--key evidence.pub]\n");
    return EXIT_USAGE;
  }
  int rc = EXIT_SUCCESS;
  g_autofree char *hearing = NULL;
  if (n_args == 1)
    rc = verify_recording(opt_args[0], &hearing);
  if (opt_audit != NULL) {
    if (n_args == 1)
      printf("\n");
    int audit_rc = verify_audit(opt_audit, opt_hearing != NULL ? opt_hearing : hearing);
    rc = rc == EXIT_ALTERED || audit_rc == EXIT_ALTERED ? EXIT_ALTERED
      : rc == EXIT_USAGE || audit_rc == EXIT_USAGE      ? EXIT_USAGE
                                                        : MAX(rc, audit_rc);
  }
  g_strfreev(opt_args);
  g_free(opt_key);
  g_free(opt_audit);
  g_free(opt_hearing);
  return rc;
}
