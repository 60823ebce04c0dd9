/* retention.c — `testimony-relay retention`: finished recordings of ended hearings older than a
 * set age are deleted or moved to an archive, each recorded in its hearing's audit log first
 * (docs/operations.md). */
#define G_LOG_DOMAIN "testimony-relay"

#include "retention.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "audit-log.h"
#include "evidence.h"
#include "recording-reader.h"
#include "state.h"

#define MANIFEST_FILE "manifest.json"
#define SIG_FILE "manifest.sig"

typedef struct {
  const TmRetentionOptions *opt;
  TmEvidenceKey *key;
  guint done, kept, problems;
} Retention;

gboolean
tm_retention_parse_age(const char *text, int64_t *us, GError **error)
{
  static const struct {
    char unit;
    int64_t seconds;
  } units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
  const int64_t max_seconds = INT64_C(100) * 366 * 86400;
  char *end = NULL;
  guint64 n = 0;
  if (text != NULL && g_ascii_isdigit(text[0])) {
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
  }
  for (gsize i = 0; end != NULL && errno == 0 && i < G_N_ELEMENTS(units); i++) {
    if (end[0] == units[i].unit && end[1] == '\0' &&
        n <= (guint64) (max_seconds / units[i].seconds)) {
      *us = (int64_t) n * units[i].seconds * G_USEC_PER_SEC;
      return TRUE;
    }
  }
  g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
              "\"%s\" is not an age: a number and d, h, m or s (90d, 12h), at most 100 years",
              text != NULL ? text : "");
  return FALSE;
}

static void
kept(Retention *r, const char *name, gboolean problem, const char *why)
{
  g_print("kept      %s: %s\n", name, why);
  r->kept++;
  r->problems += problem;
}

/* Removes the files of a recording directory (it has no subdirectories), then the directory. */
static gboolean
remove_recording(const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, error);
  if (d == NULL)
    return FALSE;
  for (const char *f; (f = g_dir_read_name(d)) != NULL;) {
    g_autofree char *path = g_build_filename(dir, f, NULL);
    if (g_unlink(path) != 0) {
      int e = errno;
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot delete %s: %s", path,
                  g_strerror(e));
      return FALSE;
    }
  }
  if (g_rmdir(dir) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot delete %s: %s", dir,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}

/* Moves a recording directory into the archive: a rename, or on another file system a copy of
 * every file (synced) and then the removal of the original. */
static gboolean
archive_recording(const char *dir, const char *dest, GError **error)
{
  if (g_rename(dir, dest) == 0)
    return TRUE;
  if (errno != EXDEV) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot move %s to %s: %s", dir,
                dest, g_strerror(e));
    return FALSE;
  }
  if (g_mkdir(dest, 0700) != 0) {
    int e = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot create %s: %s", dest,
                g_strerror(e));
    return FALSE;
  }
  g_autoptr(GDir) d = g_dir_open(dir, 0, error);
  if (d == NULL)
    return FALSE;
  for (const char *f; (f = g_dir_read_name(d)) != NULL;) {
    g_autofree char *from = g_build_filename(dir, f, NULL);
    g_autofree char *to = g_build_filename(dest, f, NULL);
    g_autoptr(GFile) src = g_file_new_for_path(from);
    g_autoptr(GFile) dst = g_file_new_for_path(to);
    if (!g_file_copy(src, dst, G_FILE_COPY_ALL_METADATA, NULL, NULL, NULL, error))
      return FALSE;
    int fd = g_open(to, O_RDONLY, 0);
    gboolean synced = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
      close(fd);
    if (!synced) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot write %s to disk", to);
      return FALSE;
    }
  }
  return remove_recording(dir, error);
}

/* The signed manifest of a finished recording: its bytes and the SHA-256 of them. FALSE (and
 * *UNFINISHED) when there is none yet; FALSE with ERROR when it does not verify. */
static gboolean
read_manifest(Retention *r, const char *dir, char **text, gsize *len, gboolean *unfinished,
              GError **error)
{
  g_autofree char *manifest = g_build_filename(dir, MANIFEST_FILE, NULL);
  g_autofree char *sig_path = g_build_filename(dir, SIG_FILE, NULL);
  g_autofree char *sig_b64 = NULL;
  *unfinished = !g_file_test(manifest, G_FILE_TEST_IS_REGULAR) ||
    !g_file_test(sig_path, G_FILE_TEST_IS_REGULAR);
  if (*unfinished)
    return FALSE;
  if (!g_file_get_contents(manifest, text, len, error) ||
      !g_file_get_contents(sig_path, &sig_b64, NULL, error))
    return FALSE;
  gsize sig_len = 0;
  g_autofree guchar *sig = g_base64_decode(g_strstrip(sig_b64), &sig_len);
  g_autoptr(GError) bad = NULL;
  if (!tm_evidence_verify(tm_evidence_key_public(r->key), *text, *len, sig, sig_len, &bad)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "its manifest is not signed by this relay's evidence key (%s): left alone",
                bad->message);
    return FALSE;
  }
  return TRUE;
}

static void
one_recording(Retention *r, const char *recordings, const char *name)
{
  const TmRetentionOptions *opt = r->opt;
  g_autofree char *dir = g_build_filename(recordings, name, NULL);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR) || g_file_test(dir, G_FILE_TEST_IS_SYMLINK))
    return;
  g_autofree char *text = NULL;
  gsize len = 0;
  gboolean unfinished = FALSE;
  g_autoptr(GError) error = NULL;
  if (!read_manifest(r, dir, &text, &len, &unfinished, &error)) {
    kept(r, name, !unfinished,
         unfinished ? "not finished (no signed manifest yet): the relay is writing it, or will "
                      "finish it at its next start"
                    : error->message);
    return;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonNode *root = json_parser_load_from_data(parser, text, (gssize) len, NULL)
    ? json_parser_get_root(parser)
    : NULL;
  JsonObject *m = root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  const char *hearing = tm_recording_str(m, "hearing_id");
  const char *ended = tm_recording_str(m, "end_utc");
  int64_t end_us = tm_recording_int(m, "end_us");
  if (!tm_state_hearing_id_valid(hearing) || end_us <= 0) {
    kept(r, name, TRUE, "its manifest names no hearing or end time");
    return;
  }
  if (end_us >= opt->cutoff_us) {
    kept(r, name, FALSE, "newer than the limit");
    return;
  }
  g_autofree char *audit = tm_state_audit_path(opt->state_dir, hearing);
  if (!tm_audit_log_check_ended(audit, hearing, r->key, &error)) {
    gboolean open = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    kept(r, name, !open, error->message);
    return;
  }
  g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *) text, len);
  g_autofree char *dest =
    opt->archive_dir != NULL ? g_build_filename(opt->archive_dir, name, NULL) : NULL;
  if (dest != NULL && g_file_test(dest, G_FILE_TEST_EXISTS)) {
    g_autofree char *why = g_strdup_printf("%s is already in the archive", dest);
    kept(r, name, TRUE, why);
    return;
  }
  const char *verb = dest != NULL ? "archived" : "deleted";
  /* No server path in the log (as for record-stop): the name and the hash find it. */
  g_autofree char *detail =
    g_strdup_printf("recording %s %s (ended %s, older than %s); manifest sha256 %s", name, verb,
                    ended, opt->age_text, sum);
  if (opt->dry_run) {
    g_print("%s %s (hearing %s, ended %s)%s\n", dest != NULL ? "would archive" : "would delete ",
            name, hearing, ended, " [dry run]");
    r->done++;
    return;
  }
  /* The audit log says it first: a recording never goes without its hearing's log naming it. */
  if (!tm_audit_log_append_ended(audit, hearing, r->key, "retention", "", detail, &error)) {
    kept(r, name, TRUE, error->message);
    return;
  }
  gboolean ok = dest != NULL ? archive_recording(dir, dest, &error) : remove_recording(dir, &error);
  if (!ok) {
    g_autofree char *failed =
      g_strdup_printf("recording %s could not be %s: %s", name, verb, error->message);
    g_autoptr(GError) again = NULL;
    if (!tm_audit_log_append_ended(audit, hearing, r->key, "retention", "", failed, &again))
      g_printerr("testimony-relay: %s\n", again->message);
    kept(r, name, TRUE, failed);
    return;
  }
  g_print("%-9s %s (hearing %s, ended %s)%s%s\n", verb, name, hearing, ended,
          dest != NULL ? " to " : "", dest != NULL ? dest : "");
  r->done++;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int
tm_retention_run(const TmRetentionOptions *opt)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key_path = g_build_filename(opt->state_dir, "keys", "evidence.key", NULL);
  if (!g_file_test(key_path, G_FILE_TEST_IS_REGULAR)) {
    g_printerr("testimony-relay: %s has no evidence key (%s): not a relay's state directory\n",
               opt->state_dir, key_path);
    return 2;
  }
  g_autoptr(TmEvidenceKey) key = tm_evidence_key_load(opt->state_dir, &error);
  if (key == NULL) {
    g_printerr("testimony-relay: cannot read the evidence key: %s\n", error->message);
    return 2;
  }
  if (opt->archive_dir != NULL && !opt->dry_run && g_mkdir_with_parents(opt->archive_dir, 0700)) {
    g_printerr("testimony-relay: cannot create the archive %s: %s\n", opt->archive_dir,
               g_strerror(errno));
    return 2;
  }
  g_autofree char *recordings = g_build_filename(opt->state_dir, "recordings", NULL);
  Retention r = { .opt = opt, .key = key };
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GDir) d = g_dir_open(recordings, 0, &error);
  if (d == NULL && !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
    g_printerr("testimony-relay: cannot read %s: %s\n", recordings, error->message);
    return 2;
  }
  for (const char *f; d != NULL && (f = g_dir_read_name(d)) != NULL;)
    g_ptr_array_add(names, g_strdup(f));
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++)
    one_recording(&r, recordings, g_ptr_array_index(names, i));
  g_print("%u recording(s) %s, %u kept, %u problem(s)\n", r.done,
          opt->dry_run                 ? "would go"
            : opt->archive_dir != NULL ? "archived"
                                       : "deleted",
          r.kept, r.problems);
  return r.problems > 0 ? 1 : 0;
}
