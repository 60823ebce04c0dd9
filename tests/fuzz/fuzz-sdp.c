/* fuzz-sdp.c — SDP parser, serializer and answer builder.
 *
 * Any input: parse must return, never crash. When it parses: serialize, parse the text again
 * and require the very same struct (round trip); a canonical text past TM_SDP_MAX_SIZE must be
 * refused as too large instead. Then answer the offer with fixed relay parameters, both as a
 * publish (recvonly) and a subscribe (sendonly) answer, and round-trip each answer too. */
#include "sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static TmSdp parsed, again, answer;

static void
check_round_trip(const TmSdp *sdp, const char *what)
{
  g_autofree gchar *text = tm_sdp_serialize(sdp);
  size_t len = strlen(text);
  TmSdpError err = tm_sdp_parse(text, len, &again);
  if (len > TM_SDP_MAX_SIZE) {
    if (err != TM_SDP_ERR_TOO_LARGE)
      abort();
    return;
  }
  if (err != TM_SDP_OK) {
    fprintf(stderr, "%s: serialized text does not parse: %s\n%s", what, tm_sdp_strerror(err), text);
    abort();
  }
  if (memcmp(sdp, &again, sizeof *sdp) != 0) {
    fprintf(stderr, "%s: round trip changed the description\n%s", what, text);
    abort();
  }
}

static void
check_answer(TmDirection direction)
{
  static const uint8_t fingerprint[32] = { 0x84, 0xf8, 0x67, 0x50, 0xbc, 0xdf, 0x17, 0xd2 };
  static const char *const candidates[] = {
    "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
    "candidate:2 1 tcp 1518280447 127.0.0.1 443 typ host tcptype passive",
  };
  TmSdpAnswerParams params = {
    .ice_ufrag = "relayufrag",
    .ice_pwd = "relaypasswordrelaypassword",
    .fingerprint_alg = "sha-256",
    .fingerprint = fingerprint,
    .fingerprint_len = sizeof fingerprint,
    .setup = TM_SETUP_PASSIVE,
    .direction = direction,
    .session_id = 42,
    .candidates = candidates,
    .n_candidates = G_N_ELEMENTS(candidates),
    .audio_ssrc = 1111,
    .video_ssrc = 2222,
    .video_rtx_ssrc = 3333,
    .cname = "relay",
    .stream_id = "feed-p1",
  };
  TmSdpError err = tm_sdp_answer(&parsed, &params, &answer);
  if ((unsigned) err >= TM_SDP_ERR_COUNT)
    abort();
  (void) tm_sdp_strerror(err);
  if (err == TM_SDP_OK)
    check_round_trip(&answer, "answer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  TmSdpError err = tm_sdp_parse((const char *) data, size, &parsed);
  if ((unsigned) err >= TM_SDP_ERR_COUNT)
    abort();
  (void) tm_sdp_strerror(err);
  if (err != TM_SDP_OK)
    return 0;
  check_round_trip(&parsed, "offer");
  for (guint i = 0; i < parsed.n_media; i++) {
    const TmSdpCodec *vp8 = tm_sdp_media_find_codec(&parsed.media[i], "VP8");
    (void) tm_sdp_media_find_codec(&parsed.media[i], "opus");
    if (vp8 != NULL)
      (void) tm_sdp_media_find_rtx(&parsed.media[i], vp8);
    for (guint c = 0; c < parsed.media[i].n_codecs; c++)
      if (tm_sdp_codec_apt(&parsed.media[i].codecs[c]) > 127)
        abort();
  }
  check_answer(TM_DIR_RECVONLY);
  check_answer(TM_DIR_SENDONLY);
  return 0;
}
