/* profile.h — capture/encode profiles loaded from pipelines/ at run time.
 *
 * A profile file NAME.pipeline holds a gst-launch description of the encode chains (format in
 * docs/client.md and at the top of each file): '#' comment lines, @VIDEO_SOURCE@ and
 * @AUDIO_SOURCE@ placeholders, and elements named video_out (VP8 RTP, pt 96) and audio_out
 * (Opus RTP, pt 111) at the end of the chains. */
#pragma once

#include <glib.h>

#define TM_PROFILE_ERROR (tm_profile_error_quark())

typedef enum {
  TM_PROFILE_ERROR_BAD_NAME,  /* profile name with characters other than [a-z0-9_-] */
  TM_PROFILE_ERROR_NOT_FOUND, /* no NAME.pipeline in the directory */
  TM_PROFILE_ERROR_INVALID,   /* file unreadable, too large, or a placeholder is missing */
  TM_PROFILE_ERROR_BAD_TEST_SOURCE,
} TmProfileError;

GQuark tm_profile_error_quark(void);

/* The pipelines directory: CLI_DIR if set, else $TESTIMONY_PIPELINES, else the installed
 * pipelines/ (the source tree's for a client run from the build tree; common/datadir.h). Never
 * NULL; free with g_free(). */
gchar *tm_profile_resolve_dir(const gchar *cli_dir);

/* Reads DIR/NAME.pipeline, drops comments, joins lines and substitutes the placeholders with
 * VIDEO_SOURCE and AUDIO_SOURCE. Returns the description (g_free) or NULL with ERROR set. */
gchar *tm_profile_load(const gchar *dir, const gchar *name, const gchar *video_source,
                       const gchar *audio_source, GError **error);

/* Parses a --test-source value "color=RRGGBB,tone=HZ" (either part may be left out: defaults
 * color=ffffff, tone=440) into the two source descriptions (g_free). */
gboolean tm_profile_test_sources(const gchar *spec, gchar **video_source, gchar **audio_source,
                                 GError **error);

/* The capture devices: autovideosrc and autoaudiosrc. */
#define TM_PROFILE_CAMERA "autovideosrc"
#define TM_PROFILE_MICROPHONE "autoaudiosrc"
