/* sdp.h — Session Description Protocol (RFC 8866) for WebRTC offers and answers.
 *
 * The relay only answers. tm_sdp_parse() reads an offer into a fixed-size, bounded
 * structure (no allocation), tm_sdp_answer() builds the relay's answer from it, and
 * tm_sdp_serialize() writes any TmSdp back to text. Every count and string is capped:
 * an offer that exceeds a cap is refused with an error, never truncated silently. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TM_SDP_MAX_SIZE 65536 /* bytes of SDP text accepted */
#define TM_SDP_MAX_MEDIA 8    /* m= sections */
#define TM_SDP_MAX_CODECS 64  /* payload types per m= section (Chromium 156 recvonly video: 34) */
#define TM_SDP_MAX_SSRCS 4    /* a=ssrc ids per m= section */
#define TM_SDP_MAX_CANDIDATES 32 /* a=candidate lines in the whole description */
#define TM_SDP_TOKEN_LEN 64      /* mid, codec name, cname, msid parts */
#define TM_SDP_ICE_LEN 257       /* ice-ufrag / ice-pwd (RFC 8839 caps at 256) */
#define TM_SDP_FMTP_LEN 256
#define TM_SDP_CANDIDATE_LEN 256
#define TM_SDP_FINGERPRINT_MAX 64 /* bytes of digest (sha-512) */

typedef enum {
  TM_SDP_OK = 0,
  TM_SDP_ERR_TOO_LARGE,      /* text longer than TM_SDP_MAX_SIZE */
  TM_SDP_ERR_SYNTAX,         /* a line is not "x=value", or v= is not first */
  TM_SDP_ERR_TOO_MANY,       /* a count cap was exceeded */
  TM_SDP_ERR_TOO_LONG,       /* a string cap was exceeded */
  TM_SDP_ERR_NO_ICE,         /* no ice-ufrag / ice-pwd */
  TM_SDP_ERR_NO_FINGERPRINT, /* no usable a=fingerprint (sha-256 required) */
  TM_SDP_ERR_NO_BUNDLE,      /* answer: offer does not BUNDLE its media */
  TM_SDP_ERR_NO_RTCP_MUX,    /* answer: offer lacks rtcp-mux */
  TM_SDP_ERR_NO_CODEC,       /* answer: neither Opus nor VP8 offered in any section */
  TM_SDP_ERR_BAD_VALUE,      /* a number or enumerated value is invalid */
  TM_SDP_ERR_COUNT
} TmSdpError;

typedef enum { TM_MEDIA_AUDIO, TM_MEDIA_VIDEO, TM_MEDIA_APPLICATION, TM_MEDIA_OTHER } TmMediaKind;
typedef enum { TM_DIR_SENDRECV, TM_DIR_SENDONLY, TM_DIR_RECVONLY, TM_DIR_INACTIVE } TmDirection;
typedef enum { TM_SETUP_NONE, TM_SETUP_ACTPASS, TM_SETUP_ACTIVE, TM_SETUP_PASSIVE } TmSetup;

typedef struct {
  uint8_t pt;
  char name[TM_SDP_TOKEN_LEN]; /* "opus", "VP8" — as written */
  uint32_t clock_rate;
  uint8_t channels;           /* 0 when absent */
  char fmtp[TM_SDP_FMTP_LEN]; /* value after "a=fmtp:PT ", "" when absent */
  bool fb_nack, fb_nack_pli, fb_ccm_fir, fb_goog_remb, fb_transport_cc;
} TmSdpCodec;

typedef struct {
  TmMediaKind kind;
  char kind_name[16]; /* "audio", "video", ... as written */
  uint16_t port;      /* 0 = rejected */
  char proto[32];     /* "UDP/TLS/RTP/SAVPF" */
  char mid[TM_SDP_TOKEN_LEN];
  TmDirection direction;
  bool rtcp_mux;
  bool rtcp_rsize;
  TmSdpCodec codecs[TM_SDP_MAX_CODECS];
  guint n_codecs;
  uint32_t ssrcs[TM_SDP_MAX_SSRCS];
  guint n_ssrcs;
  char cname[TM_SDP_TOKEN_LEN]; /* from a=ssrc:N cname:X, "" when absent */
  char msid_stream[TM_SDP_TOKEN_LEN];
  char msid_track[TM_SDP_TOKEN_LEN];
  /* The first a=ssrc-group:FID (RFC 5576, RFC 4588): the primary SSRC and its retransmission
   * SSRC. Other groups (SIM, FEC-FR) are checked and ignored. */
  bool has_fid;
  uint32_t fid_ssrcs[2];
  /* The a=extmap ID (1-14) of the transport-wide sequence number (transport-cc, twcc.h); 0 when
   * absent. */
  uint8_t twcc_id;
  /* The a=extmap ID (1-14) of abs-send-time (TM_ABS_SEND_TIME_URI: when the sender sent the
   * packet, after its pacer); 0 when absent. Other header extensions are checked and ignored. */
  uint8_t abs_send_time_id;
} TmSdpMedia;

typedef struct {
  guint mline;                      /* index of the m= section it appeared in */
  char value[TM_SDP_CANDIDATE_LEN]; /* "candidate:..." without "a=" */
} TmSdpCandidate;

typedef struct {
  uint64_t session_id;
  uint64_t session_version;
  /* ICE and DTLS: session-level, or taken from the first m= section that has them
   * (all bundled sections share one transport). */
  char ice_ufrag[TM_SDP_ICE_LEN];
  char ice_pwd[TM_SDP_ICE_LEN];
  bool ice_lite;
  char fingerprint_alg[16]; /* lower case, e.g. "sha-256" */
  uint8_t fingerprint[TM_SDP_FINGERPRINT_MAX];
  size_t fingerprint_len;
  TmSetup setup;
  char bundle[TM_SDP_MAX_MEDIA][TM_SDP_TOKEN_LEN]; /* mids of a=group:BUNDLE */
  guint n_bundle;
  char msid_semantic[TM_SDP_TOKEN_LEN];
  TmSdpMedia media[TM_SDP_MAX_MEDIA];
  guint n_media;
  TmSdpCandidate candidates[TM_SDP_MAX_CANDIDATES];
  guint n_candidates;
  bool end_of_candidates;
} TmSdp;

/* Parameters of the relay's side of an answer. */
typedef struct {
  const char *ice_ufrag;
  const char *ice_pwd;
  const char *fingerprint_alg; /* "sha-256" */
  const uint8_t *fingerprint;
  size_t fingerprint_len;
  TmSetup setup;         /* TM_SETUP_PASSIVE for the relay */
  TmDirection direction; /* RECVONLY (publish) or SENDONLY (subscribe) */
  uint64_t session_id;
  const char *const *candidates; /* "candidate:..." strings, may be NULL */
  guint n_candidates;
  /* For SENDONLY answers: what the relay sends (a=ssrc, a=msid). 0 = omit. */
  uint32_t audio_ssrc;
  uint32_t video_ssrc;
  /* For SENDONLY answers that accept RTX: the retransmission SSRC of the video, announced as
   * a=ssrc-group:FID video_ssrc video_rtx_ssrc. 0 = omit. */
  uint32_t video_rtx_ssrc;
  const char *cname;     /* may be NULL */
  const char *stream_id; /* msid stream id, may be NULL */
  /* Accept transport-cc where offered (the transport-wide sequence number extension and the
   * rtcp-fb): the relay sends that feedback to publishers, and numbers what it sends to
   * receivers for theirs (twcc.h). */
  bool transport_cc;
  /* Accept abs-send-time where offered: the send times a publisher's delay trend is judged by
   * (bwe.h, tm_abs_send_clock_unwrap), its pacer's queue left out. */
  bool abs_send_time;
} TmSdpAnswerParams;

/* Parses TEXT (LEN bytes, need not be NUL-terminated). Lines end in CRLF or LF.
 * Unknown attributes are ignored. On error *OUT is unspecified. */
TmSdpError tm_sdp_parse(const char *text, size_t len, TmSdp *out);

/* Builds the answer to OFFER: for each offered m= section, audio accepts Opus/48000/2 (keeping
 * its fmtp and PT), video accepts VP8/90000 (keeping PT, nack, nack pli, ccm fir, goog-remb) and,
 * when PARAMS->transport_cc and the section offers both the extension and the rtcp-fb,
 * transport-cc for either codec; and, when the offer has one, the
 * rtx/90000 payload type whose apt= is that VP8 (RFC 4588, keeping its PT and fmtp); for audio,
 * the red/48000/2 whose fmtp names that Opus (tm_sdp_media_find_red), first in the list when the
 * offerer sends (it sends RED) and after Opus when it only receives; other
 * sections, or sections without such a codec, are rejected (port 0) but keep their mid.
 * One codec per accepted section, plus its RTX for video or its RED for audio. Direction: the offer's direction narrowed by
 * PARAMS->direction (offer sendonly + want recvonly = recvonly; offer recvonly + want sendonly =
 * sendonly; a mismatch gives inactive). Requires BUNDLE covering the accepted sections and rtcp-mux.
 * The answer carries a=group:BUNDLE of the accepted mids, rtcp-mux, rtcp-rsize if offered,
 * session-level-equivalent ice/fingerprint/setup in every section, and the candidates plus
 * a=end-of-candidates in the first section. */
TmSdpError tm_sdp_answer(const TmSdp *offer, const TmSdpAnswerParams *params, TmSdp *answer);

/* Writes SDP as text with CRLF line ends; returns a newly allocated string (g_free). The
 * output parses back to an equal TmSdp (round trip). */
gchar *tm_sdp_serialize(const TmSdp *sdp);

/* True when OFFER's video (the VP8 the relay would accept) asks for goog-remb: a receiver
 * that sends its own REMB (browsers). */
bool tm_sdp_offers_remb(const TmSdp *offer);

/* Finds the codec in section M named NAME (case-insensitive); NULL when absent. */
const TmSdpCodec *tm_sdp_media_find_codec(const TmSdpMedia *m, const char *name);
/* The payload type of C's "apt=N" format parameter (RFC 4588), or -1 when it has none. */
int tm_sdp_codec_apt(const TmSdpCodec *c);
/* The rtx codec of section M (same clock rate) whose apt= is the payload type of PRIMARY;
 * NULL when absent. */
const TmSdpCodec *tm_sdp_media_find_rtx(const TmSdpMedia *m, const TmSdpCodec *primary);

/* The red codec of section M (RFC 2198, same clock rate and channels) whose fmtp names only
 * PRIMARY's payload type ("111/111"); NULL when absent. */
const TmSdpCodec *tm_sdp_media_find_red(const TmSdpMedia *m, const TmSdpCodec *primary);

const char *tm_sdp_strerror(TmSdpError err);
