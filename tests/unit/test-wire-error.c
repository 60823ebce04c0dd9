/* test-wire-error.c — the table of error codes the relay sends: every code unique, well formed
 * and with a message; the codes exactly those docs/protocol.md lists; the engine's module errors
 * mapped to the codes the protocol names. */
#include <glib.h>
#include <string.h>

#include "wire-error.h"

static void
test_table(void)
{
  g_autoptr(GHashTable) codes = g_hash_table_new(g_str_hash, g_str_equal);
  for (int i = 0; i < TM_WIRE_ERR_COUNT; i++) {
    const char *code = tm_wire_error_code(i);
    const char *message = tm_wire_error_strerror(i);
    g_assert_nonnull(code);
    g_assert_cmpuint(strlen(code), >, 0);
    for (const char *c = code; *c != '\0'; c++)
      g_assert_true(g_ascii_islower(*c) || *c == '-');
    g_assert_false(g_hash_table_contains(codes, code));
    g_hash_table_add(codes, (gpointer) code);
    g_assert_nonnull(message);
    g_assert_cmpuint(strlen(message), >, 0);
    g_assert_cmpstr(message, !=, "unknown error");
    g_assert_cmpint(tm_wire_error_from_code(code), ==, i);
  }
  g_assert_cmpstr(tm_wire_error_code(TM_WIRE_ERR_COUNT), ==, "unknown");
  g_assert_cmpstr(tm_wire_error_code((TmWireError) -1), ==, "unknown");
  g_assert_cmpstr(tm_wire_error_strerror(TM_WIRE_ERR_COUNT), ==, "unknown error");
  g_assert_cmpint(tm_wire_error_from_code("unknown"), ==, TM_WIRE_ERR_COUNT);
  g_assert_cmpint(tm_wire_error_from_code(""), ==, TM_WIRE_ERR_COUNT);
  g_assert_cmpint(tm_wire_error_from_code(NULL), ==, TM_WIRE_ERR_COUNT);
  /* A few by name, as clients and the end-to-end tests know them. */
  g_assert_cmpstr(tm_wire_error_code(TM_WIRE_ERR_BAD_JSON), ==, "bad-json");
  g_assert_cmpstr(tm_wire_error_code(TM_WIRE_ERR_TOKEN_NOT_YET_VALID), ==, "token-not-yet-valid");
  g_assert_cmpstr(tm_wire_error_code(TM_WIRE_ERR_TOO_MANY_SESSIONS), ==, "too-many-sessions");
  g_assert_cmpstr(tm_wire_error_code(TM_WIRE_ERR_INTERNAL), ==, "internal");
}

/* The codes in the first column of the "Error codes" table of docs/protocol.md. */
static GHashTable *
documented_codes(void)
{
  g_autofree char *path =
    g_test_build_filename(G_TEST_DIST, "..", "..", "docs", "protocol.md", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("%s (run by meson test, which sets G_TEST_SRCDIR)", error->message);
  GHashTable *codes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  const char *section = strstr(text, "\n### Error codes\n");
  g_assert_nonnull(section);
  g_auto(GStrv) lines = g_strsplit(section + 1, "\n", -1);
  for (guint i = 1; lines[i] != NULL && !g_str_has_prefix(lines[i], "#"); i++) {
    if (!g_str_has_prefix(lines[i], "| `"))
      continue;
    const char *start = lines[i] + 3;
    const char *end = strchr(start, '`');
    g_assert_nonnull(end);
    char *code = g_strndup(start, (gsize) (end - start));
    g_assert_false(g_hash_table_contains(codes, code)); /* each code in one row */
    g_hash_table_add(codes, code);
  }
  return codes;
}

static void
test_documented(void)
{
  g_autoptr(GHashTable) documented = documented_codes();
  for (int i = 0; i < TM_WIRE_ERR_COUNT; i++) {
    if (!g_hash_table_contains(documented, tm_wire_error_code(i)))
      g_error("the code %s is not in docs/protocol.md", tm_wire_error_code(i));
  }
  GHashTableIter it;
  gpointer code;
  g_hash_table_iter_init(&it, documented);
  while (g_hash_table_iter_next(&it, &code, NULL)) {
    if (tm_wire_error_from_code(code) == TM_WIRE_ERR_COUNT)
      g_error("docs/protocol.md lists %s, which the relay never sends", (char *) code);
  }
  g_assert_cmpuint(g_hash_table_size(documented), ==, TM_WIRE_ERR_COUNT);
}

static void
test_mappings(void)
{
  for (int e = TM_TOKEN_OK + 1; e < TM_TOKEN_ERR_COUNT; e++) {
    const char *want = e == TM_TOKEN_ERR_EXPIRED ? "token-expired"
      : e == TM_TOKEN_ERR_NOT_YET_VALID          ? "token-not-yet-valid"
      : e == TM_TOKEN_ERR_WRONG_HEARING          ? "wrong-hearing"
                                                 : "bad-token";
    g_assert_cmpstr(tm_wire_error_code(tm_wire_error_for_token(e)), ==, want);
  }
  g_assert_cmpstr(tm_wire_error_code(tm_wire_error_for_message(TM_MESSAGE_ERR_TOO_LARGE)), ==,
                  "too-large");
  g_assert_cmpstr(tm_wire_error_code(tm_wire_error_for_message(TM_MESSAGE_ERR_BAD_JSON)), ==,
                  "bad-json");
  g_assert_cmpstr(tm_wire_error_code(tm_wire_error_for_message(TM_MESSAGE_ERR_UNKNOWN_TYPE)), ==,
                  "unknown-type");
  g_assert_cmpint(tm_wire_error_for_message(TM_MESSAGE_ERR_COUNT), ==, TM_WIRE_ERR_COUNT);
  /* The message module reads its codes and messages from the same table. */
  for (int e = TM_MESSAGE_OK + 1; e < TM_MESSAGE_ERR_COUNT; e++) {
    g_assert_cmpstr(tm_message_error_code(e), ==, tm_wire_error_code(tm_wire_error_for_message(e)));
    g_assert_cmpstr(tm_message_strerror(e), ==,
                    tm_wire_error_strerror(tm_wire_error_for_message(e)));
  }
  static const struct {
    TmHearingError err;
    const char *code;
  } hearing[] = {
    { TM_HEARING_ERR_FULL, "hearing-full" },    { TM_HEARING_ERR_SELF, "bad-request" },
    { TM_HEARING_ERR_NO_FEED, "unknown-feed" }, { TM_HEARING_ERR_DUPLICATE, "bad-request" },
    { TM_HEARING_ERR_SDP, "bad-sdp" },          { TM_HEARING_ERR_FORBIDDEN, "forbidden" },
  };
  G_STATIC_ASSERT(G_N_ELEMENTS(hearing) == TM_HEARING_ERR_COUNT - 1);
  for (gsize i = 0; i < G_N_ELEMENTS(hearing); i++)
    g_assert_cmpstr(tm_wire_error_code(tm_wire_error_for_hearing(hearing[i].err)), ==,
                    hearing[i].code);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wire-error/table", test_table);
  g_test_add_func("/wire-error/documented", test_documented);
  g_test_add_func("/wire-error/mappings", test_mappings);
  return g_test_run();
}
