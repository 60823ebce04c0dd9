/* srtp.c — libsrtp sessions: one inbound (any SSRC) and one outbound (any SSRC). */
#include "srtp.h"

#include <glib.h>
#include <srtp2/srtp.h>
#include <string.h>

struct _TmSrtp {
  srtp_t in;
  srtp_t out;
};

static gsize srtp_initialised = 0;

static void
set_policy(srtp_policy_t *p, TmSrtpProfile profile, const uint8_t *key, bool inbound)
{
  memset(p, 0, sizeof *p);
  if (profile == TM_SRTP_PROFILE_AEAD_AES_128_GCM) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  }
  p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  p->key = (unsigned char *) key;
  p->window_size = 1024;  /* late retransmissions of video still pass the replay check */
  p->allow_repeat_tx = 1; /* answering a NACK resends the same index */
}

TmSrtp *
tm_srtp_new(const TmSrtpKeys *keys, TmSrtpError *err)
{
  if (g_once_init_enter(&srtp_initialised)) {
    srtp_init();
    g_once_init_leave(&srtp_initialised, 1);
  }
  if (keys->profile == TM_SRTP_PROFILE_NONE) {
    *err = TM_SRTP_ERR_INIT;
    return NULL;
  }
  TmSrtp *s = g_new0(TmSrtp, 1);
  srtp_policy_t in, out;
  set_policy(&in, keys->profile, keys->remote, true);
  set_policy(&out, keys->profile, keys->local, false);
  if (srtp_create(&s->in, &in) != srtp_err_status_ok ||
      srtp_create(&s->out, &out) != srtp_err_status_ok) {
    tm_srtp_free(s);
    *err = TM_SRTP_ERR_INIT;
    return NULL;
  }
  *err = TM_SRTP_OK;
  return s;
}

void
tm_srtp_free(TmSrtp *s)
{
  if (s == NULL)
    return;
  if (s->in != NULL)
    srtp_dealloc(s->in);
  if (s->out != NULL)
    srtp_dealloc(s->out);
  g_free(s);
}

static TmSrtpError
map_status(srtp_err_status_t st)
{
  switch (st) {
  case srtp_err_status_ok: return TM_SRTP_OK;
  case srtp_err_status_auth_fail: return TM_SRTP_ERR_AUTH;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old: return TM_SRTP_ERR_REPLAY;
  default: return TM_SRTP_ERR_OTHER;
  }
}

TmSrtpError
tm_srtp_protect_rtp(TmSrtp *s, uint8_t *buf, size_t *len, size_t cap)
{
  if (*len < 12 || cap < *len + TM_SRTP_MAX_TRAILER)
    return TM_SRTP_ERR_BUFFER;
  int n = (int) *len;
  TmSrtpError e = map_status(srtp_protect(s->out, buf, &n));
  if (e == TM_SRTP_OK)
    *len = (size_t) n;
  return e;
}

TmSrtpError
tm_srtp_protect_rtcp(TmSrtp *s, uint8_t *buf, size_t *len, size_t cap)
{
  if (*len < 8 || cap < *len + TM_SRTP_MAX_TRAILER)
    return TM_SRTP_ERR_BUFFER;
  int n = (int) *len;
  TmSrtpError e = map_status(srtp_protect_rtcp(s->out, buf, &n));
  if (e == TM_SRTP_OK)
    *len = (size_t) n;
  return e;
}

TmSrtpError
tm_srtp_unprotect_rtp(TmSrtp *s, uint8_t *buf, size_t *len)
{
  if (*len < 12)
    return TM_SRTP_ERR_AUTH;
  int n = (int) *len;
  TmSrtpError e = map_status(srtp_unprotect(s->in, buf, &n));
  if (e == TM_SRTP_OK)
    *len = (size_t) n;
  return e;
}

TmSrtpError
tm_srtp_unprotect_rtcp(TmSrtp *s, uint8_t *buf, size_t *len)
{
  if (*len < 8)
    return TM_SRTP_ERR_AUTH;
  int n = (int) *len;
  TmSrtpError e = map_status(srtp_unprotect_rtcp(s->in, buf, &n));
  if (e == TM_SRTP_OK)
    *len = (size_t) n;
  return e;
}

const char *
tm_srtp_profile_name(TmSrtpProfile p)
{
  switch (p) {
  case TM_SRTP_PROFILE_AEAD_AES_128_GCM: return "AEAD_AES_128_GCM";
  case TM_SRTP_PROFILE_AES128_CM_SHA1_80: return "AES_CM_128_HMAC_SHA1_80";
  default: return "none";
  }
}

static const char *const srtp_errors[TM_SRTP_ERR_COUNT] = {
  [TM_SRTP_OK] = "no error",
  [TM_SRTP_ERR_INIT] = "could not create the SRTP session",
  [TM_SRTP_ERR_AUTH] = "SRTP authentication failed",
  [TM_SRTP_ERR_REPLAY] = "SRTP packet replayed or too old",
  [TM_SRTP_ERR_BUFFER] = "no room for the SRTP trailer",
  [TM_SRTP_ERR_OTHER] = "SRTP error",
};

const char *
tm_srtp_strerror(TmSrtpError err)
{
  return (unsigned) err < TM_SRTP_ERR_COUNT ? srtp_errors[err] : "unknown SRTP error";
}
