/* test-kiosk.c — the words a kiosk shows (client/kiosk.c): every state of microphone and camera
 * in English and Thai, what the court did marked, valid Pango markup. */
#include <pango/pango.h>
#include <string.h>

#include "kiosk.h"

static gchar *
markup(gboolean publishing, gboolean audio_muted, gboolean video_muted)
{
  TmKioskState state = { publishing, audio_muted, video_muted };
  gchar *text = tm_kiosk_status_markup(&state);

  g_assert_true(pango_parse_markup(text, -1, 0, NULL, NULL, NULL, NULL));
  return text;
}

static void
test_status(void)
{
  g_autofree gchar *plain = markup(TRUE, FALSE, FALSE);
  g_autofree gchar *muted = markup(TRUE, TRUE, FALSE);
  g_autofree gchar *stopped = markup(TRUE, FALSE, TRUE);
  g_autofree gchar *both = markup(TRUE, TRUE, TRUE);
  g_autofree gchar *observer = markup(FALSE, TRUE, TRUE);

  g_assert_cmpstr(plain, ==,
                  "Your microphone is on.  \u00B7  ไมโครโฟนของคุณเปิดอยู่\n"
                  "Your camera is on.  \u00B7  กล้องของคุณเปิดอยู่");
  g_assert_nonnull(strstr(muted, "The court has muted your microphone."));
  g_assert_nonnull(strstr(muted, "ศาลได้ปิดเสียงไมโครโฟนของคุณ"));
  g_assert_nonnull(strstr(muted, "<span foreground"));
  g_assert_nonnull(strstr(muted, "Your camera is on."));
  g_assert_nonnull(strstr(stopped, "The court has stopped your video."));
  g_assert_nonnull(strstr(stopped, "ศาลได้หยุดวิดีโอของคุณ"));
  g_assert_nonnull(strstr(stopped, "Your microphone is on."));
  g_assert_nonnull(strstr(both, "muted your microphone"));
  g_assert_nonnull(strstr(both, "stopped your video"));
  g_assert_cmpstr(observer, ==, "You watch and listen only.  \u00B7  คุณดูและฟังเท่านั้น");
}

static void
test_waiting(void)
{
  g_autofree gchar *titled = tm_kiosk_waiting_text("Hearing of case BK-2026-117");
  g_autofree gchar *untitled = tm_kiosk_waiting_text(NULL);

  g_assert_true(g_str_has_prefix(titled, "Hearing of case BK-2026-117\n\nPlease wait."));
  g_assert_nonnull(strstr(titled, "กรุณารอสักครู่"));
  g_assert_true(g_str_has_prefix(untitled, "Hearing · การพิจารณาคดี\n\n"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/kiosk/status", test_status);
  g_test_add_func("/kiosk/waiting", test_waiting);
  return g_test_run();
}
