/* log.c — the relay's messages about a hearing, with journal fields (see log.h). */
#define G_LOG_DOMAIN "testimony-relay"

#include "log.h"

#include <stdarg.h>

void
tm_log_hearing(GLogLevelFlags level, const char *hearing, const TmParticipant *p,
               const char *format, ...)
{
  va_list ap;
  va_start(ap, format);
  g_autofree char *message = g_strdup_vprintf(format, ap);
  va_end(ap);
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "MESSAGE", g_variant_new_string(message));
  g_variant_builder_add(&b, "{sv}", "HEARING", g_variant_new_string(hearing));
  if (p != NULL) {
    g_variant_builder_add(&b, "{sv}", "PARTICIPANT", g_variant_new_string(p->id));
    g_variant_builder_add(&b, "{sv}", "PARTICIPANT_ROLE",
                          g_variant_new_string(tm_role_to_string(p->role)));
  }
  g_autoptr(GVariant) fields = g_variant_ref_sink(g_variant_builder_end(&b));
  g_log_variant(G_LOG_DOMAIN, level, fields);
}
