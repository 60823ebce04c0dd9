/* sdp.c — SDP offers in, answers out (RFC 8866; JSEP RFC 8829; BUNDLE RFC 8843).
 *
 * Parsing rules beyond sdp.h, chosen so that every description has one canonical form and
 * tm_sdp_parse(tm_sdp_serialize(x)) == x byte for byte:
 *
 * - Lines end in LF with an optional CR before it; the last line may lack its end. Trailing
 *   spaces and tabs of a line are dropped, empty lines are skipped. A line holding NUL, a bare
 *   CR or another control character (tab excepted) is a syntax error, so no stored string can
 *   carry a line break into a serialized description.
 * - Tokens are separated by blanks (spaces and tabs). Values of known attributes are validated wherever they
 *   appear, even where the first occurrence wins and a later one is not stored: one bad line
 *   refuses the description instead of being silently skipped.
 * - Numbers are plain decimal digits: no sign, no spaces, no overflow. Payload types 0–127,
 *   ports 0–65535 (no "/count"), clock rates 1–4294967295 Hz, channels 1–255, SSRCs 32 bit,
 *   session id and version 64 bit.
 * - The format list of an m= line is read as payload types only when the protocol is RTP
 *   ("RTP/" in it); other sections (data channels) keep no codecs. A payload type listed twice
 *   is an error; a=rtpmap, a=fmtp and a=rtcp-fb for a type that is not listed are checked and
 *   then ignored. For each payload type the first a=rtpmap and the first a=fmtp win.
 * - a=mid must be a token unique among the sections. A direction attribute at session level is
 *   the default of the sections that have none. a=candidate lines at session level are ignored.
 * - a=fingerprint: two hex digits per byte, separated by colons; the digest length must match
 *   the algorithm when it is a known one (md5, sha-1, sha-224, sha-256, sha-384, sha-512).
 *   a=setup:holdconn is refused: WebRTC never holds a connection.
 * - a=msid-semantic keeps only its first token ("WMS"), not the stream ids after it.
 * - a=ssrc-group: every SSRC is checked; the first FID group is kept and must pair two
 *   different SSRCs; other semantics are ignored. It is written before the a=ssrc lines.
 *
 * The serializer writes ICE, DTLS fingerprint and setup in every m= section (webrtcbin checks
 * them per section), explicit rtcp-fb lines per payload type, and a=end-of-candidates in the
 * section of the first candidate (else the first section with a port). A description that
 * parse produced round-trips as long as its canonical text fits in TM_SDP_MAX_SIZE; wildcard
 * rtcp-fb and session-level ICE lines are expanded, so a description near the size cap can
 * serialize past it (and then fails to parse back with TM_SDP_ERR_TOO_LARGE). */
#include "sdp.h"
#include "bwe.h"
#include "twcc.h"

#include <stddef.h>
#include <string.h>

#define SDP_RTP_PT_MAX 127
#define SDP_ANSWER_PORT 9
#define SDP_ANSWER_VERSION 2
#define SDP_DEFAULT_CNAME "testimony-relay"
#define SDP_CANDIDATE_PREFIX "candidate:"

static const char *const sdp_errors[] = {
  [TM_SDP_OK] = "the session description is valid",
  [TM_SDP_ERR_TOO_LARGE] = "the session description is longer than 65536 bytes",
  [TM_SDP_ERR_SYNTAX] = "the session description is malformed: it must start with v=0 and every "
                        "line must read x=value without control characters",
  [TM_SDP_ERR_TOO_MANY] = "the session description has too many media sections, payload types, "
                          "SSRCs, candidates or BUNDLE members",
  [TM_SDP_ERR_TOO_LONG] = "a value in the session description (mid, codec name, format "
                          "parameters, ICE credential, candidate or fingerprint) is too long",
  [TM_SDP_ERR_NO_ICE] = "the session description has no ICE credentials (a=ice-ufrag and "
                        "a=ice-pwd)",
  [TM_SDP_ERR_NO_FINGERPRINT] = "the session description has no DTLS certificate fingerprint "
                                "(a=fingerprint)",
  [TM_SDP_ERR_NO_BUNDLE] = "the offer does not bundle its media on one transport "
                           "(a=group:BUNDLE with every accepted mid)",
  [TM_SDP_ERR_NO_RTCP_MUX] = "the offer does not multiplex RTP and RTCP on one port (a=rtcp-mux)",
  [TM_SDP_ERR_NO_CODEC] = "the offer has neither Opus/48000/2 audio nor VP8/90000 video",
  [TM_SDP_ERR_BAD_VALUE] = "a number or keyword in the session description is out of range or "
                           "malformed",
};
G_STATIC_ASSERT(G_N_ELEMENTS(sdp_errors) == TM_SDP_ERR_COUNT);

const char *
tm_sdp_strerror(TmSdpError err)
{
  if ((unsigned) err >= TM_SDP_ERR_COUNT)
    return "unknown session description error";
  return sdp_errors[err];
}

static const char *const sdp_direction_names[] = {
  [TM_DIR_SENDRECV] = "sendrecv",
  [TM_DIR_SENDONLY] = "sendonly",
  [TM_DIR_RECVONLY] = "recvonly",
  [TM_DIR_INACTIVE] = "inactive",
};

static const char *const sdp_setup_names[] = {
  [TM_SETUP_NONE] = NULL,
  [TM_SETUP_ACTPASS] = "actpass",
  [TM_SETUP_ACTIVE] = "active",
  [TM_SETUP_PASSIVE] = "passive",
};

/* ---- string views ---- */

typedef struct {
  const char *p;
  size_t n;
} Span;

static bool
span_eq(Span s, const char *lit)
{
  size_t n = strlen(lit);
  return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Blanks separate tokens: a token never holds one, so none can end a serialized line with a
 * blank that parsing would drop (a tab-only a=msid-semantic once failed the round trip). */
static bool
char_is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static Span
span_skip_blanks(Span s)
{
  while (s.n > 0 && char_is_blank(s.p[0])) {
    s.p++;
    s.n--;
  }
  return s;
}

/* The next blank-separated token of *REST (empty when none); *REST moves past it. */
static Span
span_token(Span *rest)
{
  Span s = span_skip_blanks(*rest);
  size_t i = 0;
  while (i < s.n && !char_is_blank(s.p[i]))
    i++;
  Span tok = { s.p, i };
  rest->p = s.p + i;
  rest->n = s.n - i;
  return tok;
}

/* Splits S at the first SEP: *HEAD before it, S after it. False when SEP is absent. */
static bool
span_split(Span *s, char sep, Span *head)
{
  const char *at = s->n > 0 ? memchr(s->p, sep, s->n) : NULL;
  if (at == NULL)
    return false;
  head->p = s->p;
  head->n = (size_t) (at - s->p);
  s->n -= head->n + 1;
  s->p = at + 1;
  return true;
}

static bool
span_is_token(Span s)
{
  Span rest = s;
  return s.n > 0 && span_token(&rest).n == s.n;
}

static bool
parse_u64(Span s, uint64_t max, uint64_t *out)
{
  if (s.n == 0 || s.n > 20)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.n; i++) {
    if (s.p[i] < '0' || s.p[i] > '9')
      return false;
    unsigned d = (unsigned) (s.p[i] - '0');
    if (v > (max - d) / 10)
      return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

static TmSdpError
parse_pt(Span s, uint8_t *pt)
{
  uint64_t v;
  if (!parse_u64(s, SDP_RTP_PT_MAX, &v))
    return TM_SDP_ERR_BAD_VALUE;
  *pt = (uint8_t) v;
  return TM_SDP_OK;
}

/* Copies S into DST (CAP bytes with the NUL); TOO_LONG rather than truncating. */
static TmSdpError
span_copy(char *dst, size_t cap, Span s)
{
  if (s.n >= cap)
    return TM_SDP_ERR_TOO_LONG;
  memcpy(dst, s.p, s.n);
  dst[s.n] = '\0';
  return TM_SDP_OK;
}

/* Copies a NUL-terminated field of at most CAP bytes (the NUL included) into a zeroed DST. */
static void
field_copy(char *dst, const char *src, size_t cap)
{
  size_t n = strnlen(src, cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static bool
char_is_control(unsigned char c)
{
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

static bool
proto_is_rtp(const char *proto)
{
  return strstr(proto, "RTP/") != NULL;
}

static bool
proto_is_savpf(const char *proto)
{
  size_t n = strlen(proto);
  return n >= 9 && strcmp(proto + n - 9, "RTP/SAVPF") == 0;
}

static TmMediaKind
media_kind_of(const char *name)
{
  if (strcmp(name, "audio") == 0)
    return TM_MEDIA_AUDIO;
  if (strcmp(name, "video") == 0)
    return TM_MEDIA_VIDEO;
  if (strcmp(name, "application") == 0)
    return TM_MEDIA_APPLICATION;
  return TM_MEDIA_OTHER;
}

/* ---- fingerprints ---- */

static int
hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* "AB:CD:..." → bytes. */
static TmSdpError
parse_fingerprint_hex(Span s, uint8_t out[TM_SDP_FINGERPRINT_MAX], size_t *len)
{
  size_t n = 0;
  size_t i = 0;
  for (;;) {
    if (s.n - i < 2)
      return TM_SDP_ERR_BAD_VALUE;
    int hi = hex_value(s.p[i]);
    int lo = hex_value(s.p[i + 1]);
    if (hi < 0 || lo < 0)
      return TM_SDP_ERR_BAD_VALUE;
    if (n == TM_SDP_FINGERPRINT_MAX)
      return TM_SDP_ERR_TOO_LONG;
    out[n++] = (uint8_t) (hi << 4 | lo);
    i += 2;
    if (i == s.n)
      break;
    if (s.p[i] != ':')
      return TM_SDP_ERR_BAD_VALUE;
    i++;
  }
  *len = n;
  return TM_SDP_OK;
}

/* Digest length of a known hash function (lower-case name), 0 when unknown. */
static size_t
fingerprint_alg_len(const char *alg)
{
  static const struct {
    const char *name;
    size_t len;
  } algs[] = {
    { "md5", 16 },     { "sha-1", 20 },   { "sha-224", 28 },
    { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS(algs); i++)
    if (strcmp(alg, algs[i].name) == 0)
      return algs[i].len;
  return 0;
}

/* ---- parser ---- */

typedef struct {
  TmSdp *sdp;
  TmSdpMedia *media; /* current m= section, NULL at session level */
  TmDirection session_direction;
  bool have_origin, have_ufrag, have_pwd, have_fingerprint, have_setup, have_bundle;
} SdpParser;

static TmSdpCodec *
media_codec(TmSdpMedia *m, uint8_t pt)
{
  for (guint i = 0; i < m->n_codecs; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  return NULL;
}

static TmSdpError
parse_origin(SdpParser *ps, Span v)
{
  Span tok[6];
  for (size_t i = 0; i < G_N_ELEMENTS(tok); i++)
    tok[i] = span_token(&v);
  if (tok[5].n == 0)
    return TM_SDP_ERR_SYNTAX;
  uint64_t id, version;
  if (!parse_u64(tok[1], UINT64_MAX, &id) || !parse_u64(tok[2], UINT64_MAX, &version))
    return TM_SDP_ERR_BAD_VALUE;
  if (!ps->have_origin) {
    ps->have_origin = true;
    ps->sdp->session_id = id;
    ps->sdp->session_version = version;
  }
  return TM_SDP_OK;
}

static TmSdpError
parse_media_formats(TmSdpMedia *m, Span fmts)
{
  for (Span f = span_token(&fmts); f.n > 0; f = span_token(&fmts)) {
    uint8_t pt;
    if (parse_pt(f, &pt) != TM_SDP_OK || media_codec(m, pt) != NULL)
      return TM_SDP_ERR_BAD_VALUE;
    if (m->n_codecs == TM_SDP_MAX_CODECS)
      return TM_SDP_ERR_TOO_MANY;
    m->codecs[m->n_codecs++].pt = pt;
  }
  return TM_SDP_OK;
}

static TmSdpError
parse_media_line(SdpParser *ps, Span v)
{
  TmSdp *sdp = ps->sdp;
  Span kind = span_token(&v);
  Span port = span_token(&v);
  Span proto = span_token(&v);
  Span fmts = span_skip_blanks(v);
  if (fmts.n == 0)
    return TM_SDP_ERR_SYNTAX;
  if (sdp->n_media == TM_SDP_MAX_MEDIA)
    return TM_SDP_ERR_TOO_MANY;
  TmSdpMedia *m = &sdp->media[sdp->n_media];
  TmSdpError err = span_copy(m->kind_name, sizeof m->kind_name, kind);
  if (err == TM_SDP_OK)
    err = span_copy(m->proto, sizeof m->proto, proto);
  if (err != TM_SDP_OK)
    return err;
  uint64_t port_value;
  if (!parse_u64(port, UINT16_MAX, &port_value))
    return TM_SDP_ERR_BAD_VALUE;
  m->port = (uint16_t) port_value;
  m->kind = media_kind_of(m->kind_name);
  m->direction = ps->session_direction;
  if (proto_is_rtp(m->proto) && (err = parse_media_formats(m, fmts)) != TM_SDP_OK)
    return err;
  sdp->n_media++;
  ps->media = m;
  return TM_SDP_OK;
}

/* Session-level and transport attributes. */

static TmSdpError
attr_group(SdpParser *ps, Span v)
{
  if (!span_eq(span_token(&v), "BUNDLE"))
    return TM_SDP_OK;
  bool keep = !ps->have_bundle;
  ps->have_bundle = true;
  guint n = 0;
  for (Span mid = span_token(&v); mid.n > 0; mid = span_token(&v)) {
    if (n == TM_SDP_MAX_MEDIA)
      return TM_SDP_ERR_TOO_MANY;
    if (mid.n >= TM_SDP_TOKEN_LEN)
      return TM_SDP_ERR_TOO_LONG;
    if (keep)
      span_copy(ps->sdp->bundle[n], TM_SDP_TOKEN_LEN, mid);
    n++;
  }
  if (keep)
    ps->sdp->n_bundle = n;
  return TM_SDP_OK;
}

static TmSdpError
attr_msid_semantic(SdpParser *ps, Span v)
{
  Span sem = span_token(&v);
  if (sem.n >= TM_SDP_TOKEN_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (ps->sdp->msid_semantic[0] == '\0')
    span_copy(ps->sdp->msid_semantic, TM_SDP_TOKEN_LEN, sem);
  return TM_SDP_OK;
}

static TmSdpError
attr_ice_credential(char *dst, bool *have, Span v)
{
  if (!span_is_token(v))
    return TM_SDP_ERR_BAD_VALUE;
  if (v.n >= TM_SDP_ICE_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (!*have) {
    *have = true;
    span_copy(dst, TM_SDP_ICE_LEN, v);
  }
  return TM_SDP_OK;
}

static TmSdpError
attr_ice_ufrag(SdpParser *ps, Span v)
{
  return attr_ice_credential(ps->sdp->ice_ufrag, &ps->have_ufrag, v);
}

static TmSdpError
attr_ice_pwd(SdpParser *ps, Span v)
{
  return attr_ice_credential(ps->sdp->ice_pwd, &ps->have_pwd, v);
}

static TmSdpError
attr_fingerprint(SdpParser *ps, Span v)
{
  TmSdp *sdp = ps->sdp;
  Span alg = span_token(&v);
  Span hex = span_token(&v);
  if (alg.n == 0 || hex.n == 0)
    return TM_SDP_ERR_BAD_VALUE;
  char alg_lower[sizeof sdp->fingerprint_alg] = ""; /* zeroed: copied whole */
  TmSdpError err = span_copy(alg_lower, sizeof alg_lower, alg);
  if (err != TM_SDP_OK)
    return err;
  for (char *c = alg_lower; *c != '\0'; c++)
    *c = g_ascii_tolower(*c);
  uint8_t digest[TM_SDP_FINGERPRINT_MAX];
  size_t len = 0;
  if ((err = parse_fingerprint_hex(hex, digest, &len)) != TM_SDP_OK)
    return err;
  size_t expected = fingerprint_alg_len(alg_lower);
  if (expected != 0 && expected != len)
    return TM_SDP_ERR_BAD_VALUE;
  if (!ps->have_fingerprint) {
    ps->have_fingerprint = true;
    memcpy(sdp->fingerprint_alg, alg_lower, sizeof alg_lower);
    memcpy(sdp->fingerprint, digest, len);
    sdp->fingerprint_len = len;
  }
  return TM_SDP_OK;
}

static TmSdpError
attr_setup(SdpParser *ps, Span v)
{
  TmSetup setup = TM_SETUP_NONE;
  for (size_t i = 0; i < G_N_ELEMENTS(sdp_setup_names); i++)
    if (sdp_setup_names[i] != NULL && span_eq(v, sdp_setup_names[i]))
      setup = (TmSetup) i;
  if (setup == TM_SETUP_NONE)
    return TM_SDP_ERR_BAD_VALUE;
  if (!ps->have_setup) {
    ps->have_setup = true;
    ps->sdp->setup = setup;
  }
  return TM_SDP_OK;
}

/* Media-level attributes: ps->media is set. */

static TmSdpError
attr_mid(SdpParser *ps, Span v)
{
  if (!span_is_token(v))
    return TM_SDP_ERR_BAD_VALUE;
  if (v.n >= TM_SDP_TOKEN_LEN)
    return TM_SDP_ERR_TOO_LONG;
  for (guint i = 0; i + 1 < ps->sdp->n_media; i++)
    if (span_eq(v, ps->sdp->media[i].mid))
      return TM_SDP_ERR_BAD_VALUE;
  if (ps->media->mid[0] == '\0')
    span_copy(ps->media->mid, TM_SDP_TOKEN_LEN, v);
  return TM_SDP_OK;
}

/* a=rtpmap:PT NAME/RATE[/CHANNELS] */
static TmSdpError
attr_rtpmap(SdpParser *ps, Span v)
{
  uint8_t pt;
  Span pt_s = span_token(&v);
  Span enc = span_token(&v);
  if (parse_pt(pt_s, &pt) != TM_SDP_OK || enc.n == 0 || span_token(&v).n != 0)
    return TM_SDP_ERR_BAD_VALUE;
  Span name, rate_s;
  if (!span_split(&enc, '/', &name) || name.n == 0)
    return TM_SDP_ERR_BAD_VALUE;
  bool has_channels = span_split(&enc, '/', &rate_s); /* enc now holds the channels */
  if (!has_channels)
    rate_s = enc;
  uint64_t rate, channels = 0;
  if (!parse_u64(rate_s, UINT32_MAX, &rate) || rate == 0)
    return TM_SDP_ERR_BAD_VALUE;
  if (has_channels && (!parse_u64(enc, UINT8_MAX, &channels) || channels == 0))
    return TM_SDP_ERR_BAD_VALUE;
  if (name.n >= TM_SDP_TOKEN_LEN)
    return TM_SDP_ERR_TOO_LONG;
  TmSdpCodec *c = media_codec(ps->media, pt);
  if (c != NULL && c->name[0] == '\0') {
    span_copy(c->name, sizeof c->name, name);
    c->clock_rate = (uint32_t) rate;
    c->channels = (uint8_t) channels;
  }
  return TM_SDP_OK;
}

/* a=fmtp:PT PARAMETERS */
static TmSdpError
attr_fmtp(SdpParser *ps, Span v)
{
  uint8_t pt;
  if (parse_pt(span_token(&v), &pt) != TM_SDP_OK)
    return TM_SDP_ERR_BAD_VALUE;
  Span params = span_skip_blanks(v);
  if (params.n >= TM_SDP_FMTP_LEN)
    return TM_SDP_ERR_TOO_LONG;
  TmSdpCodec *c = media_codec(ps->media, pt);
  if (c != NULL && c->fmtp[0] == '\0')
    span_copy(c->fmtp, sizeof c->fmtp, params);
  return TM_SDP_OK;
}

typedef enum { FB_NONE, FB_NACK, FB_NACK_PLI, FB_CCM_FIR, FB_GOOG_REMB, FB_TRANSPORT_CC } SdpFb;

static const struct {
  const char *type, *subtype;
} sdp_fb_names[] = {
  [FB_NACK] = { "nack", NULL },
  [FB_NACK_PLI] = { "nack", "pli" },
  [FB_CCM_FIR] = { "ccm", "fir" },
  [FB_GOOG_REMB] = { "goog-remb", NULL },
  [FB_TRANSPORT_CC] = { "transport-cc", NULL },
};

static void
codec_set_fb(TmSdpCodec *c, SdpFb fb)
{
  switch (fb) {
  case FB_NACK: c->fb_nack = true; break;
  case FB_NACK_PLI: c->fb_nack_pli = true; break;
  case FB_CCM_FIR: c->fb_ccm_fir = true; break;
  case FB_GOOG_REMB: c->fb_goog_remb = true; break;
  case FB_TRANSPORT_CC: c->fb_transport_cc = true; break;
  case FB_NONE: break;
  }
}

static bool
codec_has_fb(const TmSdpCodec *c, SdpFb fb)
{
  switch (fb) {
  case FB_NACK: return c->fb_nack;
  case FB_NACK_PLI: return c->fb_nack_pli;
  case FB_CCM_FIR: return c->fb_ccm_fir;
  case FB_GOOG_REMB: return c->fb_goog_remb;
  case FB_TRANSPORT_CC: return c->fb_transport_cc;
  case FB_NONE: break;
  }
  return false;
}

/* a=rtcp-fb:PT|* TYPE [SUBTYPE] — other feedback types are ignored. */
static TmSdpError
attr_rtcp_fb(SdpParser *ps, Span v)
{
  Span pt_s = span_token(&v);
  Span type = span_token(&v);
  Span subtype = span_token(&v);
  bool all = span_eq(pt_s, "*");
  uint8_t pt = 0;
  if (!all && parse_pt(pt_s, &pt) != TM_SDP_OK)
    return TM_SDP_ERR_BAD_VALUE;
  SdpFb fb = FB_NONE;
  for (size_t i = FB_NACK; i < G_N_ELEMENTS(sdp_fb_names); i++) {
    const char *sub = sdp_fb_names[i].subtype;
    if (span_eq(type, sdp_fb_names[i].type) &&
        (sub != NULL ? span_eq(subtype, sub) : subtype.n == 0))
      fb = (SdpFb) i;
  }
  TmSdpMedia *m = ps->media;
  for (guint i = 0; i < m->n_codecs; i++)
    if (all || m->codecs[i].pt == pt)
      codec_set_fb(&m->codecs[i], fb);
  return TM_SDP_OK;
}

/* "STREAM [TRACK]" of a=msid or a=ssrc:N msid: — the first one wins. */
static TmSdpError
parse_msid_value(TmSdpMedia *m, Span v)
{
  Span stream = span_token(&v);
  Span track = span_token(&v);
  if (stream.n >= TM_SDP_TOKEN_LEN || track.n >= TM_SDP_TOKEN_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (stream.n > 0 && m->msid_stream[0] == '\0') {
    span_copy(m->msid_stream, TM_SDP_TOKEN_LEN, stream);
    span_copy(m->msid_track, TM_SDP_TOKEN_LEN, track);
  }
  return TM_SDP_OK;
}

static TmSdpError
attr_msid(SdpParser *ps, Span v)
{
  return parse_msid_value(ps->media, v);
}

/* a=ssrc:ID [ATTRIBUTE[:VALUE]] — keeps ids, the first cname and msid. */
static TmSdpError
attr_ssrc(SdpParser *ps, Span v)
{
  TmSdpMedia *m = ps->media;
  uint64_t id;
  if (!parse_u64(span_token(&v), UINT32_MAX, &id))
    return TM_SDP_ERR_BAD_VALUE;
  bool known = false;
  for (guint i = 0; i < m->n_ssrcs; i++)
    known = known || m->ssrcs[i] == id;
  if (!known) {
    if (m->n_ssrcs == TM_SDP_MAX_SSRCS)
      return TM_SDP_ERR_TOO_MANY;
    m->ssrcs[m->n_ssrcs++] = (uint32_t) id;
  }
  Span value = span_skip_blanks(v);
  Span name;
  if (!span_split(&value, ':', &name))
    return TM_SDP_OK;
  if (span_eq(name, "msid"))
    return parse_msid_value(m, value);
  if (!span_eq(name, "cname"))
    return TM_SDP_OK;
  if (value.n >= TM_SDP_TOKEN_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (m->cname[0] == '\0')
    span_copy(m->cname, sizeof m->cname, value);
  return TM_SDP_OK;
}

/* a=ssrc-group:SEMANTICS SSRC... (RFC 5576) — every id is checked; the first FID group is kept,
 * and an FID group pairs exactly two different SSRCs (RFC 4588 §8.1). */
static TmSdpError
attr_ssrc_group(SdpParser *ps, Span v)
{
  TmSdpMedia *m = ps->media;
  Span semantics = span_token(&v);
  uint32_t ids[2] = { 0, 0 };
  guint n = 0;
  for (Span id = span_token(&v); id.n > 0; id = span_token(&v)) {
    uint64_t value;
    if (!parse_u64(id, UINT32_MAX, &value))
      return TM_SDP_ERR_BAD_VALUE;
    if (n < G_N_ELEMENTS(ids))
      ids[n] = (uint32_t) value;
    n++;
  }
  if (semantics.n == 0 || n == 0)
    return TM_SDP_ERR_BAD_VALUE;
  if (!span_eq(semantics, "FID"))
    return TM_SDP_OK;
  if (n != 2 || ids[0] == ids[1])
    return TM_SDP_ERR_BAD_VALUE;
  if (!m->has_fid) {
    m->has_fid = true;
    m->fid_ssrcs[0] = ids[0];
    m->fid_ssrcs[1] = ids[1];
  }
  return TM_SDP_OK;
}

static TmSdpError
attr_candidate(SdpParser *ps, Span v)
{
  TmSdp *sdp = ps->sdp;
  if (v.n == 0)
    return TM_SDP_ERR_BAD_VALUE;
  const size_t prefix = strlen(SDP_CANDIDATE_PREFIX);
  if (prefix + v.n >= TM_SDP_CANDIDATE_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (sdp->n_candidates == TM_SDP_MAX_CANDIDATES)
    return TM_SDP_ERR_TOO_MANY;
  TmSdpCandidate *c = &sdp->candidates[sdp->n_candidates++];
  c->mline = (guint) (ps->media - sdp->media);
  memcpy(c->value, SDP_CANDIDATE_PREFIX, prefix);
  memcpy(c->value + prefix, v.p, v.n);
  return TM_SDP_OK;
}

/* a=extmap:ID[/DIRECTION] URI [ATTRIBUTES] (RFC 8285) — the ID is checked; only the
 * transport-wide sequence number's and abs-send-time's are kept (the first of each, and only in
 * the one-byte range). */
static TmSdpError
attr_extmap(SdpParser *ps, Span v)
{
  Span id_s = span_token(&v);
  Span uri = span_token(&v);
  Span id_part;
  if (!span_split(&id_s, '/', &id_part)) /* id_s keeps the direction */
    id_part = id_s;
  uint64_t id;
  if (!parse_u64(id_part, 4351, &id) || id == 0 || uri.n == 0)
    return TM_SDP_ERR_BAD_VALUE;
  if (id <= 14 && span_eq(uri, TM_TWCC_URI) && ps->media->twcc_id == 0)
    ps->media->twcc_id = (uint8_t) id;
  if (id <= 14 && span_eq(uri, TM_ABS_SEND_TIME_URI) && ps->media->abs_send_time_id == 0)
    ps->media->abs_send_time_id = (uint8_t) id;
  return TM_SDP_OK;
}

typedef TmSdpError (*SdpAttrFn)(SdpParser *ps, Span value);

static const struct {
  const char *name;
  SdpAttrFn fn;
  bool media_only; /* ignored at session level */
} sdp_attrs[] = {
  { "group", attr_group, false },
  { "msid-semantic", attr_msid_semantic, false },
  { "ice-ufrag", attr_ice_ufrag, false },
  { "ice-pwd", attr_ice_pwd, false },
  { "fingerprint", attr_fingerprint, false },
  { "setup", attr_setup, false },
  { "mid", attr_mid, true },
  { "rtpmap", attr_rtpmap, true },
  { "fmtp", attr_fmtp, true },
  { "rtcp-fb", attr_rtcp_fb, true },
  { "ssrc", attr_ssrc, true },
  { "ssrc-group", attr_ssrc_group, true },
  { "msid", attr_msid, true },
  { "candidate", attr_candidate, true },
  { "extmap", attr_extmap, true },
};

/* Attributes without a value that set one flag of the description or of the section. */
static const struct {
  const char *name;
  bool media_only;
  size_t offset; /* of the bool in TmSdp, or in TmSdpMedia when media_only */
} sdp_flags[] = {
  { "ice-lite", false, offsetof(TmSdp, ice_lite) },
  { "end-of-candidates", false, offsetof(TmSdp, end_of_candidates) },
  { "rtcp-mux", true, offsetof(TmSdpMedia, rtcp_mux) },
  { "rtcp-rsize", true, offsetof(TmSdpMedia, rtcp_rsize) },
};

static bool
parse_flag(SdpParser *ps, Span name)
{
  for (size_t i = 0; i < G_N_ELEMENTS(sdp_flags); i++) {
    if (!span_eq(name, sdp_flags[i].name))
      continue;
    char *base = sdp_flags[i].media_only ? (char *) ps->media : (char *) ps->sdp;
    if (base != NULL)
      *(bool *) (base + sdp_flags[i].offset) = true;
    return true;
  }
  return false;
}

static TmSdpError
parse_attribute(SdpParser *ps, Span line)
{
  Span value = line;
  Span name;
  if (span_split(&value, ':', &name))
    value = span_skip_blanks(value);
  else {
    name = line;
    value = (Span){ line.p + line.n, 0 };
  }
  for (size_t i = 0; i < G_N_ELEMENTS(sdp_direction_names); i++) {
    if (span_eq(name, sdp_direction_names[i])) {
      if (ps->media != NULL)
        ps->media->direction = (TmDirection) i;
      else
        ps->session_direction = (TmDirection) i;
      return TM_SDP_OK;
    }
  }
  if (parse_flag(ps, name))
    return TM_SDP_OK;
  for (size_t i = 0; i < G_N_ELEMENTS(sdp_attrs); i++) {
    if (span_eq(name, sdp_attrs[i].name)) {
      if (sdp_attrs[i].media_only && ps->media == NULL)
        return TM_SDP_OK;
      return sdp_attrs[i].fn(ps, value);
    }
  }
  return TM_SDP_OK;
}

/* One non-empty line without its end. */
static TmSdpError
parse_line(SdpParser *ps, Span line)
{
  if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
    return TM_SDP_ERR_SYNTAX;
  Span value = { line.p + 2, line.n - 2 };
  switch (line.p[0]) {
  case 'v': return TM_SDP_ERR_SYNTAX; /* only once, first */
  case 'o': return parse_origin(ps, value);
  case 'm': return parse_media_line(ps, value);
  case 'a': return parse_attribute(ps, value);
  default: return TM_SDP_OK; /* s=, t=, c=, b=, i=, ... carry nothing the relay needs */
  }
}

/* The next line of TEXT at *POS, without CR/LF and trailing blanks; *POS moves past it. */
static Span
next_line(const char *text, size_t len, size_t *pos)
{
  Span line = { text + *pos, len - *pos };
  const char *nl = memchr(line.p, '\n', line.n);
  if (nl != NULL)
    line.n = (size_t) (nl - line.p);
  *pos += line.n + (nl != NULL ? 1 : 0);
  if (line.n > 0 && line.p[line.n - 1] == '\r')
    line.n--;
  while (line.n > 0 && char_is_blank(line.p[line.n - 1]))
    line.n--;
  return line;
}

TmSdpError
tm_sdp_parse(const char *text, size_t len, TmSdp *out)
{
  g_return_val_if_fail(out != NULL, TM_SDP_ERR_SYNTAX);
  g_return_val_if_fail(text != NULL || len == 0, TM_SDP_ERR_SYNTAX);
  memset(out, 0, sizeof *out);
  if (len > TM_SDP_MAX_SIZE)
    return TM_SDP_ERR_TOO_LARGE;
  SdpParser ps = { .sdp = out, .session_direction = TM_DIR_SENDRECV };
  bool seen_version = false;
  size_t pos = 0;
  while (pos < len) {
    Span line = next_line(text, len, &pos);
    if (line.n == 0)
      continue;
    for (size_t i = 0; i < line.n; i++)
      if (char_is_control((unsigned char) line.p[i]))
        return TM_SDP_ERR_SYNTAX;
    if (!seen_version) {
      if (line.n < 2 || memcmp(line.p, "v=", 2) != 0)
        return TM_SDP_ERR_SYNTAX;
      if (!span_eq(line, "v=0"))
        return TM_SDP_ERR_BAD_VALUE;
      seen_version = true;
      continue;
    }
    TmSdpError err = parse_line(&ps, line);
    if (err != TM_SDP_OK)
      return err;
  }
  if (!seen_version)
    return TM_SDP_ERR_SYNTAX;
  if (out->ice_ufrag[0] == '\0' || out->ice_pwd[0] == '\0')
    return TM_SDP_ERR_NO_ICE;
  if (out->fingerprint_len == 0)
    return TM_SDP_ERR_NO_FINGERPRINT;
  return TM_SDP_OK;
}

const TmSdpCodec *
tm_sdp_media_find_codec(const TmSdpMedia *m, const char *name)
{
  g_return_val_if_fail(m != NULL && name != NULL, NULL);
  for (guint i = 0; i < MIN(m->n_codecs, TM_SDP_MAX_CODECS); i++)
    if (g_ascii_strcasecmp(m->codecs[i].name, name) == 0)
      return &m->codecs[i];
  return NULL;
}

int
tm_sdp_codec_apt(const TmSdpCodec *c)
{
  g_return_val_if_fail(c != NULL, -1);
  Span rest = { c->fmtp, strnlen(c->fmtp, sizeof c->fmtp) };
  for (;;) {
    Span param;
    bool more = span_split(&rest, ';', &param);
    if (!more)
      param = rest;
    param = span_skip_blanks(param);
    Span name;
    uint8_t pt;
    if (span_split(&param, '=', &name) && span_eq(name, "apt") && parse_pt(param, &pt) == TM_SDP_OK)
      return pt;
    if (!more)
      return -1;
  }
}

const TmSdpCodec *
tm_sdp_media_find_rtx(const TmSdpMedia *m, const TmSdpCodec *primary)
{
  g_return_val_if_fail(m != NULL && primary != NULL, NULL);
  for (guint i = 0; i < MIN(m->n_codecs, TM_SDP_MAX_CODECS); i++) {
    const TmSdpCodec *c = &m->codecs[i];
    if (g_ascii_strcasecmp(c->name, "rtx") == 0 && c->clock_rate == primary->clock_rate &&
        c->pt != primary->pt && tm_sdp_codec_apt(c) == primary->pt)
      return c;
  }
  return NULL;
}

/* Whether FMTP is "P/P[/P...]" (RFC 2198's format list) with every P the payload type PT. */
static bool
red_fmtp_names(const char *fmtp, size_t cap, uint8_t pt)
{
  Span rest = span_skip_blanks((Span){ fmtp, strnlen(fmtp, cap) });
  int count = 0;
  for (;;) {
    Span item;
    bool more = span_split(&rest, '/', &item);
    if (!more)
      item = rest;
    uint8_t each;
    if (parse_pt(item, &each) != TM_SDP_OK || each != pt)
      return false;
    count++;
    if (!more)
      return count >= 2;
  }
}

const TmSdpCodec *
tm_sdp_media_find_red(const TmSdpMedia *m, const TmSdpCodec *primary)
{
  g_return_val_if_fail(m != NULL && primary != NULL, NULL);
  for (guint i = 0; i < MIN(m->n_codecs, TM_SDP_MAX_CODECS); i++) {
    const TmSdpCodec *c = &m->codecs[i];
    if (g_ascii_strcasecmp(c->name, "red") == 0 && c->clock_rate == primary->clock_rate &&
        c->channels == primary->channels && c->pt != primary->pt &&
        red_fmtp_names(c->fmtp, sizeof c->fmtp, primary->pt))
      return c;
  }
  return NULL;
}

/* ---- answer ---- */

/* A non-empty string without spaces or control characters, shorter than CAP. */
static TmSdpError
check_token(const char *s, size_t cap)
{
  size_t n = strlen(s);
  if (n >= cap)
    return TM_SDP_ERR_TOO_LONG;
  for (size_t i = 0; i < n; i++)
    if (char_is_blank(s[i]) || char_is_control((unsigned char) s[i]))
      return TM_SDP_ERR_BAD_VALUE;
  return n > 0 ? TM_SDP_OK : TM_SDP_ERR_BAD_VALUE;
}

/* "candidate:..." that serializes to one line and parses back unchanged. */
static TmSdpError
check_candidate(const char *c)
{
  if (c == NULL)
    return TM_SDP_ERR_BAD_VALUE;
  size_t prefix = strlen(SDP_CANDIDATE_PREFIX);
  size_t n = strlen(c);
  if (n >= TM_SDP_CANDIDATE_LEN)
    return TM_SDP_ERR_TOO_LONG;
  if (n <= prefix || strncmp(c, SDP_CANDIDATE_PREFIX, prefix) != 0 || char_is_blank(c[prefix]) ||
      char_is_blank(c[n - 1]))
    return TM_SDP_ERR_BAD_VALUE;
  for (size_t i = 0; i < n; i++)
    if (char_is_control((unsigned char) c[i]))
      return TM_SDP_ERR_BAD_VALUE;
  return TM_SDP_OK;
}

static TmSdpError
answer_check_params(const TmSdpAnswerParams *p)
{
  if (p->ice_ufrag == NULL || p->ice_pwd == NULL || !p->ice_ufrag[0] || !p->ice_pwd[0])
    return TM_SDP_ERR_NO_ICE;
  TmSdpError err = check_token(p->ice_ufrag, TM_SDP_ICE_LEN);
  if (err == TM_SDP_OK)
    err = check_token(p->ice_pwd, TM_SDP_ICE_LEN);
  if (err != TM_SDP_OK)
    return err;
  if (p->fingerprint == NULL || p->fingerprint_len == 0)
    return TM_SDP_ERR_NO_FINGERPRINT;
  if (p->fingerprint_len > TM_SDP_FINGERPRINT_MAX)
    return TM_SDP_ERR_TOO_LONG;
  if (p->fingerprint_alg != NULL &&
      (err = check_token(p->fingerprint_alg, sizeof((TmSdp *) NULL)->fingerprint_alg)) != TM_SDP_OK)
    return err;
  if (p->setup == TM_SETUP_ACTPASS || (unsigned) p->setup > TM_SETUP_PASSIVE ||
      (unsigned) p->direction > TM_DIR_INACTIVE)
    return TM_SDP_ERR_BAD_VALUE;
  if (p->n_candidates > TM_SDP_MAX_CANDIDATES)
    return TM_SDP_ERR_TOO_MANY;
  if (p->n_candidates > 0 && p->candidates == NULL)
    return TM_SDP_ERR_BAD_VALUE;
  for (guint i = 0; i < p->n_candidates; i++)
    if ((err = check_candidate(p->candidates[i])) != TM_SDP_OK)
      return err;
  if (p->cname != NULL && (err = check_token(p->cname, TM_SDP_TOKEN_LEN)) != TM_SDP_OK)
    return err;
  if (p->stream_id != NULL && (err = check_token(p->stream_id, TM_SDP_TOKEN_LEN)) != TM_SDP_OK)
    return err;
  if (p->video_rtx_ssrc != 0 && p->video_rtx_ssrc == p->video_ssrc)
    return TM_SDP_ERR_BAD_VALUE;
  return TM_SDP_OK;
}

/* The codec the relay accepts in section M: Opus/48000/2 for audio, VP8/90000 for video. */
static const TmSdpCodec *
answer_pick_codec(const TmSdpMedia *m)
{
  if (!proto_is_savpf(m->proto))
    return NULL;
  for (guint i = 0; i < MIN(m->n_codecs, TM_SDP_MAX_CODECS); i++) {
    const TmSdpCodec *c = &m->codecs[i];
    if (m->kind == TM_MEDIA_AUDIO && g_ascii_strcasecmp(c->name, "opus") == 0 &&
        c->clock_rate == 48000 && c->channels == 2)
      return c;
    if (m->kind == TM_MEDIA_VIDEO && g_ascii_strcasecmp(c->name, "VP8") == 0 &&
        c->clock_rate == 90000 && c->channels <= 1)
      return c;
  }
  return NULL;
}

bool
tm_sdp_offers_remb(const TmSdp *offer)
{
  for (guint i = 0; i < offer->n_media; i++) {
    const TmSdpCodec *c = answer_pick_codec(&offer->media[i]);
    if (c != NULL && offer->media[i].kind == TM_MEDIA_VIDEO && c->fb_goog_remb)
      return true;
  }
  return false;
}

static bool
offer_bundles(const TmSdp *offer, const char *mid)
{
  if (mid[0] == '\0')
    return false;
  for (guint i = 0; i < MIN(offer->n_bundle, TM_SDP_MAX_MEDIA); i++)
    if (strncmp(offer->bundle[i], mid, TM_SDP_TOKEN_LEN) == 0)
      return true;
  return false;
}

static bool
direction_sends(TmDirection d)
{
  return d == TM_DIR_SENDRECV || d == TM_DIR_SENDONLY;
}

static bool
direction_receives(TmDirection d)
{
  return d == TM_DIR_SENDRECV || d == TM_DIR_RECVONLY;
}

/* The answerer sends only what the offerer receives, and receives only what it sends. */
static TmDirection
answer_direction(TmDirection offered, TmDirection wanted)
{
  bool send = direction_sends(wanted) && direction_receives(offered);
  bool recv = direction_receives(wanted) && direction_sends(offered);
  if (send && recv)
    return TM_DIR_SENDRECV;
  if (send)
    return TM_DIR_SENDONLY;
  return recv ? TM_DIR_RECVONLY : TM_DIR_INACTIVE;
}

static void
answer_media_head(TmSdpMedia *am, const TmSdpMedia *om)
{
  am->kind = om->kind;
  field_copy(am->kind_name, om->kind_name, sizeof am->kind_name);
  field_copy(am->proto, om->proto, sizeof am->proto);
  field_copy(am->mid, om->mid, sizeof am->mid);
}

static void
answer_media_reject(TmSdpMedia *am, const TmSdpMedia *om)
{
  answer_media_head(am, om);
  am->port = 0;
  am->direction = TM_DIR_INACTIVE;
  if (om->n_codecs > 0) {
    am->codecs[0].pt = om->codecs[0].pt;
    am->n_codecs = 1;
  }
}

/* Copies the offered codec OC (name, rate, fmtp, PT) into the answer section AM. */
static TmSdpCodec *
answer_add_codec(TmSdpMedia *am, const TmSdpCodec *oc)
{
  TmSdpCodec *c = &am->codecs[am->n_codecs++];
  c->pt = oc->pt;
  field_copy(c->name, oc->name, sizeof c->name);
  c->clock_rate = oc->clock_rate;
  c->channels = oc->channels;
  field_copy(c->fmtp, oc->fmtp, sizeof c->fmtp);
  return c;
}

static void
answer_media_accept(TmSdpMedia *am, const TmSdpMedia *om, const TmSdpCodec *oc,
                    const TmSdpAnswerParams *p)
{
  answer_media_head(am, om);
  am->port = SDP_ANSWER_PORT;
  am->direction = answer_direction(om->direction, p->direction);
  am->rtcp_mux = true;
  am->rtcp_rsize = om->rtcp_rsize;
  /* RED for the sound where offered: first in a publisher's answer, since a browser sends the
   * first codec of the answer it supports (RED, with Opus inside); after Opus in a receiver's,
   * which tells it what may come (the relay sends RED, red.h). */
  const TmSdpCodec *red = om->kind == TM_MEDIA_AUDIO ? tm_sdp_media_find_red(om, oc) : NULL;
  bool red_first = red != NULL && !direction_sends(am->direction);
  if (red_first)
    answer_add_codec(am, red);
  TmSdpCodec *c = answer_add_codec(am, oc);
  if (red != NULL && !red_first)
    answer_add_codec(am, red);
  const TmSdpCodec *rtx = NULL;
  if (om->kind == TM_MEDIA_VIDEO) {
    c->fb_nack = oc->fb_nack;
    c->fb_nack_pli = oc->fb_nack_pli;
    c->fb_ccm_fir = oc->fb_ccm_fir;
    c->fb_goog_remb = oc->fb_goog_remb;
    if ((rtx = tm_sdp_media_find_rtx(om, oc)) != NULL)
      answer_add_codec(am, rtx);
  }
  if (p->transport_cc && om->twcc_id != 0 && oc->fb_transport_cc) {
    am->twcc_id = om->twcc_id;
    c->fb_transport_cc = true;
  }
  if (p->abs_send_time && om->abs_send_time_id != 0 && om->abs_send_time_id != am->twcc_id)
    am->abs_send_time_id = om->abs_send_time_id;
  if (!direction_sends(am->direction))
    return;
  uint32_t ssrc = om->kind == TM_MEDIA_AUDIO ? p->audio_ssrc : p->video_ssrc;
  if (ssrc != 0) {
    am->ssrcs[am->n_ssrcs++] = ssrc;
    field_copy(am->cname, p->cname != NULL ? p->cname : SDP_DEFAULT_CNAME, sizeof am->cname);
    if (rtx != NULL && p->video_rtx_ssrc != 0) {
      am->ssrcs[am->n_ssrcs++] = p->video_rtx_ssrc;
      am->has_fid = true;
      am->fid_ssrcs[0] = ssrc;
      am->fid_ssrcs[1] = p->video_rtx_ssrc;
    }
  }
  if (p->stream_id != NULL) {
    field_copy(am->msid_stream, p->stream_id, sizeof am->msid_stream);
    field_copy(am->msid_track, om->mid, sizeof am->msid_track); /* unique per description */
  }
}

/* Fills the session part of ANSWER: ids, transport, candidates in section FIRST. */
static void
answer_session(TmSdp *answer, const TmSdp *offer, const TmSdpAnswerParams *p, TmSetup setup,
               guint first)
{
  answer->session_id = p->session_id;
  answer->session_version = SDP_ANSWER_VERSION;
  field_copy(answer->ice_ufrag, p->ice_ufrag, sizeof answer->ice_ufrag);
  field_copy(answer->ice_pwd, p->ice_pwd, sizeof answer->ice_pwd);
  const char *alg = p->fingerprint_alg != NULL ? p->fingerprint_alg : "sha-256";
  field_copy(answer->fingerprint_alg, alg, sizeof answer->fingerprint_alg);
  for (char *c = answer->fingerprint_alg; *c != '\0'; c++)
    *c = g_ascii_tolower(*c);
  memcpy(answer->fingerprint, p->fingerprint, p->fingerprint_len);
  answer->fingerprint_len = p->fingerprint_len;
  answer->setup = setup;
  field_copy(answer->msid_semantic, offer->msid_semantic, sizeof answer->msid_semantic);
  for (guint i = 0; i < p->n_candidates; i++) {
    answer->candidates[i].mline = first;
    field_copy(answer->candidates[i].value, p->candidates[i], TM_SDP_CANDIDATE_LEN);
  }
  answer->n_candidates = p->n_candidates;
  answer->end_of_candidates = p->n_candidates > 0;
}

TmSdpError
tm_sdp_answer(const TmSdp *offer, const TmSdpAnswerParams *params, TmSdp *answer)
{
  g_return_val_if_fail(offer != NULL && params != NULL && answer != NULL, TM_SDP_ERR_BAD_VALUE);
  memset(answer, 0, sizeof *answer);
  if (offer->n_media > TM_SDP_MAX_MEDIA)
    return TM_SDP_ERR_TOO_MANY;
  if (offer->ice_ufrag[0] == '\0' || offer->ice_pwd[0] == '\0')
    return TM_SDP_ERR_NO_ICE;
  if (offer->fingerprint_len == 0)
    return TM_SDP_ERR_NO_FINGERPRINT;
  TmSdpError err = answer_check_params(params);
  if (err != TM_SDP_OK)
    return err;
  /* The relay takes the DTLS role it is given; an offer that insists on the same role fails. */
  TmSetup setup = params->setup == TM_SETUP_NONE ? TM_SETUP_PASSIVE : params->setup;
  if (offer->setup == setup)
    return TM_SDP_ERR_BAD_VALUE;
  guint first = G_MAXUINT;
  for (guint i = 0; i < offer->n_media; i++) {
    const TmSdpMedia *om = &offer->media[i];
    TmSdpMedia *am = &answer->media[i];
    const TmSdpCodec *codec = answer_pick_codec(om);
    bool bundled = offer_bundles(offer, om->mid);
    /* Port 0 outside the BUNDLE group: the offerer disabled the section. Port 0 inside it is
     * a bundle-only section (webrtcbin's max-bundle offers) and is answered normally. */
    if (codec == NULL || (om->port == 0 && !bundled)) {
      answer_media_reject(am, om);
      continue;
    }
    if (!bundled)
      return TM_SDP_ERR_NO_BUNDLE;
    if (!om->rtcp_mux)
      return TM_SDP_ERR_NO_RTCP_MUX;
    answer_media_accept(am, om, codec, params);
    field_copy(answer->bundle[answer->n_bundle++], om->mid, TM_SDP_TOKEN_LEN);
    first = MIN(first, i);
  }
  answer->n_media = offer->n_media;
  if (first == G_MAXUINT)
    return TM_SDP_ERR_NO_CODEC;
  answer_session(answer, offer, params, setup, first);
  return TM_SDP_OK;
}

/* ---- serializer ---- */

/* printf arguments for a char array field that might lack its NUL. */
#define SDP_FIELD(f) (int) strnlen((f), sizeof(f)), (f)

static void
write_transport(GString *s, const TmSdp *sdp)
{
  if (sdp->ice_ufrag[0] != '\0')
    g_string_append_printf(s, "a=ice-ufrag:%.*s\r\n", SDP_FIELD(sdp->ice_ufrag));
  if (sdp->ice_pwd[0] != '\0')
    g_string_append_printf(s, "a=ice-pwd:%.*s\r\n", SDP_FIELD(sdp->ice_pwd));
  size_t len = MIN(sdp->fingerprint_len, TM_SDP_FINGERPRINT_MAX);
  if (len > 0) {
    g_string_append_printf(s, "a=fingerprint:%.*s ", SDP_FIELD(sdp->fingerprint_alg));
    for (size_t i = 0; i < len; i++)
      g_string_append_printf(s, i == 0 ? "%02X" : ":%02X", sdp->fingerprint[i]);
    g_string_append(s, "\r\n");
  }
  if ((unsigned) sdp->setup < G_N_ELEMENTS(sdp_setup_names) && sdp_setup_names[sdp->setup])
    g_string_append_printf(s, "a=setup:%s\r\n", sdp_setup_names[sdp->setup]);
}

static void
write_codec(GString *s, const TmSdpCodec *c)
{
  if (c->name[0] != '\0') {
    g_string_append_printf(s, "a=rtpmap:%u %.*s/%" G_GUINT32_FORMAT, c->pt, SDP_FIELD(c->name),
                           c->clock_rate);
    if (c->channels != 0)
      g_string_append_printf(s, "/%u", c->channels);
    g_string_append(s, "\r\n");
  }
  for (size_t fb = FB_NACK; fb < G_N_ELEMENTS(sdp_fb_names); fb++) {
    if (!codec_has_fb(c, (SdpFb) fb))
      continue;
    const char *sub = sdp_fb_names[fb].subtype;
    g_string_append_printf(s, "a=rtcp-fb:%u %s%s%s\r\n", c->pt, sdp_fb_names[fb].type,
                           sub != NULL ? " " : "", sub != NULL ? sub : "");
  }
  if (c->fmtp[0] != '\0')
    g_string_append_printf(s, "a=fmtp:%u %.*s\r\n", c->pt, SDP_FIELD(c->fmtp));
}

static void
write_media_streams(GString *s, const TmSdpMedia *m)
{
  char msid[2 * TM_SDP_TOKEN_LEN + 1] = "";
  if (m->msid_stream[0] != '\0') {
    g_snprintf(msid, sizeof msid, "%.*s%s%.*s", SDP_FIELD(m->msid_stream),
               m->msid_track[0] != '\0' ? " " : "", SDP_FIELD(m->msid_track));
    g_string_append_printf(s, "a=msid:%s\r\n", msid);
  }
  if (m->has_fid)
    g_string_append_printf(s, "a=ssrc-group:FID %" G_GUINT32_FORMAT " %" G_GUINT32_FORMAT "\r\n",
                           m->fid_ssrcs[0], m->fid_ssrcs[1]);
  for (guint i = 0; i < MIN(m->n_ssrcs, TM_SDP_MAX_SSRCS); i++) {
    if (m->cname[0] != '\0')
      g_string_append_printf(s, "a=ssrc:%" G_GUINT32_FORMAT " cname:%.*s\r\n", m->ssrcs[i],
                             SDP_FIELD(m->cname));
    if (msid[0] != '\0')
      g_string_append_printf(s, "a=ssrc:%" G_GUINT32_FORMAT " msid:%s\r\n", m->ssrcs[i], msid);
    if (m->cname[0] == '\0' && msid[0] == '\0')
      g_string_append_printf(s, "a=ssrc:%" G_GUINT32_FORMAT "\r\n", m->ssrcs[i]);
  }
}

static void
write_media(GString *s, const TmSdp *sdp, guint index, bool end_of_candidates)
{
  const TmSdpMedia *m = &sdp->media[index];
  guint n_codecs = MIN(m->n_codecs, TM_SDP_MAX_CODECS);
  g_string_append_printf(s, "m=%.*s %u %.*s", SDP_FIELD(m->kind_name), m->port,
                         SDP_FIELD(m->proto));
  for (guint i = 0; i < n_codecs; i++)
    g_string_append_printf(s, " %u", m->codecs[i].pt);
  if (n_codecs == 0)
    g_string_append(s, strstr(m->proto, "SCTP") != NULL ? " webrtc-datachannel" : " 0");
  g_string_append(s, "\r\nc=IN IP4 0.0.0.0\r\n");
  write_transport(s, sdp);
  if (m->mid[0] != '\0')
    g_string_append_printf(s, "a=mid:%.*s\r\n", SDP_FIELD(m->mid));
  if ((unsigned) m->direction < G_N_ELEMENTS(sdp_direction_names))
    g_string_append_printf(s, "a=%s\r\n", sdp_direction_names[m->direction]);
  if (m->twcc_id != 0)
    g_string_append_printf(s, "a=extmap:%u %s\r\n", m->twcc_id, TM_TWCC_URI);
  if (m->abs_send_time_id != 0)
    g_string_append_printf(s, "a=extmap:%u %s\r\n", m->abs_send_time_id, TM_ABS_SEND_TIME_URI);
  if (m->rtcp_mux)
    g_string_append(s, "a=rtcp-mux\r\n");
  if (m->rtcp_rsize)
    g_string_append(s, "a=rtcp-rsize\r\n");
  for (guint i = 0; i < n_codecs; i++)
    write_codec(s, &m->codecs[i]);
  write_media_streams(s, m);
  for (guint i = 0; i < MIN(sdp->n_candidates, TM_SDP_MAX_CANDIDATES); i++)
    if (sdp->candidates[i].mline == index)
      g_string_append_printf(s, "a=%.*s\r\n", SDP_FIELD(sdp->candidates[i].value));
  if (end_of_candidates)
    g_string_append(s, "a=end-of-candidates\r\n");
}

/* Section that carries a=end-of-candidates: the first candidate's, else the first one with a
 * port, else the first. */
static guint
end_of_candidates_section(const TmSdp *sdp, guint n_media)
{
  if (sdp->n_candidates > 0 && sdp->candidates[0].mline < n_media)
    return sdp->candidates[0].mline;
  for (guint i = 0; i < n_media; i++)
    if (sdp->media[i].port != 0)
      return i;
  return 0;
}

gchar *
tm_sdp_serialize(const TmSdp *sdp)
{
  g_return_val_if_fail(sdp != NULL, NULL);
  GString *s = g_string_sized_new(2048);
  g_string_append_printf(
    s, "v=0\r\no=- %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
    sdp->session_id, sdp->session_version);
  if (sdp->ice_lite)
    g_string_append(s, "a=ice-lite\r\n");
  guint n_bundle = MIN(sdp->n_bundle, TM_SDP_MAX_MEDIA);
  if (n_bundle > 0) {
    g_string_append(s, "a=group:BUNDLE");
    for (guint i = 0; i < n_bundle; i++)
      g_string_append_printf(s, " %.*s", SDP_FIELD(sdp->bundle[i]));
    g_string_append(s, "\r\n");
  }
  if (sdp->msid_semantic[0] != '\0')
    g_string_append_printf(s, "a=msid-semantic: %.*s\r\n", SDP_FIELD(sdp->msid_semantic));
  guint n_media = MIN(sdp->n_media, TM_SDP_MAX_MEDIA);
  if (n_media == 0) {
    write_transport(s, sdp);
    if (sdp->end_of_candidates)
      g_string_append(s, "a=end-of-candidates\r\n");
  }
  guint eoc = end_of_candidates_section(sdp, n_media);
  for (guint i = 0; i < n_media; i++)
    write_media(s, sdp, i, sdp->end_of_candidates && i == eoc);
  return g_string_free(s, FALSE);
}
