/* recording-reader.c — opening and checking a recording for testimony-verify and testimony-export. */
#include "recording-reader.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "evidence.h"

#define MANIFEST_CAP (16 * 1024 * 1024)
#define SIG_CAP 1024

static gboolean
read_capped(const char *path, gsize cap, char **text, gsize *len, GError **error)
{
  GStatBuf st;
  if (g_stat(path, &st) == 0 && st.st_size > (goffset) cap) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s is too large (%lld bytes) to be part of a recording", path,
                (long long) st.st_size);
    return FALSE;
  }
  return g_file_get_contents(path, text, len, error);
}

const char *
tm_recording_str(JsonObject *o, const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
  if (n == NULL || json_node_get_value_type(n) != G_TYPE_STRING)
    return "";
  return json_node_get_string(n);
}

int64_t
tm_recording_int(JsonObject *o, const char *member)
{
  JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
  if (n == NULL || json_node_get_value_type(n) != G_TYPE_INT64)
    return 0;
  return json_node_get_int(n);
}

JsonObject *
tm_recording_object(JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member(o, member);
  return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

JsonArray *
tm_recording_array(JsonObject *o, const char *member)
{
  static JsonArray *empty;
  JsonNode *n = o != NULL ? json_object_get_member(o, member) : NULL;
  if (n != NULL && JSON_NODE_HOLDS_ARRAY(n))
    return json_node_get_array(n);
  if (empty == NULL)
    empty = json_array_new();
  return empty;
}

char *
tm_recording_hearing_time(const TmRecording *rec, int64_t us, gboolean millis)
{
  int64_t d = us - rec->start_us;
  const char *sign = d < 0 ? "-" : "";
  d = d < 0 ? -d : d;
  int64_t s = d / G_USEC_PER_SEC;
  if (millis)
    return g_strdup_printf("%s%02lld:%02lld:%02lld.%03lld", sign, (long long) (s / 3600),
                           (long long) (s / 60 % 60), (long long) (s % 60),
                           (long long) (d / 1000 % 1000));
  return g_strdup_printf("%s%02lld:%02lld:%02lld", sign, (long long) (s / 3600),
                         (long long) (s / 60 % 60), (long long) (s % 60));
}

static char *
find_dir(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR))
    return g_strdup(path);
  return g_path_get_dirname(path);
}

static gboolean
load_manifest(TmRecording *rec, GError **error)
{
  g_autofree char *path = g_build_filename(rec->dir, "manifest.json", NULL);
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!read_capped(path, MANIFEST_CAP, &rec->manifest_text, &rec->manifest_len, error))
    return FALSE;
  rec->parser = json_parser_new();
  if (!json_parser_load_from_data(rec->parser, rec->manifest_text, (gssize) rec->manifest_len,
                                  NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(rec->parser))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: %s is not valid JSON any more", path);
    return FALSE;
  }
  rec->manifest = json_node_get_object(json_parser_get_root(rec->parser));
  return TRUE;
}

TmRecording *
tm_recording_open(const char *path, GError **error)
{
  g_autoptr(TmRecording) rec = g_new0(TmRecording, 1);
  rec->dir = find_dir(path);
  rec->data_path = g_build_filename(rec->dir, "recording.tmr", NULL);
  if (!g_file_test(rec->data_path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "%s is not a recording: it has no recording.tmr", rec->dir);
    return NULL;
  }
  rec->data = g_mapped_file_new(rec->data_path, FALSE, error);
  if (rec->data == NULL)
    return NULL;
  rec->bytes = (const uint8_t *) g_mapped_file_get_contents(rec->data);
  rec->len = g_mapped_file_get_length(rec->data);
  if (!load_manifest(rec, error))
    return NULL;
  TmRecordHeader h;
  if (tm_record_header_parse(rec->bytes, rec->len, &h) == TM_RECORD_OK)
    rec->start_us = h.start_us;
  else
    rec->start_us = tm_recording_int(rec->manifest, "start_us");
  rec->end_us = rec->manifest != NULL ? tm_recording_int(rec->manifest, "end_us") : rec->start_us;
  return g_steal_pointer(&rec);
}

void
tm_recording_free(TmRecording *rec)
{
  if (rec == NULL)
    return;
  if (rec->data != NULL)
    g_mapped_file_unref(rec->data);
  if (rec->parser != NULL)
    g_object_unref(rec->parser);
  g_free(rec->manifest_text);
  g_free(rec->dir);
  g_free(rec->data_path);
  g_free(rec);
}

static gboolean
check_signature(TmRecording *rec, const char *key_path, GError **error)
{
  g_autofree char *sig_path = g_build_filename(rec->dir, "manifest.sig", NULL);
  g_autofree char *sig_text = NULL;
  if (!read_capped(sig_path, SIG_CAP, &sig_text, NULL, error))
    return FALSE;
  gsize sig_len = 0;
  g_autofree guchar *sig = g_base64_decode(g_strstrip(sig_text), &sig_len);
  gsize key_len = 0;
  g_autofree guchar *embedded =
    g_base64_decode(tm_recording_str(rec->manifest, "evidence_key"), &key_len);
  if (key_path != NULL) {
    if (!tm_evidence_public_load(key_path, rec->signer, error))
      return FALSE;
    rec->signer_trusted = TRUE;
  } else if (key_len == sizeof rec->signer) {
    memcpy(rec->signer, embedded, sizeof rec->signer);
  } else {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the manifest names no valid evidence key");
    return FALSE;
  }
  GError *local = NULL;
  if (!tm_evidence_verify(rec->signer, rec->manifest_text, rec->manifest_len, sig, sig_len,
                          &local)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the manifest's signature does not verify (%s)", local->message);
    g_error_free(local);
    return FALSE;
  }
  if (key_path != NULL &&
      (key_len != sizeof rec->signer || memcmp(embedded, rec->signer, key_len) != 0)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the manifest names another evidence key than %s", key_path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
fail_chunk(TmRecording *rec, const TmRecordVerifyResult *res, GError **error)
{
  g_autofree char *at = tm_recording_hearing_time(rec, res->bad_time_us, TRUE);
  if (res->status == TM_RECORD_VERIFY_BAD_HEADER) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the header of %s is damaged (%s)", rec->data_path,
                tm_record_strerror(res->error));
  } else if (res->status == TM_RECORD_VERIFY_TRUNCATED) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the recording is cut short: chunk %u (from %s in the hearing) and "
                "everything after it is missing or incomplete; %u of %lld chunks verify",
                res->bad_index, at, res->chunks,
                (long long) tm_recording_int(rec->manifest, "chunk_count"));
  } else if (res->error == TM_RECORD_ERR_INDEX) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: chunk %u (from %s in the hearing) is missing or out of place: chunk %u "
                "stands where it should be",
                res->bad_index, at, res->found_index);
  } else {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: chunk %u (from %s in the hearing) is damaged: %s", res->bad_index, at,
                tm_record_strerror(res->error));
  }
  return FALSE;
}

/* The chain verified; now what the manifest signs about it. */
static gboolean
check_against_manifest(TmRecording *rec, GError **error)
{
  const TmRecordVerifyResult *res = &rec->res;
  uint32_t count = (uint32_t) tm_recording_int(rec->manifest, "chunk_count");
  char hex[2 * TM_RECORD_HASH_LEN + 1], hhex[2 * TM_RECORD_HASH_LEN + 1];
  tm_record_hex(res->last_hash, TM_RECORD_HASH_LEN, hex);
  tm_record_hex(res->header.hash, TM_RECORD_HASH_LEN, hhex);
  g_autofree char *at = tm_recording_hearing_time(rec, res->bad_time_us, TRUE);
  if (strcmp(hhex, tm_recording_str(rec->manifest, "header_sha256")) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the file header is not the one the manifest signs");
  } else if (res->chunks < count) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the recording is cut short: chunk %u (from %s in the hearing) and "
                "everything after it is missing; the manifest lists %u chunks",
                res->chunks, at, count);
  } else if (strcmp(hex, tm_recording_str(rec->manifest, "final_hash")) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: the chunks were replaced: chunk %u does not end in the hash the "
                "manifest signs",
                count > 0 ? count - 1 : 0);
  } else if (res->tail_bytes != (gsize) tm_recording_int(rec->manifest, "tail_bytes")) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: %zu bytes follow the last chunk (%u, ending %s in the hearing); the "
                "manifest says %lld",
                res->tail_bytes, count > 0 ? count - 1 : 0, at,
                (long long) tm_recording_int(rec->manifest, "tail_bytes"));
  } else {
    return TRUE;
  }
  return FALSE;
}

gboolean
tm_recording_check(TmRecording *rec, const char *key_path, GError **error)
{
  if (rec->manifest == NULL) {
    tm_record_verify(rec->bytes, rec->len, UINT32_MAX, &rec->res);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "UNFINISHED: %s has no manifest (the relay has not finished or recovered it); "
                "%u chunks chain correctly so far",
                rec->dir, rec->res.chunks);
    return FALSE;
  }
  if (g_strcmp0(tm_recording_str(rec->manifest, "format"), "testimony-recording") != 0 ||
      tm_recording_int(rec->manifest, "version") != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s: not a testimony recording manifest of version 1", rec->dir);
    return FALSE;
  }
  if (!check_signature(rec, key_path, error))
    return FALSE;
  uint32_t count = (uint32_t) tm_recording_int(rec->manifest, "chunk_count");
  tm_record_verify(rec->bytes, rec->len, count, &rec->res);
  if (rec->res.status != TM_RECORD_VERIFY_OK)
    return fail_chunk(rec, &rec->res, error);
  if (!check_against_manifest(rec, error))
    return FALSE;
  /* The relay signed what it could vouch for after a crash, and found the rest altered. */
  JsonObject *recovery = tm_recording_object(rec->manifest, "recovery");
  const char *problem = recovery != NULL ? tm_recording_str(recovery, "problem") : "";
  if (*problem != '\0') {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "ALTERED: when the relay recovered %s after a crash, %s; the signed manifest "
                "covers only its %u chunks up to the last checkpoint that matched",
                rec->dir, problem, rec->res.chunks);
    return FALSE;
  }
  return TRUE;
}
