/* profile.c — loading capture/encode profiles from pipelines/ (see profile.h). */
#include "profile.h"

#include "datadir.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SIZE (64 * 1024)
#define VIDEO_PLACEHOLDER "@VIDEO_SOURCE@"
#define AUDIO_PLACEHOLDER "@AUDIO_SOURCE@"

/* The quark's name is taken as written. */
/* clang-format off */
G_DEFINE_QUARK(tm-profile-error-quark, tm_profile_error)
/* clang-format on */

gchar *
tm_profile_resolve_dir(const gchar *cli_dir)
{
  const gchar *env;

  if (cli_dir != NULL && cli_dir[0] != '\0')
    return g_strdup(cli_dir);
  env = g_getenv("TESTIMONY_PIPELINES");
  if (env != NULL && env[0] != '\0')
    return g_strdup(env);
  return tm_datadir_find("pipelines");
}

static gboolean
name_is_valid(const gchar *name)
{
  if (name == NULL || name[0] == '\0' || strlen(name) > 64)
    return FALSE;
  for (const gchar *p = name; *p != '\0'; p++) {
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '-' && *p != '_')
      return FALSE;
  }
  return TRUE;
}

/* Drops '#' comment lines and joins the rest with single spaces. */
static gchar *
strip_comments(const gchar *contents)
{
  g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
  GString *out = g_string_new(NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    gchar *line = g_strstrip(lines[i]);
    if (line[0] == '\0' || line[0] == '#')
      continue;
    if (out->len > 0)
      g_string_append_c(out, ' ');
    g_string_append(out, line);
  }
  return g_string_free(out, FALSE);
}

static gchar *
substitute(const gchar *text, const gchar *placeholder, const gchar *value)
{
  g_auto(GStrv) parts = g_strsplit(text, placeholder, -1);
  return g_strjoinv(value, parts);
}

gchar *
tm_profile_load(const gchar *dir, const gchar *name, const gchar *video_source,
                const gchar *audio_source, GError **error)
{
  g_autofree gchar *file = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *contents = NULL;
  g_autofree gchar *stripped = NULL;
  g_autofree gchar *with_video = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;

  if (!name_is_valid(name)) {
    g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_BAD_NAME,
                "the profile name \"%s\" is not valid (use letters a-z, digits, '-' or '_')",
                name != NULL ? name : "");
    return NULL;
  }
  file = g_strconcat(name, ".pipeline", NULL);
  path = g_build_filename(dir, file, NULL);
  if (!g_file_get_contents(path, &contents, &length, &local_error)) {
    if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_NOT_FOUND,
                  "there is no profile \"%s\" (no %s)", name, path);
    else
      g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_INVALID,
                  "cannot read the profile %s: %s", path, local_error->message);
    return NULL;
  }
  if (length > MAX_SIZE || strlen(contents) != length) {
    g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_INVALID,
                "the profile %s is not a text file of at most %d bytes", path, MAX_SIZE);
    return NULL;
  }
  stripped = strip_comments(contents);
  if (strstr(stripped, VIDEO_PLACEHOLDER) == NULL || strstr(stripped, AUDIO_PLACEHOLDER) == NULL) {
    g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_INVALID,
                "the profile %s must use both %s and %s", path, VIDEO_PLACEHOLDER,
                AUDIO_PLACEHOLDER);
    return NULL;
  }
  with_video = substitute(stripped, VIDEO_PLACEHOLDER, video_source);
  return substitute(with_video, AUDIO_PLACEHOLDER, audio_source);
}

static gboolean
parse_color(const gchar *value, guint32 *rgb)
{
  gchar *end = NULL;
  guint64 v;

  if (value[0] == '#')
    value++;
  if (strlen(value) != 6)
    return FALSE;
  for (const gchar *p = value; *p != '\0'; p++) {
    if (!g_ascii_isxdigit(*p))
      return FALSE;
  }
  v = g_ascii_strtoull(value, &end, 16);
  *rgb = (guint32) v;
  return end != NULL && *end == '\0';
}

static gboolean
parse_tone(const gchar *value, gdouble *hz)
{
  gchar *end = NULL;
  gdouble v = g_ascii_strtod(value, &end);

  if (end == value || *end != '\0' || !(v >= 1.0 && v <= 20000.0))
    return FALSE;
  *hz = v;
  return TRUE;
}

/* The videotestsrc patterns a test may ask for: a solid colour (tests check it); a moving zone
 * plate (smooth detail in motion: about the profile's bitrate, 790 kbit/s at 800, with key frames
 * a link can carry — for bandwidth tests); snow (noise no encoder can compress: every frame as
 * large as a key frame, the worst case); a ball (little motion, ~130 kbit/s). */
static gboolean
parse_pattern(const gchar *text, const gchar **pattern)
{
  static const gchar *const known[][2] = {
    { "solid-color", "solid-color" },
    { "zone-plate", "zone-plate kx2=20 ky2=20 kt=1" },
    { "snow", "snow" },
    { "ball", "ball" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
    if (strcmp(text, known[i][0]) == 0) {
      *pattern = known[i][1];
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
tm_profile_test_sources(const gchar *spec, gchar **video_source, gchar **audio_source,
                        GError **error)
{
  g_auto(GStrv) items = g_strsplit(spec, ",", -1);
  guint32 rgb = 0xffffff;
  gdouble hz = 440.0;
  const gchar *pattern = "solid-color";
  gchar tone[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint i = 0; items[i] != NULL; i++) {
    const gchar *item = g_strstrip(items[i]);
    gboolean ok;

    if (item[0] == '\0')
      continue;
    if (g_str_has_prefix(item, "color="))
      ok = parse_color(item + strlen("color="), &rgb);
    else if (g_str_has_prefix(item, "tone="))
      ok = parse_tone(item + strlen("tone="), &hz);
    else if (g_str_has_prefix(item, "pattern="))
      ok = parse_pattern(item + strlen("pattern="), &pattern);
    else
      ok = FALSE;
    if (!ok) {
      g_set_error(error, TM_PROFILE_ERROR, TM_PROFILE_ERROR_BAD_TEST_SOURCE,
                  "--test-source takes color=RRGGBB,tone=HZ,pattern=P (hex colour, "
                  "1-20000 Hz, solid-color, zone-plate, snow or ball), not \"%s\"",
                  item);
      return FALSE;
    }
  }
  g_ascii_dtostr(tone, sizeof tone, hz);
  *video_source =
    g_strdup_printf("videotestsrc is-live=true pattern=%s foreground-color=0xff%06x", pattern, rgb);
  *audio_source = g_strdup_printf("audiotestsrc is-live=true wave=sine freq=%s", tone);
  return TRUE;
}
