/* test-sdp.c — SDP parser, answer builder and serializer (relay/engine/sdp.h).
 *
 * The offers below are copies of files in tests/fuzz/corpus/sdp/: the Chromium and webrtcbin
 * ones were produced by the real programs (Chromium 156 headless with fake devices, GStreamer
 * 1.22 webrtcbin), the Firefox one is written after Firefox's format. Their answers were also
 * checked by hand against the real programs (setRemoteDescription / set-remote-description). */
#include "sdp.h"

#include <string.h>

/* Chromium 156: getUserMedia audio+video sendonly, a data channel, bundlePolicy max-bundle */
static const char chromium_publish[] =
  "v=0\r\n"
  "o=- 3740058966112158156 2 IN IP4 127.0.0.1\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=group:BUNDLE 0 1 2\r\n"
  "a=extmap-allow-mixed\r\n"
  "a=msid-semantic: WMS c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87\r\n"
  "m=audio 59239 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
  "c=IN IP4 127.0.0.1\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=candidate:241229147 1 udp 2122260223 127.0.0.1 59239 typ host generation 0 network-id 1 "
  "network-cost 50\r\n"
  "a=candidate:1890533315 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 "
  "network-id 1 network-cost 50\r\n"
  "a=ice-ufrag:W6jb\r\n"
  "a=ice-pwd:8GwR0q7Dnk0WYxJYKjnSndgn\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 "
  "F7:69:4F:B8:A2:73:50:A0:6F:79:C4:C0:C3:39:15:B6:35:39:13:65:01:40:16:55:DE:63:25:57:FA:D6:14:"
  "0A\r\n"
  "a=setup:actpass\r\n"
  "a=mid:0\r\n"
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=sendonly\r\n"
  "a=msid:c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87 15b1737a-d280-4c25-9fe6-5685feb7c10f\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtcp-xr:rcvr-rtt=all\r\n"
  "a=rtpmap:111 opus/48000/2\r\n"
  "a=rtcp-fb:111 transport-cc\r\n"
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
  "a=rtpmap:63 red/48000/2\r\n"
  "a=fmtp:63 111/111\r\n"
  "a=rtpmap:9 G722/8000\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:13 CN/8000\r\n"
  "a=rtpmap:110 telephone-event/48000\r\n"
  "a=rtpmap:126 telephone-event/8000\r\n"
  "a=ssrc:1112915398 cname:bVDBbj9ZS6js9WGi\r\n"
  "a=ssrc:1112915398 msid:c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87 "
  "15b1737a-d280-4c25-9fe6-5685feb7c10f\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 107 108 109 114 115 116 117 39 40 45 46 98 99 100 "
  "101 118 119 120\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=ice-ufrag:W6jb\r\n"
  "a=ice-pwd:8GwR0q7Dnk0WYxJYKjnSndgn\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 "
  "F7:69:4F:B8:A2:73:50:A0:6F:79:C4:C0:C3:39:15:B6:35:39:13:65:01:40:16:55:DE:63:25:57:FA:D6:14:"
  "0A\r\n"
  "a=setup:actpass\r\n"
  "a=mid:1\r\n"
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
  "a=extmap:13 urn:3gpp:video-orientation\r\n"
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
  "a=sendonly\r\n"
  "a=msid:c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87 21d7d80b-136e-4683-857c-54dd59630859\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtcp-xr:rcvr-rtt=all\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtcp-fb:96 goog-remb\r\n"
  "a=rtcp-fb:96 transport-cc\r\n"
  "a=rtcp-fb:96 ccm fir\r\n"
  "a=rtcp-fb:96 nack\r\n"
  "a=rtcp-fb:96 nack pli\r\n"
  "a=rtpmap:97 rtx/90000\r\n"
  "a=fmtp:97 apt=96\r\n"
  "a=rtpmap:102 H264/90000\r\n"
  "a=rtcp-fb:102 goog-remb\r\n"
  "a=rtcp-fb:102 transport-cc\r\n"
  "a=rtcp-fb:102 ccm fir\r\n"
  "a=rtcp-fb:102 nack\r\n"
  "a=rtcp-fb:102 nack pli\r\n"
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
  "a=rtpmap:103 rtx/90000\r\n"
  "a=fmtp:103 apt=102\r\n"
  "a=rtpmap:104 H264/90000\r\n"
  "a=rtcp-fb:104 goog-remb\r\n"
  "a=rtcp-fb:104 transport-cc\r\n"
  "a=rtcp-fb:104 ccm fir\r\n"
  "a=rtcp-fb:104 nack\r\n"
  "a=rtcp-fb:104 nack pli\r\n"
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
  "a=rtpmap:107 rtx/90000\r\n"
  "a=fmtp:107 apt=104\r\n"
  "a=rtpmap:108 H264/90000\r\n"
  "a=rtcp-fb:108 goog-remb\r\n"
  "a=rtcp-fb:108 transport-cc\r\n"
  "a=rtcp-fb:108 ccm fir\r\n"
  "a=rtcp-fb:108 nack\r\n"
  "a=rtcp-fb:108 nack pli\r\n"
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
  "a=rtpmap:109 rtx/90000\r\n"
  "a=fmtp:109 apt=108\r\n"
  "a=rtpmap:114 H264/90000\r\n"
  "a=rtcp-fb:114 goog-remb\r\n"
  "a=rtcp-fb:114 transport-cc\r\n"
  "a=rtcp-fb:114 ccm fir\r\n"
  "a=rtcp-fb:114 nack\r\n"
  "a=rtcp-fb:114 nack pli\r\n"
  "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
  "a=rtpmap:115 rtx/90000\r\n"
  "a=fmtp:115 apt=114\r\n"
  "a=rtpmap:116 H264/90000\r\n"
  "a=rtcp-fb:116 goog-remb\r\n"
  "a=rtcp-fb:116 transport-cc\r\n"
  "a=rtcp-fb:116 ccm fir\r\n"
  "a=rtcp-fb:116 nack\r\n"
  "a=rtcp-fb:116 nack pli\r\n"
  "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
  "a=rtpmap:117 rtx/90000\r\n"
  "a=fmtp:117 apt=116\r\n"
  "a=rtpmap:39 H264/90000\r\n"
  "a=rtcp-fb:39 goog-remb\r\n"
  "a=rtcp-fb:39 transport-cc\r\n"
  "a=rtcp-fb:39 ccm fir\r\n"
  "a=rtcp-fb:39 nack\r\n"
  "a=rtcp-fb:39 nack pli\r\n"
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
  "a=rtpmap:40 rtx/90000\r\n"
  "a=fmtp:40 apt=39\r\n"
  "a=rtpmap:45 AV1/90000\r\n"
  "a=rtcp-fb:45 goog-remb\r\n"
  "a=rtcp-fb:45 transport-cc\r\n"
  "a=rtcp-fb:45 ccm fir\r\n"
  "a=rtcp-fb:45 nack\r\n"
  "a=rtcp-fb:45 nack pli\r\n"
  "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
  "a=rtpmap:46 rtx/90000\r\n"
  "a=fmtp:46 apt=45\r\n"
  "a=rtpmap:98 VP9/90000\r\n"
  "a=rtcp-fb:98 goog-remb\r\n"
  "a=rtcp-fb:98 transport-cc\r\n"
  "a=rtcp-fb:98 ccm fir\r\n"
  "a=rtcp-fb:98 nack\r\n"
  "a=rtcp-fb:98 nack pli\r\n"
  "a=fmtp:98 profile-id=0\r\n"
  "a=rtpmap:99 rtx/90000\r\n"
  "a=fmtp:99 apt=98\r\n"
  "a=rtpmap:100 VP9/90000\r\n"
  "a=rtcp-fb:100 goog-remb\r\n"
  "a=rtcp-fb:100 transport-cc\r\n"
  "a=rtcp-fb:100 ccm fir\r\n"
  "a=rtcp-fb:100 nack\r\n"
  "a=rtcp-fb:100 nack pli\r\n"
  "a=fmtp:100 profile-id=2\r\n"
  "a=rtpmap:101 rtx/90000\r\n"
  "a=fmtp:101 apt=100\r\n"
  "a=rtpmap:118 red/90000\r\n"
  "a=rtpmap:119 rtx/90000\r\n"
  "a=fmtp:119 apt=118\r\n"
  "a=rtpmap:120 ulpfec/90000\r\n"
  "a=ssrc-group:FID 2955060285 2655446920\r\n"
  "a=ssrc:2955060285 cname:bVDBbj9ZS6js9WGi\r\n"
  "a=ssrc:2955060285 msid:c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87 "
  "21d7d80b-136e-4683-857c-54dd59630859\r\n"
  "a=ssrc:2655446920 cname:bVDBbj9ZS6js9WGi\r\n"
  "a=ssrc:2655446920 msid:c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87 "
  "21d7d80b-136e-4683-857c-54dd59630859\r\n"
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=ice-ufrag:W6jb\r\n"
  "a=ice-pwd:8GwR0q7Dnk0WYxJYKjnSndgn\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 "
  "F7:69:4F:B8:A2:73:50:A0:6F:79:C4:C0:C3:39:15:B6:35:39:13:65:01:40:16:55:DE:63:25:57:FA:D6:14:"
  "0A\r\n"
  "a=setup:actpass\r\n"
  "a=mid:2\r\n"
  "a=sctp-port:5000\r\n"
  "a=max-message-size:262144\r\n";

/* Chromium 156: recvonly audio and video transceivers (34 video payload types) */
static const char chromium_subscribe[] =
  "v=0\r\n"
  "o=- 5049755289342317547 2 IN IP4 127.0.0.1\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=group:BUNDLE 0 1\r\n"
  "a=extmap-allow-mixed\r\n"
  "a=msid-semantic: WMS\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=ice-ufrag:SduH\r\n"
  "a=ice-pwd:MlEGviMEgUOGwacBTxZrxbbc\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 "
  "E8:1D:F7:80:57:1B:DE:EC:AE:4B:13:4D:05:93:93:73:6A:F5:7A:07:CC:83:72:BC:F3:A7:9E:59:8A:3F:3D:"
  "54\r\n"
  "a=setup:actpass\r\n"
  "a=mid:0\r\n"
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=recvonly\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtcp-xr:rcvr-rtt=all\r\n"
  "a=rtpmap:111 opus/48000/2\r\n"
  "a=rtcp-fb:111 transport-cc\r\n"
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
  "a=rtpmap:63 red/48000/2\r\n"
  "a=fmtp:63 111/111\r\n"
  "a=rtpmap:9 G722/8000\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:13 CN/8000\r\n"
  "a=rtpmap:110 telephone-event/48000\r\n"
  "a=rtpmap:126 telephone-event/8000\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 116 "
  "117 39 40 41 42 43 44 45 46 47 48 118 119 120 49\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=ice-ufrag:SduH\r\n"
  "a=ice-pwd:MlEGviMEgUOGwacBTxZrxbbc\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 "
  "E8:1D:F7:80:57:1B:DE:EC:AE:4B:13:4D:05:93:93:73:6A:F5:7A:07:CC:83:72:BC:F3:A7:9E:59:8A:3F:3D:"
  "54\r\n"
  "a=setup:actpass\r\n"
  "a=mid:1\r\n"
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
  "a=extmap:13 urn:3gpp:video-orientation\r\n"
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
  "a=recvonly\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtcp-xr:rcvr-rtt=all\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtcp-fb:96 goog-remb\r\n"
  "a=rtcp-fb:96 transport-cc\r\n"
  "a=rtcp-fb:96 ccm fir\r\n"
  "a=rtcp-fb:96 nack\r\n"
  "a=rtcp-fb:96 nack pli\r\n"
  "a=rtpmap:97 rtx/90000\r\n"
  "a=fmtp:97 apt=96\r\n"
  "a=rtpmap:98 VP9/90000\r\n"
  "a=rtcp-fb:98 goog-remb\r\n"
  "a=rtcp-fb:98 transport-cc\r\n"
  "a=rtcp-fb:98 ccm fir\r\n"
  "a=rtcp-fb:98 nack\r\n"
  "a=rtcp-fb:98 nack pli\r\n"
  "a=fmtp:98 profile-id=0\r\n"
  "a=rtpmap:99 rtx/90000\r\n"
  "a=fmtp:99 apt=98\r\n"
  "a=rtpmap:100 VP9/90000\r\n"
  "a=rtcp-fb:100 goog-remb\r\n"
  "a=rtcp-fb:100 transport-cc\r\n"
  "a=rtcp-fb:100 ccm fir\r\n"
  "a=rtcp-fb:100 nack\r\n"
  "a=rtcp-fb:100 nack pli\r\n"
  "a=fmtp:100 profile-id=2\r\n"
  "a=rtpmap:101 rtx/90000\r\n"
  "a=fmtp:101 apt=100\r\n"
  "a=rtpmap:35 VP9/90000\r\n"
  "a=rtcp-fb:35 goog-remb\r\n"
  "a=rtcp-fb:35 transport-cc\r\n"
  "a=rtcp-fb:35 ccm fir\r\n"
  "a=rtcp-fb:35 nack\r\n"
  "a=rtcp-fb:35 nack pli\r\n"
  "a=fmtp:35 profile-id=1\r\n"
  "a=rtpmap:36 rtx/90000\r\n"
  "a=fmtp:36 apt=35\r\n"
  "a=rtpmap:37 VP9/90000\r\n"
  "a=rtcp-fb:37 goog-remb\r\n"
  "a=rtcp-fb:37 transport-cc\r\n"
  "a=rtcp-fb:37 ccm fir\r\n"
  "a=rtcp-fb:37 nack\r\n"
  "a=rtcp-fb:37 nack pli\r\n"
  "a=fmtp:37 profile-id=3\r\n"
  "a=rtpmap:38 rtx/90000\r\n"
  "a=fmtp:38 apt=37\r\n"
  "a=rtpmap:102 H264/90000\r\n"
  "a=rtcp-fb:102 goog-remb\r\n"
  "a=rtcp-fb:102 transport-cc\r\n"
  "a=rtcp-fb:102 ccm fir\r\n"
  "a=rtcp-fb:102 nack\r\n"
  "a=rtcp-fb:102 nack pli\r\n"
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
  "a=rtpmap:103 rtx/90000\r\n"
  "a=fmtp:103 apt=102\r\n"
  "a=rtpmap:104 H264/90000\r\n"
  "a=rtcp-fb:104 goog-remb\r\n"
  "a=rtcp-fb:104 transport-cc\r\n"
  "a=rtcp-fb:104 ccm fir\r\n"
  "a=rtcp-fb:104 nack\r\n"
  "a=rtcp-fb:104 nack pli\r\n"
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
  "a=rtpmap:107 rtx/90000\r\n"
  "a=fmtp:107 apt=104\r\n"
  "a=rtpmap:108 H264/90000\r\n"
  "a=rtcp-fb:108 goog-remb\r\n"
  "a=rtcp-fb:108 transport-cc\r\n"
  "a=rtcp-fb:108 ccm fir\r\n"
  "a=rtcp-fb:108 nack\r\n"
  "a=rtcp-fb:108 nack pli\r\n"
  "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
  "a=rtpmap:109 rtx/90000\r\n"
  "a=fmtp:109 apt=108\r\n"
  "a=rtpmap:114 H264/90000\r\n"
  "a=rtcp-fb:114 goog-remb\r\n"
  "a=rtcp-fb:114 transport-cc\r\n"
  "a=rtcp-fb:114 ccm fir\r\n"
  "a=rtcp-fb:114 nack\r\n"
  "a=rtcp-fb:114 nack pli\r\n"
  "a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
  "a=rtpmap:115 rtx/90000\r\n"
  "a=fmtp:115 apt=114\r\n"
  "a=rtpmap:116 H264/90000\r\n"
  "a=rtcp-fb:116 goog-remb\r\n"
  "a=rtcp-fb:116 transport-cc\r\n"
  "a=rtcp-fb:116 ccm fir\r\n"
  "a=rtcp-fb:116 nack\r\n"
  "a=rtcp-fb:116 nack pli\r\n"
  "a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
  "a=rtpmap:117 rtx/90000\r\n"
  "a=fmtp:117 apt=116\r\n"
  "a=rtpmap:39 H264/90000\r\n"
  "a=rtcp-fb:39 goog-remb\r\n"
  "a=rtcp-fb:39 transport-cc\r\n"
  "a=rtcp-fb:39 ccm fir\r\n"
  "a=rtcp-fb:39 nack\r\n"
  "a=rtcp-fb:39 nack pli\r\n"
  "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
  "a=rtpmap:40 rtx/90000\r\n"
  "a=fmtp:40 apt=39\r\n"
  "a=rtpmap:41 H264/90000\r\n"
  "a=rtcp-fb:41 goog-remb\r\n"
  "a=rtcp-fb:41 transport-cc\r\n"
  "a=rtcp-fb:41 ccm fir\r\n"
  "a=rtcp-fb:41 nack\r\n"
  "a=rtcp-fb:41 nack pli\r\n"
  "a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f\r\n"
  "a=rtpmap:42 rtx/90000\r\n"
  "a=fmtp:42 apt=41\r\n"
  "a=rtpmap:43 H264/90000\r\n"
  "a=rtcp-fb:43 goog-remb\r\n"
  "a=rtcp-fb:43 transport-cc\r\n"
  "a=rtcp-fb:43 ccm fir\r\n"
  "a=rtcp-fb:43 nack\r\n"
  "a=rtcp-fb:43 nack pli\r\n"
  "a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f\r\n"
  "a=rtpmap:44 rtx/90000\r\n"
  "a=fmtp:44 apt=43\r\n"
  "a=rtpmap:45 AV1/90000\r\n"
  "a=rtcp-fb:45 goog-remb\r\n"
  "a=rtcp-fb:45 transport-cc\r\n"
  "a=rtcp-fb:45 ccm fir\r\n"
  "a=rtcp-fb:45 nack\r\n"
  "a=rtcp-fb:45 nack pli\r\n"
  "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
  "a=rtpmap:46 rtx/90000\r\n"
  "a=fmtp:46 apt=45\r\n"
  "a=rtpmap:47 AV1/90000\r\n"
  "a=rtcp-fb:47 goog-remb\r\n"
  "a=rtcp-fb:47 transport-cc\r\n"
  "a=rtcp-fb:47 ccm fir\r\n"
  "a=rtcp-fb:47 nack\r\n"
  "a=rtcp-fb:47 nack pli\r\n"
  "a=fmtp:47 level-idx=5;profile=1;tier=0\r\n"
  "a=rtpmap:48 rtx/90000\r\n"
  "a=fmtp:48 apt=47\r\n"
  "a=rtpmap:118 red/90000\r\n"
  "a=rtpmap:119 rtx/90000\r\n"
  "a=fmtp:119 apt=118\r\n"
  "a=rtpmap:120 ulpfec/90000\r\n"
  "a=rtpmap:49 flexfec-03/90000\r\n"
  "a=rtcp-fb:49 goog-remb\r\n"
  "a=rtcp-fb:49 transport-cc\r\n"
  "a=fmtp:49 repair-window=10000000\r\n";

/* Firefox 115 style: attributes sorted, fingerprint at session level */
static const char firefox_sendrecv[] =
  "v=0\r\n"
  "o=mozilla...THIS_IS_SDPARTA-115.0 7421734153525236541 0 IN IP4 0.0.0.0\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=fingerprint:sha-256 "
  "3F:0C:9B:A1:52:7E:48:D6:11:C4:0A:E9:6B:27:F3:85:D0:4A:9E:12:B7:63:28:CF:5D:91:E0:3A:74:BB:06:"
  "C8\r\n"
  "a=group:BUNDLE 0 1\r\n"
  "a=ice-options:trickle\r\n"
  "a=msid-semantic:WMS *\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=sendrecv\r\n"
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
  "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
  "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
  "a=fmtp:101 0-15\r\n"
  "a=ice-pwd:b7e2c41a09d35f6e8a1c27d4f903be65\r\n"
  "a=ice-ufrag:9c4e1f2a\r\n"
  "a=mid:0\r\n"
  "a=msid:{7d2a5c1e-3b84-4f09-a6d2-e19b0c7f4a35} {c0e81f4b-92d7-4a6c-b35e-0f7a2d18c964}\r\n"
  "a=rtcp-mux\r\n"
  "a=rtpmap:109 opus/48000/2\r\n"
  "a=rtpmap:9 G722/8000/1\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:101 telephone-event/8000/1\r\n"
  "a=setup:actpass\r\n"
  "a=ssrc:2655508255 cname:{5e1f0b7a-c4d2-4a93-8e61-27b3f9d05c18}\r\n"
  "a=candidate:0 1 UDP 2122252543 127.0.0.1 52413 typ host\r\n"
  "a=candidate:1 1 TCP 2105524479 127.0.0.1 9 typ host tcptype active\r\n"
  "a=end-of-candidates\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 123 122 119\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=sendrecv\r\n"
  "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
  "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
  "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
  "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
  "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
  "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n"
  "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n"
  "a=fmtp:120 max-fs=12288;max-fr=60\r\n"
  "a=fmtp:124 apt=120\r\n"
  "a=fmtp:121 max-fs=12288;max-fr=60\r\n"
  "a=fmtp:125 apt=121\r\n"
  "a=fmtp:127 apt=126\r\n"
  "a=fmtp:98 apt=97\r\n"
  "a=fmtp:119 apt=122\r\n"
  "a=ice-pwd:b7e2c41a09d35f6e8a1c27d4f903be65\r\n"
  "a=ice-ufrag:9c4e1f2a\r\n"
  "a=mid:1\r\n"
  "a=msid:{7d2a5c1e-3b84-4f09-a6d2-e19b0c7f4a35} {8b3f60d2-1ea7-4c95-bd04-5a9e27c13f86}\r\n"
  "a=rtcp-fb:120 nack\r\n"
  "a=rtcp-fb:120 nack pli\r\n"
  "a=rtcp-fb:120 ccm fir\r\n"
  "a=rtcp-fb:120 goog-remb\r\n"
  "a=rtcp-fb:120 transport-cc\r\n"
  "a=rtcp-fb:121 nack\r\n"
  "a=rtcp-fb:121 nack pli\r\n"
  "a=rtcp-fb:121 ccm fir\r\n"
  "a=rtcp-fb:121 goog-remb\r\n"
  "a=rtcp-fb:121 transport-cc\r\n"
  "a=rtcp-fb:126 nack\r\n"
  "a=rtcp-fb:126 nack pli\r\n"
  "a=rtcp-fb:126 ccm fir\r\n"
  "a=rtcp-fb:126 goog-remb\r\n"
  "a=rtcp-fb:126 transport-cc\r\n"
  "a=rtcp-fb:97 nack\r\n"
  "a=rtcp-fb:97 nack pli\r\n"
  "a=rtcp-fb:97 ccm fir\r\n"
  "a=rtcp-fb:97 goog-remb\r\n"
  "a=rtcp-fb:97 transport-cc\r\n"
  "a=rtcp-fb:123 nack\r\n"
  "a=rtcp-fb:123 nack pli\r\n"
  "a=rtcp-fb:123 ccm fir\r\n"
  "a=rtcp-fb:123 goog-remb\r\n"
  "a=rtcp-fb:123 transport-cc\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtpmap:120 VP8/90000\r\n"
  "a=rtpmap:124 rtx/90000\r\n"
  "a=rtpmap:121 VP9/90000\r\n"
  "a=rtpmap:125 rtx/90000\r\n"
  "a=rtpmap:126 H264/90000\r\n"
  "a=rtpmap:127 rtx/90000\r\n"
  "a=rtpmap:97 H264/90000\r\n"
  "a=rtpmap:98 rtx/90000\r\n"
  "a=rtpmap:123 ulpfec/90000\r\n"
  "a=rtpmap:122 red/90000\r\n"
  "a=rtpmap:119 rtx/90000\r\n"
  "a=setup:actpass\r\n"
  "a=ssrc:1184164406 cname:{5e1f0b7a-c4d2-4a93-8e61-27b3f9d05c18}\r\n"
  "a=ssrc:3409290325 cname:{5e1f0b7a-c4d2-4a93-8e61-27b3f9d05c18}\r\n"
  "a=ssrc-group:FID 1184164406 3409290325\r\n";

/* GStreamer webrtcbin 1.22, bundle-policy=max-bundle, sendonly Opus + VP8 */
static const char webrtcbin_sendonly[] =
  "v=0\r\n"
  "o=- 4086838090526357376 0 IN IP4 0.0.0.0\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=ice-options:trickle\r\n"
  "a=group:BUNDLE audio0 video1\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:mCGMdiUXH5tu1Us2I6mzcKPoY9QUr4ro\r\n"
  "a=ice-pwd:UyhSuYdbIFCtIB3Wd/3CflQjLKv0ADID\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:96 OPUS/48000/2\r\n"
  "a=rtcp-fb:96 transport-cc\r\n"
  "a=fmtp:96 sprop-stereo=0;sprop-maxcapturerate=48000\r\n"
  "a=ssrc:64986036 msid:user1438301500@host-ed947ce6 webrtctransceiver0\r\n"
  "a=ssrc:64986036 cname:user1438301500@host-ed947ce6\r\n"
  "a=mid:audio0\r\n"
  "a=fingerprint:sha-256 "
  "0F:60:AA:4B:52:45:B4:B0:52:97:5B:6D:69:1E:5D:2F:77:E7:36:FD:AB:6C:A9:A4:0E:D9:BE:7F:FA:EF:69:"
  "01\r\n"
  "a=rtcp-mux-only\r\n"
  "m=video 0 UDP/TLS/RTP/SAVPF 97\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:mCGMdiUXH5tu1Us2I6mzcKPoY9QUr4ro\r\n"
  "a=ice-pwd:UyhSuYdbIFCtIB3Wd/3CflQjLKv0ADID\r\n"
  "a=bundle-only\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:97 VP8/90000\r\n"
  "a=rtcp-fb:97 nack pli\r\n"
  "a=rtcp-fb:97 ccm fir\r\n"
  "a=rtcp-fb:97 transport-cc\r\n"
  "a=framerate:30\r\n"
  "a=ssrc:2981441735 msid:user1438301500@host-ed947ce6 webrtctransceiver1\r\n"
  "a=ssrc:2981441735 cname:user1438301500@host-ed947ce6\r\n"
  "a=mid:video1\r\n"
  "a=fingerprint:sha-256 "
  "0F:60:AA:4B:52:45:B4:B0:52:97:5B:6D:69:1E:5D:2F:77:E7:36:FD:AB:6C:A9:A4:0E:D9:BE:7F:FA:EF:69:"
  "01\r\n"
  "a=rtcp-mux-only\r\n";

/* GStreamer webrtcbin 1.22, bundle-policy=max-bundle, recvonly transceivers */
static const char webrtcbin_recvonly[] = "v=0\r\n"
                                         "o=- 8428149749429130238 0 IN IP4 0.0.0.0\r\n"
                                         "s=-\r\n"
                                         "t=0 0\r\n"
                                         "a=ice-options:trickle\r\n"
                                         "a=group:BUNDLE audio0 video1\r\n"
                                         "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
                                         "c=IN IP4 0.0.0.0\r\n"
                                         "a=setup:actpass\r\n"
                                         "a=ice-ufrag:6Yu+uR4VnADB/pb22aVW/WHOIeaFCMjp\r\n"
                                         "a=ice-pwd:8/8T1AfuQjM8W6EPOXVU/zCyzJ7wudIB\r\n"
                                         "a=rtcp-mux\r\n"
                                         "a=rtcp-rsize\r\n"
                                         "a=recvonly\r\n"
                                         "a=rtpmap:96 OPUS/48000/2\r\n"
                                         "a=rtcp-fb:96 transport-cc\r\n"
                                         "a=mid:audio0\r\n"
                                         "a=fingerprint:sha-256 "
                                         "FA:C9:60:87:70:B9:38:68:58:F8:5F:F1:24:98:44:53:31:3B:C6:"
                                         "CE:8D:15:B6:9A:18:69:C8:C6:3E:86:26:0A\r\n"
                                         "a=rtcp-mux-only\r\n"
                                         "m=video 0 UDP/TLS/RTP/SAVPF 97\r\n"
                                         "c=IN IP4 0.0.0.0\r\n"
                                         "a=setup:actpass\r\n"
                                         "a=ice-ufrag:6Yu+uR4VnADB/pb22aVW/WHOIeaFCMjp\r\n"
                                         "a=ice-pwd:8/8T1AfuQjM8W6EPOXVU/zCyzJ7wudIB\r\n"
                                         "a=bundle-only\r\n"
                                         "a=rtcp-mux\r\n"
                                         "a=rtcp-rsize\r\n"
                                         "a=recvonly\r\n"
                                         "a=rtpmap:97 VP8/90000\r\n"
                                         "a=rtcp-fb:97 nack pli\r\n"
                                         "a=rtcp-fb:97 ccm fir\r\n"
                                         "a=rtcp-fb:97 transport-cc\r\n"
                                         "a=mid:video1\r\n"
                                         "a=fingerprint:sha-256 "
                                         "FA:C9:60:87:70:B9:38:68:58:F8:5F:F1:24:98:44:53:31:3B:C6:"
                                         "CE:8D:15:B6:9A:18:69:C8:C6:3E:86:26:0A\r\n"
                                         "a=rtcp-mux-only\r\n";

/* GStreamer webrtcbin 1.22, bundle-policy=none: no a=group:BUNDLE */
static const char webrtcbin_no_bundle[] =
  "v=0\r\n"
  "o=- 5856932382969322253 0 IN IP4 0.0.0.0\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=ice-options:trickle\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:noOFyhaxSlUmPKP2ynQVT7ETnu9Eea4V\r\n"
  "a=ice-pwd:9ykiloGgweXeRVbAq68+ee3Gcdo6Mk9W\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:96 OPUS/48000/2\r\n"
  "a=rtcp-fb:96 transport-cc\r\n"
  "a=fmtp:96 sprop-stereo=0;sprop-maxcapturerate=48000\r\n"
  "a=ssrc:1788652461 msid:user1164866914@host-c3b471f1 webrtctransceiver0\r\n"
  "a=ssrc:1788652461 cname:user1164866914@host-c3b471f1\r\n"
  "a=mid:audio0\r\n"
  "a=fingerprint:sha-256 "
  "14:B3:8D:37:E4:A2:0D:33:14:AA:C0:AF:33:80:8A:D4:B8:17:EC:9B:BA:3F:C9:A5:B7:7D:96:97:33:C3:B8:"
  "8D\r\n"
  "a=rtcp-mux-only\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 97\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:8G2tvJ/KU2mTV9TSqbxrznMQ8W5udxj4\r\n"
  "a=ice-pwd:WZPCU4KvB/s/jEQ7M1gps+5M92a9bjSA\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:97 VP8/90000\r\n"
  "a=rtcp-fb:97 nack pli\r\n"
  "a=rtcp-fb:97 ccm fir\r\n"
  "a=rtcp-fb:97 transport-cc\r\n"
  "a=framerate:30\r\n"
  "a=ssrc:3322862750 msid:user1164866914@host-c3b471f1 webrtctransceiver1\r\n"
  "a=ssrc:3322862750 cname:user1164866914@host-c3b471f1\r\n"
  "a=mid:video1\r\n"
  "a=fingerprint:sha-256 "
  "14:B3:8D:37:E4:A2:0D:33:14:AA:C0:AF:33:80:8A:D4:B8:17:EC:9B:BA:3F:C9:A5:B7:7D:96:97:33:C3:B8:"
  "8D\r\n"
  "a=rtcp-mux-only\r\n";

/* GStreamer webrtcbin 1.22, max-bundle, transceivers with do-nack (the testimony-client's):
 * rtx with apt= per codec, and a=ssrc-group:FID when sending. */
static const char webrtcbin_recvonly_rtx[] = "v=0\r\n"
                                             "o=- 8861934944176156465 0 IN IP4 0.0.0.0\r\n"
                                             "s=-\r\n"
                                             "t=0 0\r\n"
                                             "a=ice-options:trickle\r\n"
                                             "a=group:BUNDLE audio0 video1\r\n"
                                             "m=audio 9 UDP/TLS/RTP/SAVPF 111 97\r\n"
                                             "c=IN IP4 0.0.0.0\r\n"
                                             "a=setup:actpass\r\n"
                                             "a=ice-ufrag:xsIeRvepQ63WeAx7T+SeJT4OjlyWqqDw\r\n"
                                             "a=ice-pwd:h905JwAOfSS7Ibxskg9QkylHg4UlNEu1\r\n"
                                             "a=rtcp-mux\r\n"
                                             "a=rtcp-rsize\r\n"
                                             "a=recvonly\r\n"
                                             "a=rtpmap:111 OPUS/48000\r\n"
                                             "a=rtcp-fb:111 nack\r\n"
                                             "a=rtcp-fb:111 transport-cc\r\n"
                                             "a=rtpmap:97 rtx/48000\r\n"
                                             "a=fmtp:97 apt=111\r\n"
                                             "a=mid:audio0\r\n"
                                             "a=fingerprint:sha-256 "
                                             "CC:7D:35:D2:A8:5C:0A:22:61:D4:99:B0:54:5A:92:C2:06:"
                                             "25:0C:0D:C0:61:A5:5C:6B:04:3C:8A:30:A1:A6:C0\r\n"
                                             "a=rtcp-mux-only\r\n"
                                             "m=video 0 UDP/TLS/RTP/SAVPF 96 98\r\n"
                                             "c=IN IP4 0.0.0.0\r\n"
                                             "a=setup:actpass\r\n"
                                             "a=ice-ufrag:xsIeRvepQ63WeAx7T+SeJT4OjlyWqqDw\r\n"
                                             "a=ice-pwd:h905JwAOfSS7Ibxskg9QkylHg4UlNEu1\r\n"
                                             "a=bundle-only\r\n"
                                             "a=rtcp-mux\r\n"
                                             "a=rtcp-rsize\r\n"
                                             "a=recvonly\r\n"
                                             "a=rtpmap:96 VP8/90000\r\n"
                                             "a=rtcp-fb:96 nack\r\n"
                                             "a=rtcp-fb:96 nack pli\r\n"
                                             "a=rtcp-fb:96 ccm fir\r\n"
                                             "a=rtcp-fb:96 transport-cc\r\n"
                                             "a=rtpmap:98 rtx/90000\r\n"
                                             "a=fmtp:98 apt=96\r\n"
                                             "a=mid:video1\r\n"
                                             "a=fingerprint:sha-256 "
                                             "CC:7D:35:D2:A8:5C:0A:22:61:D4:99:B0:54:5A:92:C2:06:"
                                             "25:0C:0D:C0:61:A5:5C:6B:04:3C:8A:30:A1:A6:C0\r\n"
                                             "a=rtcp-mux-only\r\n";
static const char webrtcbin_sendonly_rtx[] =
  "v=0\r\n"
  "o=- 3637537947707409089 0 IN IP4 0.0.0.0\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=ice-options:trickle\r\n"
  "a=group:BUNDLE audio0 video1\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:1k1Xnq528HvdBXtXiUgbO96uzDNVjKAt\r\n"
  "a=ice-pwd:E/YvGNiXt4W2DUCfvIEiG+aL99f42oZm\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:111 OPUS/48000/2\r\n"
  "a=rtcp-fb:111 transport-cc\r\n"
  "a=fmtp:111 sprop-stereo=0;sprop-maxcapturerate=48000\r\n"
  "a=ssrc:3022095434 msid:user245964662@host-af617bcc webrtctransceiver0\r\n"
  "a=ssrc:3022095434 cname:user245964662@host-af617bcc\r\n"
  "a=mid:audio0\r\n"
  "a=fingerprint:sha-256 "
  "E3:B9:19:28:98:80:61:28:F9:51:FC:75:65:9E:02:EB:9F:C4:E7:CD:D0:B4:1F:D0:17:27:3F:31:EF:6E:89:"
  "3B\r\n"
  "a=rtcp-mux-only\r\n"
  "m=video 0 UDP/TLS/RTP/SAVPF 96 97\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=setup:actpass\r\n"
  "a=ice-ufrag:1k1Xnq528HvdBXtXiUgbO96uzDNVjKAt\r\n"
  "a=ice-pwd:E/YvGNiXt4W2DUCfvIEiG+aL99f42oZm\r\n"
  "a=bundle-only\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=sendonly\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtcp-fb:96 nack\r\n"
  "a=rtcp-fb:96 nack pli\r\n"
  "a=rtcp-fb:96 ccm fir\r\n"
  "a=rtcp-fb:96 transport-cc\r\n"
  "a=framerate:30\r\n"
  "a=rtpmap:97 rtx/90000\r\n"
  "a=fmtp:97 apt=96\r\n"
  "a=ssrc-group:FID 3374773265 803071402\r\n"
  "a=ssrc:3374773265 msid:user245964662@host-af617bcc webrtctransceiver1\r\n"
  "a=ssrc:3374773265 cname:user245964662@host-af617bcc\r\n"
  "a=ssrc:803071402 msid:user245964662@host-af617bcc webrtctransceiver1\r\n"
  "a=ssrc:803071402 cname:user245964662@host-af617bcc\r\n"
  "a=mid:video1\r\n"
  "a=fingerprint:sha-256 "
  "E3:B9:19:28:98:80:61:28:F9:51:FC:75:65:9E:02:EB:9F:C4:E7:CD:D0:B4:1F:D0:17:27:3F:31:EF:6E:89:"
  "3B\r\n"
  "a=rtcp-mux-only\r\n";

/* ---- helpers ---- */

/* A small valid publish offer; tests derive variants from it with with_text(). */
static const char minimal_offer[] =
  "v=0\r\n"
  "o=- 1 2 IN IP4 127.0.0.1\r\n"
  "s=-\r\n"
  "t=0 0\r\n"
  "a=group:BUNDLE 0 1\r\n"
  "a=ice-ufrag:abcd\r\n"
  "a=ice-pwd:0123456789abcdef012345\r\n"
  "a=fingerprint:sha-256 84:F8:67:50:BC:DF:17:D2:79:42:9E:B3:A7:7F:32:49:70:E7:BB:80:88:B7:7F:"
  "76:22:8C:45:7D:4E:9A:2C:6C\r\n"
  "a=setup:actpass\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=mid:0\r\n"
  "a=sendonly\r\n"
  "a=rtcp-mux\r\n"
  "a=rtpmap:111 opus/48000/2\r\n"
  "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
  "c=IN IP4 0.0.0.0\r\n"
  "a=mid:1\r\n"
  "a=sendonly\r\n"
  "a=rtcp-mux\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtpmap:97 rtx/90000\r\n"
  "a=fmtp:97 apt=96\r\n"
  "a=rtcp-fb:* nack\r\n"
  "a=rtcp-fb:96 nack pli\r\n"
  "a=ssrc:1 cname:c\r\n";

static const uint8_t relay_fingerprint[32] = {
  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
  0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xff,
};
static const char *const relay_candidates[] = {
  "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
  "candidate:2 1 tcp 1518280447 127.0.0.1 443 typ host tcptype passive",
};

static TmSdpAnswerParams
relay_params(TmDirection direction)
{
  TmSdpAnswerParams p = {
    .ice_ufrag = "relayufrag",
    .ice_pwd = "relaypasswordrelaypassword",
    .fingerprint_alg = "sha-256",
    .fingerprint = relay_fingerprint,
    .fingerprint_len = sizeof relay_fingerprint,
    .setup = TM_SETUP_PASSIVE,
    .direction = direction,
    .session_id = 4242,
    .candidates = relay_candidates,
    .n_candidates = G_N_ELEMENTS(relay_candidates),
    .audio_ssrc = 1111,
    .video_ssrc = 2222,
    .cname = "relay",
    .stream_id = "feed-p1",
    .transport_cc = direction == TM_DIR_RECVONLY, /* as the relay answers */
  };
  return p;
}

/* TEXT with the first FROM replaced by TO (FROM must occur). */
static gchar *
with_text(const char *text, const char *from, const char *to)
{
  const char *at = strstr(text, from);
  g_assert_nonnull(at);
  return g_strdup_printf("%.*s%s%s", (int) (at - text), text, to, at + strlen(from));
}

static TmSdpError
parse_str(const char *text, TmSdp *out)
{
  return tm_sdp_parse(text, strlen(text), out);
}

/* Error of the minimal offer with FROM replaced by TO. */
static TmSdpError
parse_variant(const char *from, const char *to)
{
  g_autofree gchar *text = with_text(minimal_offer, from, to);
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  return parse_str(text, sdp);
}

static gchar *
repeat(char c, gsize n)
{
  gchar *s = g_malloc(n + 1);
  memset(s, c, n);
  s[n] = '\0';
  return s;
}

/* parse → serialize → parse gives the same bytes. */
static void
assert_round_trip(const TmSdp *sdp)
{
  g_autofree gchar *text = tm_sdp_serialize(sdp);
  g_autofree TmSdp *again = g_new0(TmSdp, 1);
  g_assert_cmpint(parse_str(text, again), ==, TM_SDP_OK);
  g_assert_true(memcmp(sdp, again, sizeof *sdp) == 0);
}

static void
parse_ok(const char *text, TmSdp *out)
{
  TmSdpError err = parse_str(text, out);
  if (err != TM_SDP_OK)
    g_error("parse failed: %s", tm_sdp_strerror(err));
}

/* ---- parsing real offers ---- */

static void
test_parse_chromium_publish(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(chromium_publish, sdp);
  g_assert_cmpuint(sdp->session_id, ==, G_GUINT64_CONSTANT(3740058966112158156));
  g_assert_cmpuint(sdp->session_version, ==, 2);
  g_assert_cmpuint(sdp->n_bundle, ==, 3);
  g_assert_cmpstr(sdp->bundle[2], ==, "2");
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS");
  g_assert_cmpstr(sdp->ice_ufrag, ==, "W6jb");
  g_assert_cmpstr(sdp->ice_pwd, ==, "8GwR0q7Dnk0WYxJYKjnSndgn");
  g_assert_false(sdp->ice_lite);
  g_assert_cmpstr(sdp->fingerprint_alg, ==, "sha-256");
  g_assert_cmpuint(sdp->fingerprint_len, ==, 32);
  g_assert_cmphex(sdp->fingerprint[0], ==, 0xF7);
  g_assert_cmphex(sdp->fingerprint[31], ==, 0x0A);
  g_assert_cmpint(sdp->setup, ==, TM_SETUP_ACTPASS);
  g_assert_cmpuint(sdp->n_media, ==, 3);

  const TmSdpMedia *a = &sdp->media[0];
  g_assert_cmpint(a->kind, ==, TM_MEDIA_AUDIO);
  g_assert_cmpstr(a->kind_name, ==, "audio");
  g_assert_cmpuint(a->port, ==, 59239);
  g_assert_cmpstr(a->proto, ==, "UDP/TLS/RTP/SAVPF");
  g_assert_cmpstr(a->mid, ==, "0");
  g_assert_cmpint(a->direction, ==, TM_DIR_SENDONLY);
  g_assert_true(a->rtcp_mux && a->rtcp_rsize);
  g_assert_cmpuint(a->n_codecs, ==, 8);
  g_assert_cmpuint(a->codecs[0].pt, ==, 111);
  g_assert_cmpstr(a->codecs[0].name, ==, "opus");
  g_assert_cmpuint(a->codecs[0].clock_rate, ==, 48000);
  g_assert_cmpuint(a->codecs[0].channels, ==, 2);
  g_assert_cmpstr(a->codecs[0].fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_true(a->codecs[0].fb_transport_cc);
  g_assert_false(a->codecs[0].fb_nack);
  g_assert_cmpstr(a->codecs[1].name, ==, "red");
  g_assert_cmpstr(a->codecs[1].fmtp, ==, "111/111");
  g_assert_cmpuint(a->codecs[3].pt, ==, 0);
  g_assert_cmpstr(a->codecs[3].name, ==, "PCMU");
  g_assert_cmpuint(a->codecs[3].channels, ==, 0);
  g_assert_cmpuint(a->n_ssrcs, ==, 1);
  g_assert_cmpuint(a->ssrcs[0], ==, 1112915398);
  g_assert_cmpstr(a->cname, ==, "bVDBbj9ZS6js9WGi");
  g_assert_cmpstr(a->msid_stream, ==, "c3cd9d61-78bd-4b00-86ad-0a6e1cf92a87");
  g_assert_cmpstr(a->msid_track, ==, "15b1737a-d280-4c25-9fe6-5685feb7c10f");

  const TmSdpMedia *v = &sdp->media[1];
  g_assert_cmpint(v->kind, ==, TM_MEDIA_VIDEO);
  g_assert_cmpuint(v->port, ==, 9);
  g_assert_cmpuint(v->n_codecs, ==, 23);
  const TmSdpCodec *vp8 = tm_sdp_media_find_codec(v, "vp8");
  g_assert_nonnull(vp8);
  g_assert_cmpuint(vp8->pt, ==, 96);
  g_assert_true(vp8->fb_nack && vp8->fb_nack_pli && vp8->fb_ccm_fir && vp8->fb_goog_remb &&
                vp8->fb_transport_cc);
  const TmSdpCodec *h264 = tm_sdp_media_find_codec(v, "H264");
  g_assert_cmpuint(h264->pt, ==, 102);
  g_assert_cmpstr(h264->fmtp, ==,
                  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
  g_assert_cmpstr(v->codecs[1].name, ==, "rtx");
  g_assert_cmpstr(v->codecs[1].fmtp, ==, "apt=96");
  g_assert_false(v->codecs[1].fb_nack);
  g_assert_nonnull(tm_sdp_media_find_codec(v, "ulpfec"));
  g_assert_cmpuint(v->n_ssrcs, ==, 2); /* ssrc-group FID: media + rtx */
  g_assert_cmpuint(v->ssrcs[0], ==, 2955060285u);
  g_assert_cmpuint(v->ssrcs[1], ==, 2655446920u);
  g_assert_cmpstr(v->msid_track, ==, "21d7d80b-136e-4683-857c-54dd59630859");

  const TmSdpMedia *d = &sdp->media[2];
  g_assert_cmpint(d->kind, ==, TM_MEDIA_APPLICATION);
  g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
  g_assert_cmpuint(d->n_codecs, ==, 0);
  g_assert_cmpstr(d->mid, ==, "2");

  g_assert_cmpuint(sdp->n_candidates, ==, 2);
  g_assert_cmpuint(sdp->candidates[0].mline, ==, 0);
  g_assert_true(g_str_has_prefix(sdp->candidates[0].value, "candidate:241229147 1 udp "));
  g_assert_true(g_str_has_suffix(sdp->candidates[1].value, "network-cost 50"));
  g_assert_false(sdp->end_of_candidates);
}

static void
test_parse_chromium_subscribe(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(chromium_subscribe, sdp);
  g_assert_cmpuint(sdp->n_media, ==, 2);
  g_assert_cmpint(sdp->media[0].direction, ==, TM_DIR_RECVONLY);
  g_assert_cmpuint(sdp->media[1].n_codecs, ==, 34); /* why TM_SDP_MAX_CODECS is 64 */
  g_assert_cmpuint(sdp->media[1].codecs[6].pt, ==, 35);
  g_assert_cmpuint(sdp->media[1].n_ssrcs, ==, 0);
  g_assert_cmpstr(sdp->media[1].msid_stream, ==, "");
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS");
}

static void
test_parse_firefox(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(firefox_sendrecv, sdp);
  g_assert_cmpuint(sdp->session_id, ==, G_GUINT64_CONSTANT(7421734153525236541));
  g_assert_cmpstr(sdp->msid_semantic, ==, "WMS");
  /* fingerprint at session level, ICE credentials in the first section */
  g_assert_cmpuint(sdp->fingerprint_len, ==, 32);
  g_assert_cmphex(sdp->fingerprint[0], ==, 0x3F);
  g_assert_cmpstr(sdp->ice_ufrag, ==, "9c4e1f2a");
  g_assert_cmpstr(sdp->ice_pwd, ==, "b7e2c41a09d35f6e8a1c27d4f903be65");
  const TmSdpMedia *a = &sdp->media[0];
  g_assert_cmpint(a->direction, ==, TM_DIR_SENDRECV);
  g_assert_false(a->rtcp_rsize);
  g_assert_cmpstr(a->codecs[0].fmtp, ==, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  g_assert_cmpuint(a->codecs[1].channels, ==, 1); /* G722/8000/1 */
  g_assert_cmpstr(a->msid_stream, ==, "{7d2a5c1e-3b84-4f09-a6d2-e19b0c7f4a35}");
  g_assert_cmpstr(a->cname, ==, "{5e1f0b7a-c4d2-4a93-8e61-27b3f9d05c18}");
  const TmSdpMedia *v = &sdp->media[1];
  g_assert_cmpuint(v->n_codecs, ==, 11);
  const TmSdpCodec *vp8 = tm_sdp_media_find_codec(v, "VP8");
  g_assert_cmpuint(vp8->pt, ==, 120);
  g_assert_cmpstr(vp8->fmtp, ==, "max-fs=12288;max-fr=60");
  g_assert_true(vp8->fb_goog_remb && vp8->fb_transport_cc);
  g_assert_cmpuint(v->n_ssrcs, ==, 2);
  g_assert_cmpuint(sdp->n_candidates, ==, 2);
  g_assert_cmpuint(sdp->candidates[1].mline, ==, 0);
  g_assert_true(sdp->end_of_candidates);
}

static void
test_parse_webrtcbin(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(webrtcbin_sendonly, sdp);
  g_assert_cmpuint(sdp->session_version, ==, 0);
  g_assert_cmpstr(sdp->ice_ufrag, ==, "mCGMdiUXH5tu1Us2I6mzcKPoY9QUr4ro");
  const TmSdpMedia *a = &sdp->media[0];
  g_assert_cmpstr(a->codecs[0].name, ==, "OPUS");
  g_assert_true(tm_sdp_media_find_codec(a, "opus") == &a->codecs[0]);
  g_assert_cmpstr(a->mid, ==, "audio0");
  g_assert_cmpstr(a->cname, ==, "user1438301500@host-ed947ce6");
  /* msid only given by a=ssrc:N msid: */
  g_assert_cmpstr(a->msid_stream, ==, "user1438301500@host-ed947ce6");
  g_assert_cmpstr(a->msid_track, ==, "webrtctransceiver0");
  const TmSdpMedia *v = &sdp->media[1];
  g_assert_cmpuint(v->port, ==, 0); /* bundle-only */
  g_assert_true(v->codecs[0].fb_nack_pli && v->codecs[0].fb_ccm_fir);
  g_assert_false(v->codecs[0].fb_nack);

  parse_ok(webrtcbin_recvonly, sdp);
  g_assert_cmpint(sdp->media[0].direction, ==, TM_DIR_RECVONLY);
  g_assert_cmpint(sdp->media[1].direction, ==, TM_DIR_RECVONLY);
  g_assert_cmpuint(sdp->media[1].n_ssrcs, ==, 0);
}

static void
test_parse_line_endings(void)
{
  g_autofree TmSdp *crlf = g_new0(TmSdp, 1);
  g_autofree TmSdp *other = g_new0(TmSdp, 1);
  parse_ok(minimal_offer, crlf);
  g_auto(GStrv) lines = g_strsplit(minimal_offer, "\r\n", -1);
  g_autofree gchar *lf = g_strjoinv("\n", lines);
  parse_ok(lf, other);
  g_assert_true(memcmp(crlf, other, sizeof *crlf) == 0);
  g_autofree gchar *blanks = g_strjoinv("  \t\r\n\n", lines); /* trailing blanks, empty lines */
  parse_ok(blanks, other);
  g_assert_true(memcmp(crlf, other, sizeof *crlf) == 0);
  /* no end on the last line */
  g_assert_cmpint(tm_sdp_parse(minimal_offer, strlen(minimal_offer) - 2, other), ==, TM_SDP_OK);
  g_assert_true(memcmp(crlf, other, sizeof *crlf) == 0);
}

static void
test_parse_session_defaults(void)
{
  static const char text[] =
    "v=0\r\n"
    "o=- 7 8 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "a=ice-lite\r\n"
    "a=sendonly\r\n"
    "a=ice-ufrag:sess\r\n"
    "a=ice-pwd:sessionpasswordsession\r\n"
    "a=fingerprint:SHA-512 00:01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:"
    "17:18:19:1a:1b:1c:1d:1e:1f:20:21:22:23:24:25:26:27:28:29:2a:2b:2c:2d:2e:2f:30:31:32:33:34:"
    "35:36:37:38:39:3a:3b:3c:3d:3e:3f\r\n"
    "a=setup:active\r\n"
    "a=rtpmap:111 ignored/1\r\n" /* media attributes at session level are ignored */
    "a=candidate:0 1 udp 1 127.0.0.1 1 typ host\r\n"
    "b=AS:3000\r\n"
    "a=x-unknown:whatever\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 0 8 111\r\n"
    "a=ice-ufrag:later\r\n" /* first seen wins */
    "a=rtcp-fb:* transport-cc\r\n"
    "a=rtcp-fb:8 nack\r\n"
    "a=rtcp-fb:111 trr-int 100\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 100\r\n"
    "a=inactive\r\n";
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(text, sdp);
  g_assert_true(sdp->ice_lite);
  g_assert_cmpstr(sdp->ice_ufrag, ==, "sess");
  g_assert_cmpstr(sdp->fingerprint_alg, ==, "sha-512");
  g_assert_cmpuint(sdp->fingerprint_len, ==, 64);
  g_assert_cmphex(sdp->fingerprint[63], ==, 0x3f);
  g_assert_cmpint(sdp->setup, ==, TM_SETUP_ACTIVE);
  g_assert_cmpuint(sdp->n_candidates, ==, 0);
  g_assert_cmpint(sdp->media[0].direction, ==, TM_DIR_SENDONLY);
  g_assert_cmpint(sdp->media[1].direction, ==, TM_DIR_INACTIVE);
  for (guint i = 0; i < 3; i++)
    g_assert_true(sdp->media[0].codecs[i].fb_transport_cc);
  g_assert_true(sdp->media[0].codecs[1].fb_nack);
  g_assert_false(sdp->media[0].codecs[0].fb_nack);
  g_assert_cmpstr(sdp->media[0].codecs[2].name, ==, "");
  g_assert_cmpstr(sdp->media[0].mid, ==, "");
  assert_round_trip(sdp);
}

static void
test_parse_first_wins(void)
{
  g_autofree gchar *text = g_strconcat(minimal_offer,
                                       "a=rtpmap:96 H264/90000\r\n"
                                       "a=fmtp:96 other\r\n"
                                       "a=msid:s2 t2\r\n"
                                       "a=ssrc:1 cname:second\r\n"
                                       "a=mid:again\r\n"
                                       "a=fingerprint:sha-1 00:00:00:00:00:00:00:00:00:00:00:00:"
                                       "00:00:00:00:00:00:00:00\r\n"
                                       "a=setup:passive\r\n",
                                       NULL);
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(text, sdp);
  const TmSdpMedia *v = &sdp->media[1];
  g_assert_cmpstr(v->codecs[0].name, ==, "VP8");
  g_assert_cmpstr(v->codecs[0].fmtp, ==, "other"); /* the first a=fmtp:96 */
  g_assert_cmpstr(v->msid_stream, ==, "s2");
  g_assert_cmpstr(v->cname, ==, "c");
  g_assert_cmpstr(v->mid, ==, "1");
  g_assert_cmpstr(sdp->fingerprint_alg, ==, "sha-256");
  g_assert_cmpint(sdp->setup, ==, TM_SETUP_ACTPASS);
  g_assert_cmpuint(v->n_ssrcs, ==, 1);
}

/* ---- round trip ---- */

static void
test_round_trip(void)
{
  const char *const offers[] = { chromium_publish,   chromium_subscribe, firefox_sendrecv,
                                 webrtcbin_sendonly, webrtcbin_recvonly, minimal_offer };
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  for (gsize i = 0; i < G_N_ELEMENTS(offers); i++) {
    parse_ok(offers[i], sdp);
    assert_round_trip(sdp);
    TmSdpAnswerParams p =
      relay_params(sdp->media[0].direction == TM_DIR_RECVONLY ? TM_DIR_SENDONLY : TM_DIR_RECVONLY);
    g_assert_cmpint(tm_sdp_answer(sdp, &p, answer), ==, TM_SDP_OK);
    assert_round_trip(answer);
  }
}

static void
test_serialize_canonical(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(minimal_offer, sdp);
  g_autofree gchar *text = tm_sdp_serialize(sdp);
  g_assert_true(g_str_has_prefix(text,
                                 "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                                 "a=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull(strstr(text,
                          "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n"
                          "a=ice-ufrag:abcd\r\n"));
  g_assert_nonnull(strstr(text, "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"));
  g_assert_nonnull(strstr(text, "a=rtcp-fb:97 nack\r\na=fmtp:97 apt=96\r\n"));
  g_assert_nonnull(strstr(text, "a=fingerprint:sha-256 84:F8:67:50:"));
  g_assert_true(g_str_has_suffix(text, "a=ssrc:1 cname:c\r\n"));
  g_assert_null(strstr(text, "\n\n"));
}

static void
test_serialize_edges(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  /* no m= section: transport and end-of-candidates stay at session level */
  static const char bare[] = "v=0\na=ice-ufrag:u1\na=ice-pwd:p1\na=fingerprint:sha-1 "
                             "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13\n"
                             "a=end-of-candidates\n";
  parse_ok(bare, sdp);
  g_assert_cmpuint(sdp->n_media, ==, 0);
  g_assert_true(sdp->end_of_candidates);
  assert_round_trip(sdp);
  g_autofree gchar *text = tm_sdp_serialize(sdp);
  g_assert_true(g_str_has_suffix(text,
                                 "t=0 0\r\na=ice-ufrag:u1\r\na=ice-pwd:p1\r\n"
                                 "a=fingerprint:sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:"
                                 "0C:0D:0E:0F:10:11:12:13\r\na=end-of-candidates\r\n"));
  /* an SSRC known only from another attribute: written bare, read back */
  g_autofree gchar *label = with_text(minimal_offer, "a=ssrc:1 cname:c", "a=ssrc:7 label:x");
  parse_ok(label, sdp);
  g_assert_cmpuint(sdp->media[1].n_ssrcs, ==, 1);
  g_assert_cmpstr(sdp->media[1].cname, ==, "");
  assert_round_trip(sdp);
  g_autofree gchar *label_text = tm_sdp_serialize(sdp);
  g_assert_true(g_str_has_suffix(label_text, "\r\na=ssrc:7\r\n"));
}

/* ---- answers ---- */

static void
test_answer_publish(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  parse_ok(chromium_publish, offer);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->session_id, ==, 4242);
  g_assert_cmpuint(answer->session_version, ==, 2);
  g_assert_cmpstr(answer->ice_ufrag, ==, "relayufrag");
  g_assert_cmpstr(answer->ice_pwd, ==, "relaypasswordrelaypassword");
  g_assert_cmpstr(answer->fingerprint_alg, ==, "sha-256");
  g_assert_true(memcmp(answer->fingerprint, relay_fingerprint, 32) == 0);
  g_assert_cmpint(answer->setup, ==, TM_SETUP_PASSIVE);
  g_assert_cmpuint(answer->n_bundle, ==, 2);
  g_assert_cmpstr(answer->bundle[0], ==, "0");
  g_assert_cmpstr(answer->bundle[1], ==, "1");
  g_assert_cmpuint(answer->n_media, ==, 3);

  const TmSdpMedia *a = &answer->media[0];
  g_assert_cmpuint(a->port, ==, 9);
  g_assert_cmpint(a->direction, ==, TM_DIR_RECVONLY);
  g_assert_true(a->rtcp_mux && a->rtcp_rsize);
  /* RED first (the browser then sends its Opus with redundancy), then the Opus it carries */
  g_assert_cmpuint(a->n_codecs, ==, 2);
  g_assert_cmpuint(a->codecs[0].pt, ==, 63);
  g_assert_cmpstr(a->codecs[0].name, ==, "red");
  g_assert_cmpstr(a->codecs[0].fmtp, ==, "111/111");
  g_assert_cmpuint(a->codecs[1].pt, ==, 111);
  g_assert_cmpstr(a->codecs[1].fmtp, ==, "minptime=10;useinbandfec=1");
  /* transport-cc accepted for both sections: one transport-wide numbering over the bundle */
  g_assert_true(a->codecs[1].fb_transport_cc);
  g_assert_cmpuint(a->twcc_id, ==, 3);
  g_assert_cmpuint(a->n_ssrcs, ==, 0);
  g_assert_cmpstr(a->msid_stream, ==, "");

  const TmSdpMedia *v = &answer->media[1];
  g_assert_cmpuint(v->n_codecs, ==, 2); /* VP8 and its rtx only: no H264, red, ulpfec */
  g_assert_cmpuint(v->codecs[0].pt, ==, 96);
  g_assert_cmpstr(v->codecs[0].name, ==, "VP8");
  g_assert_true(v->codecs[0].fb_nack && v->codecs[0].fb_nack_pli && v->codecs[0].fb_ccm_fir &&
                v->codecs[0].fb_goog_remb);
  g_assert_true(v->codecs[0].fb_transport_cc);
  g_assert_cmpuint(v->twcc_id, ==, 3);
  g_assert_cmpuint(v->codecs[1].pt, ==, 97);
  g_assert_cmpstr(v->codecs[1].name, ==, "rtx");
  g_assert_cmpstr(v->codecs[1].fmtp, ==, "apt=96");
  g_assert_false(v->codecs[1].fb_nack || v->codecs[1].fb_goog_remb || v->codecs[1].fb_transport_cc);
  g_assert_false(v->has_fid); /* the relay receives: the publisher's SSRCs are its own */

  const TmSdpMedia *d = &answer->media[2]; /* data channel rejected, mid kept */
  g_assert_cmpuint(d->port, ==, 0);
  g_assert_cmpstr(d->mid, ==, "2");
  g_assert_cmpint(d->direction, ==, TM_DIR_INACTIVE);

  g_assert_cmpuint(answer->n_candidates, ==, 2);
  g_assert_cmpuint(answer->candidates[1].mline, ==, 0);
  g_assert_true(answer->end_of_candidates);

  g_autofree gchar *text = tm_sdp_serialize(answer);
  g_assert_nonnull(strstr(text, "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\nc=IN IP4 0.0.0.0\r\n"));
  g_assert_nonnull(strstr(text, "\r\na=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull(strstr(text, "\r\na=setup:passive\r\n"));
  g_assert_nonnull(strstr(text, "\r\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
  g_assert_nonnull(strstr(text, "typ host tcptype passive\r\na=end-of-candidates\r\nm=video"));
  g_assert_null(strstr(text, "a=ssrc:"));
  g_assert_nonnull(strstr(text, "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"));
  g_assert_nonnull(strstr(text, "\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"));
  g_assert_nonnull(
    strstr(text,
           "\r\na=extmap:3 "
           "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"));
  g_assert_nonnull(strstr(text, "\r\na=rtcp-fb:96 transport-cc\r\n"));
  g_assert_nonnull(strstr(text, "\r\na=rtcp-fb:111 transport-cc\r\n"));
  assert_round_trip(answer);
  /* Without it in the parameters (or offered without the rtcp-fb), none. */
  p.transport_cc = false;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].twcc_id, ==, 0);
  g_autofree gchar *plain = tm_sdp_serialize(answer);
  g_assert_null(strstr(plain, "transport-cc"));
  g_autofree gchar *no_fb = with_text(chromium_publish, "a=rtcp-fb:96 transport-cc\r\n", "");
  parse_ok(no_fb, offer);
  p.transport_cc = true;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].twcc_id, ==, 0);
  g_assert_cmpuint(answer->media[0].twcc_id, ==, 3);
}

/* abs-send-time: answered where offered when the parameters say so (a publisher's connection),
 * with the offer's ID, in each section; not otherwise. */
static void
test_answer_abs_send_time(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  parse_ok(chromium_publish, offer);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  p.abs_send_time = true;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[0].abs_send_time_id, ==, 2);
  g_assert_cmpuint(answer->media[1].abs_send_time_id, ==, 2);
  g_assert_cmpuint(answer->media[2].abs_send_time_id, ==, 0); /* rejected data channel */
  g_autofree gchar *text = tm_sdp_serialize(answer);
  g_assert_nonnull(
    strstr(text, "\r\na=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"));
  assert_round_trip(answer);
  p.abs_send_time = false;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].abs_send_time_id, ==, 0);
  g_autofree gchar *plain = tm_sdp_serialize(answer);
  g_assert_null(strstr(plain, "abs-send-time"));
  /* not offered (in either section): not answered */
  static const char line[] = "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/"
                             "abs-send-time\r\n";
  g_autofree gchar *audio_only = with_text(chromium_publish, line, "");
  g_autofree gchar *none = with_text(audio_only, line, "");
  parse_ok(none, offer);
  p.abs_send_time = true;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[0].abs_send_time_id, ==, 0);
  g_assert_cmpuint(answer->media[1].abs_send_time_id, ==, 0);
}

/* a=extmap: the transport-wide sequence number's ID is read (the first, 1-14); a malformed ID is
 * an error; other extensions are ignored. */
static void
test_extmap(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(chromium_publish, sdp);
  g_assert_cmpuint(sdp->media[0].twcc_id, ==, 3);
  g_assert_cmpuint(sdp->media[1].twcc_id, ==, 3);
  g_autofree gchar *dir = with_text(chromium_publish, "a=extmap:3 ", "a=extmap:9/sendrecv ");
  parse_ok(dir, sdp);
  g_assert_cmpuint(sdp->media[0].twcc_id, ==, 9);
  g_autofree gchar *wide = with_text(chromium_publish, "a=extmap:3 ", "a=extmap:200 ");
  parse_ok(wide, sdp);
  g_assert_cmpuint(sdp->media[0].twcc_id, ==, 0); /* two-byte range: not used */
  parse_ok(chromium_publish, sdp);
  g_assert_cmpuint(sdp->media[0].abs_send_time_id, ==, 2);
  g_assert_cmpuint(sdp->media[1].abs_send_time_id, ==, 2);
  g_autofree gchar *abs_wide = with_text(chromium_publish, "a=extmap:2 ", "a=extmap:20 ");
  parse_ok(abs_wide, sdp);
  g_assert_cmpuint(sdp->media[0].abs_send_time_id, ==, 0);
  static const char *const bad[] = { "a=extmap:0 ", "a=extmap:x ", "a=extmap:5000 ",
                                     "a=extmap:/sendonly " };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *text = with_text(chromium_publish, "a=extmap:3 ", bad[i]);
    g_assert_cmpint(tm_sdp_parse(text, strlen(text), sdp), ==, TM_SDP_ERR_BAD_VALUE);
  }
}

static void
test_answer_webrtcbin_publish(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  parse_ok(webrtcbin_sendonly, offer);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  /* the bundle-only video section (port 0 inside the BUNDLE group) is accepted */
  g_assert_cmpuint(answer->media[1].port, ==, 9);
  g_assert_cmpint(answer->media[1].direction, ==, TM_DIR_RECVONLY);
  g_assert_cmpstr(answer->media[0].codecs[0].name, ==, "OPUS");
  g_assert_cmpstr(answer->media[0].codecs[0].fmtp, ==, "sprop-stereo=0;sprop-maxcapturerate=48000");
  g_assert_cmpuint(answer->n_bundle, ==, 2);
  g_assert_cmpstr(answer->bundle[0], ==, "audio0");
}

static void
test_answer_subscribe(void)
{
  const char *const offers[] = { chromium_subscribe, webrtcbin_recvonly };
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  for (gsize i = 0; i < G_N_ELEMENTS(offers); i++) {
    parse_ok(offers[i], offer);
    TmSdpAnswerParams p = relay_params(TM_DIR_SENDONLY);
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    for (guint m = 0; m < 2; m++) {
      const TmSdpMedia *am = &answer->media[m];
      g_assert_cmpint(am->direction, ==, TM_DIR_SENDONLY);
      g_assert_cmpuint(am->n_ssrcs, ==, 1);
      g_assert_cmpuint(am->ssrcs[0], ==, m == 0 ? 1111 : 2222);
      g_assert_cmpstr(am->cname, ==, "relay");
      g_assert_cmpstr(am->msid_stream, ==, "feed-p1");
      g_assert_cmpstr(am->msid_track, ==, offer->media[m].mid);
    }
    g_autofree gchar *text = tm_sdp_serialize(answer);
    g_autofree gchar *msid = g_strdup_printf("a=msid:feed-p1 %s\r\na=ssrc:1111 cname:relay\r\n"
                                             "a=ssrc:1111 msid:feed-p1 %s\r\n",
                                             offer->media[0].mid, offer->media[0].mid);
    g_assert_nonnull(strstr(text, msid));
    /* Chromium offers RED: answered after Opus (the relay decides what it sends) */
    const TmSdpMedia *am = &answer->media[0];
    g_assert_cmpuint(am->n_codecs, ==, i == 0 ? 2 : 1);
    g_assert_cmpint(g_ascii_strcasecmp(am->codecs[0].name, "opus"), ==, 0);
    if (i == 0)
      g_assert_cmpstr(am->codecs[1].name, ==, "red");
  }
  /* no ssrc, no stream: no a=ssrc or a=msid; no cname given: a default one */
  TmSdpAnswerParams p = relay_params(TM_DIR_SENDONLY);
  p.video_ssrc = 0;
  p.stream_id = NULL;
  p.cname = NULL;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].n_ssrcs, ==, 0);
  g_assert_cmpuint(answer->media[0].n_ssrcs, ==, 1);
  g_assert_cmpstr(answer->media[0].cname, !=, "");
  g_assert_cmpstr(answer->media[0].msid_stream, ==, "");
  assert_round_trip(answer);
}

/* RED (RFC 2198) for the sound only with an fmtp that names the Opus answered, and the same
 * clock rate and channels. */
static void
test_answer_red(void)
{
  static const struct {
    const char *red;
    bool answered;
  } cases[] = {
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\n", true },
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111/111\r\n", true },
    { "a=rtpmap:63 red/48000/2\r\n", false },                       /* no fmtp: Chromium M95 */
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111\r\n", false },      /* no redundancy */
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/0\r\n", false },    /* another codec */
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 112/112\r\n", false },  /* not the Opus */
    { "a=rtpmap:63 red/8000/1\r\na=fmtp:63 111/111\r\n", false },   /* another clock */
    { "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111//111\r\n", false }, /* malformed */
  };
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_auto(GStrv) head = g_strsplit(chromium_publish, "a=rtpmap:63", 2);
    g_auto(GStrv) tail = g_strsplit(chromium_publish, "a=rtpmap:9 G722", 2);
    g_autofree char *text = g_strconcat(head[0], cases[i].red, "a=rtpmap:9 G722", tail[1], NULL);
    parse_ok(text, offer);
    TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    const TmSdpMedia *a = &answer->media[0];
    g_assert_cmpuint(a->n_codecs, ==, cases[i].answered ? 2 : 1);
    g_assert_cmpstr(a->codecs[a->n_codecs - 1].name, ==, "opus");
    g_assert_true((tm_sdp_media_find_red(a, &a->codecs[a->n_codecs - 1]) != NULL) ==
                  cases[i].answered);
    assert_round_trip(answer);
  }
}

/* RTX (RFC 4588): answered when offered for the VP8 the relay picks, in both directions; when the
 * relay sends, its retransmission SSRC is paired with the video SSRC by a=ssrc-group:FID. */
static void
test_answer_rtx(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  const struct {
    const char *offer;
    uint8_t vp8, rtx;
  } subs[] = { { chromium_subscribe, 96, 97 }, { webrtcbin_recvonly_rtx, 96, 98 } };
  for (gsize i = 0; i < G_N_ELEMENTS(subs); i++) {
    parse_ok(subs[i].offer, offer);
    TmSdpAnswerParams p = relay_params(TM_DIR_SENDONLY);
    p.video_rtx_ssrc = 3333;
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    const TmSdpMedia *v = &answer->media[1];
    g_assert_cmpuint(v->n_codecs, ==, 2);
    g_assert_cmpuint(v->codecs[0].pt, ==, subs[i].vp8);
    g_assert_cmpuint(v->codecs[1].pt, ==, subs[i].rtx);
    g_assert_cmpint(tm_sdp_codec_apt(&v->codecs[1]), ==, subs[i].vp8);
    g_assert_true(tm_sdp_media_find_rtx(v, &v->codecs[0]) == &v->codecs[1]);
    g_assert_cmpuint(v->n_ssrcs, ==, 2);
    g_assert_cmpuint(v->ssrcs[0], ==, 2222);
    g_assert_cmpuint(v->ssrcs[1], ==, 3333);
    g_assert_true(v->has_fid);
    g_assert_cmpuint(v->fid_ssrcs[0], ==, 2222);
    g_assert_cmpuint(v->fid_ssrcs[1], ==, 3333);
    /* no audio rtx (webrtcbin offers one); Opus, and RED where offered (Chromium) */
    g_assert_null(tm_sdp_media_find_codec(&answer->media[0], "rtx"));
    g_assert_false(answer->media[0].has_fid);
    g_autofree gchar *text = tm_sdp_serialize(answer);
    g_autofree gchar *lines = g_strdup_printf(
      "a=rtpmap:%u rtx/90000\r\na=fmtp:%u apt=%u\r\na=msid:feed-p1 %s\r\n"
      "a=ssrc-group:FID 2222 3333\r\na=ssrc:2222 cname:relay\r\n"
      "a=ssrc:2222 msid:feed-p1 %s\r\na=ssrc:3333 cname:relay\r\na=ssrc:3333 msid:feed-p1 %s\r\n",
      subs[i].rtx, subs[i].rtx, subs[i].vp8, offer->media[1].mid, offer->media[1].mid,
      offer->media[1].mid);
    g_assert_nonnull(strstr(text, lines));
    assert_round_trip(answer);
    /* no retransmission SSRC given: rtx still answered (the relay may receive it), no group */
    p.video_rtx_ssrc = 0;
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    g_assert_cmpuint(answer->media[1].n_codecs, ==, 2);
    g_assert_cmpuint(answer->media[1].n_ssrcs, ==, 1);
    g_assert_false(answer->media[1].has_fid);
    p.video_rtx_ssrc = p.video_ssrc;
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_BAD_VALUE);
  }
  /* webrtcbin publishing with do-nack: its rtx answered, audio without */
  parse_ok(webrtcbin_sendonly_rtx, offer);
  g_assert_true(offer->media[1].has_fid);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  p.video_rtx_ssrc = 3333; /* ignored: the relay does not send */
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].n_codecs, ==, 2);
  g_assert_cmpstr(answer->media[1].codecs[1].fmtp, ==, "apt=96");
  g_assert_cmpuint(answer->media[1].n_ssrcs, ==, 0);
  g_assert_false(answer->media[1].has_fid);
  /* no rtx offered, or only for another codec, or with another clock rate: none answered */
  const char *const variants[][2] = {
    { "a=rtpmap:97 rtx/90000\r\n", "a=rtpmap:97 H264/90000\r\n" },
    { "a=fmtp:97 apt=96", "a=fmtp:97 apt=98" },
    { "a=fmtp:97 apt=96", "a=fmtp:97 rtx-time=3000" },
    { "a=rtpmap:97 rtx/90000", "a=rtpmap:97 rtx/48000" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(variants); i++) {
    g_autofree gchar *text = with_text(minimal_offer, variants[i][0], variants[i][1]);
    parse_ok(text, offer);
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    g_assert_cmpuint(answer->media[1].n_codecs, ==, 1);
  }
}

/* a=ssrc-group: FID kept (first one), others checked and ignored; bad ones refuse the offer. */
static void
test_parse_ssrc_group(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(chromium_publish, sdp);
  g_assert_false(sdp->media[0].has_fid);
  g_assert_true(sdp->media[1].has_fid);
  g_assert_cmpuint(sdp->media[1].fid_ssrcs[0], ==, 2955060285u);
  g_assert_cmpuint(sdp->media[1].fid_ssrcs[1], ==, 2655446920u);
  assert_round_trip(sdp);
  g_autofree gchar *two = g_strconcat(minimal_offer, "a=ssrc-group:SIM 5 6 7\r\n",
                                      "a=ssrc-group:FID 1 2\r\na=ssrc-group:FID 3 4\r\n", NULL);
  parse_ok(two, sdp);
  g_assert_true(sdp->media[1].has_fid);
  g_assert_cmpuint(sdp->media[1].fid_ssrcs[0], ==, 1);
  g_assert_cmpuint(sdp->media[1].fid_ssrcs[1], ==, 2);
  assert_round_trip(sdp);
  g_autofree gchar *session =
    with_text(minimal_offer, "a=setup:actpass\r\n", "a=setup:actpass\r\na=ssrc-group:FID 1 2\r\n");
  parse_ok(session, sdp); /* session level: ignored */
  g_assert_false(sdp->media[0].has_fid || sdp->media[1].has_fid);
  const char *const bad[] = {
    "a=ssrc-group:FID 1",
    "a=ssrc-group:FID 1 1",
    "a=ssrc-group:FID 1 2 3",
    "a=ssrc-group:FID 1 x",
    "a=ssrc-group:FID 1 4294967296",
    "a=ssrc-group:FID",
    "a=ssrc-group:",
    "a=ssrc-group:SIM",
    "a=ssrc-group:SIM 1 -2",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *text = g_strconcat(minimal_offer, bad[i], "\r\n", NULL);
    g_assert_cmpint(parse_str(text, sdp), ==, TM_SDP_ERR_BAD_VALUE);
  }
}

static void
test_codec_apt(void)
{
  const struct {
    const char *fmtp;
    int apt;
  } cases[] = {
    { "apt=96", 96 },
    { "apt=96;rtx-time=3000", 96 },
    { "rtx-time=3000; apt=100", 100 },
    { "apt=0", 0 },
    { "apt=127", 127 },
    { "apt=128", -1 },
    { "apt=", -1 },
    { "apt=9a", -1 },
    { "xapt=96", -1 },
    { "", -1 },
    { ";;", -1 },
    { "apt", -1 },
    { "apt=-1", -1 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    TmSdpCodec c = { 0 };
    g_strlcpy(c.fmtp, cases[i].fmtp, sizeof c.fmtp);
    g_assert_cmpint(tm_sdp_codec_apt(&c), ==, cases[i].apt);
  }
}

static void
test_answer_codec_choice(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  /* video offers only H264 and rtx: rejected, its first PT kept; audio still accepted */
  g_autofree gchar *h264 = with_text(minimal_offer, "96 VP8/90000", "96 H264/90000");
  parse_ok(h264, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].port, ==, 0);
  g_assert_cmpint(answer->media[1].direction, ==, TM_DIR_INACTIVE);
  g_assert_cmpuint(answer->media[1].n_codecs, ==, 1);
  g_assert_cmpuint(answer->media[1].codecs[0].pt, ==, 96);
  g_assert_cmpstr(answer->media[1].mid, ==, "1");
  g_assert_cmpuint(answer->n_bundle, ==, 1);
  g_autofree gchar *text = tm_sdp_serialize(answer);
  g_assert_nonnull(strstr(text, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"));
  g_assert_nonnull(strstr(text, "a=mid:1\r\na=inactive\r\n"));
  assert_round_trip(answer);
  /* Opus in mono, or at another rate, is not Opus/48000/2 */
  g_autofree gchar *mono = with_text(minimal_offer, "opus/48000/2", "opus/48000/1");
  parse_ok(mono, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[0].port, ==, 0);
  /* the offerer's preference order decides between two VP8 entries */
  g_autofree gchar *two = with_text(minimal_offer, "97 rtx/90000", "97 vp8/90000");
  g_autofree gchar *two_first = with_text(two, "SAVPF 96 97", "SAVPF 97 96");
  parse_ok(two_first, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].codecs[0].pt, ==, 97);
  /* a plain RTP/AVP section (no DTLS-SRTP) is rejected */
  g_autofree gchar *avp =
    with_text(minimal_offer, "m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 RTP/AVP");
  parse_ok(avp, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[0].port, ==, 0);
}

static void
test_answer_directions(void)
{
  static const struct {
    const char *offered;
    TmDirection wanted, expected;
  } cases[] = {
    { "sendonly", TM_DIR_RECVONLY, TM_DIR_RECVONLY },
    { "recvonly", TM_DIR_SENDONLY, TM_DIR_SENDONLY },
    { "sendrecv", TM_DIR_RECVONLY, TM_DIR_RECVONLY },
    { "sendrecv", TM_DIR_SENDONLY, TM_DIR_SENDONLY },
    { "sendrecv", TM_DIR_SENDRECV, TM_DIR_SENDRECV },
    { "sendonly", TM_DIR_SENDONLY, TM_DIR_INACTIVE },
    { "recvonly", TM_DIR_RECVONLY, TM_DIR_INACTIVE },
    { "inactive", TM_DIR_RECVONLY, TM_DIR_INACTIVE },
    { "sendonly", TM_DIR_INACTIVE, TM_DIR_INACTIVE },
  };
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *dir = g_strdup_printf("a=%s\r\n", cases[i].offered);
    g_autofree gchar *text = with_text(minimal_offer, "a=sendonly\r\n", dir);
    parse_ok(text, offer);
    TmSdpAnswerParams p = relay_params(cases[i].wanted);
    g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
    g_assert_cmpint(answer->media[0].direction, ==, cases[i].expected);
    g_assert_cmpuint(answer->media[0].port, ==, 9);
    g_assert_cmpuint(answer->media[0].n_ssrcs, ==,
                     cases[i].expected == TM_DIR_SENDONLY || cases[i].expected == TM_DIR_SENDRECV);
  }
}

static void
test_answer_bundle(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);
  /* no a=group:BUNDLE at all (webrtcbin with bundle-policy=none) */
  parse_ok(webrtcbin_no_bundle, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_BUNDLE);
  /* a usable section left out of the group */
  g_autofree gchar *partial = with_text(minimal_offer, "BUNDLE 0 1", "BUNDLE 0");
  parse_ok(partial, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_BUNDLE);
  /* ... unless the offerer disabled it (port 0 outside the group): rejected */
  g_autofree gchar *disabled = with_text(partial, "m=video 9", "m=video 0");
  parse_ok(disabled, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->media[1].port, ==, 0);
  g_assert_cmpuint(answer->n_bundle, ==, 1);
  /* candidates go to the first accepted section */
  g_autofree gchar *first_off = with_text(minimal_offer, "opus/48000/2", "PCMU/8000");
  parse_ok(first_off, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpuint(answer->candidates[0].mline, ==, 1);
  g_autofree gchar *text = tm_sdp_serialize(answer);
  g_assert_nonnull(strstr(strstr(text, "m=video"), "a=end-of-candidates"));
  assert_round_trip(answer);
}

static void
test_answer_errors(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  TmSdpAnswerParams p = relay_params(TM_DIR_RECVONLY);

  g_autofree gchar *no_mux = with_text(minimal_offer, "a=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n",
                                       "a=mid:1\r\na=sendonly\r\n");
  parse_ok(no_mux, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_RTCP_MUX);

  g_autofree gchar *no_opus = with_text(minimal_offer, "opus/48000/2", "PCMU/8000");
  g_autofree gchar *no_codec = with_text(no_opus, "96 VP8/90000", "96 H264/90000");
  parse_ok(no_codec, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_CODEC);

  g_assert_cmpint(parse_variant("a=fingerprint:", "a=x-fingerprint:"), ==,
                  TM_SDP_ERR_NO_FINGERPRINT);
  g_assert_cmpint(parse_variant("a=ice-pwd:", "a=x-ice-pwd:"), ==, TM_SDP_ERR_NO_ICE);
  g_assert_cmpint(parse_variant("a=ice-ufrag:", "a=x-ice-ufrag:"), ==, TM_SDP_ERR_NO_ICE);

  /* hand-built offers without transport */
  parse_ok(minimal_offer, offer);
  offer->fingerprint_len = 0;
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_FINGERPRINT);
  offer->ice_pwd[0] = '\0';
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_NO_ICE);

  /* DTLS roles: an offer that insists on passive cannot be answered by a passive relay */
  g_autofree gchar *passive = with_text(minimal_offer, "setup:actpass", "setup:passive");
  parse_ok(passive, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_ERR_BAD_VALUE);
  g_autofree gchar *active = with_text(minimal_offer, "setup:actpass", "setup:active");
  parse_ok(active, offer);
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  p.setup = TM_SETUP_NONE; /* defaults to passive */
  g_assert_cmpint(tm_sdp_answer(offer, &p, answer), ==, TM_SDP_OK);
  g_assert_cmpint(answer->setup, ==, TM_SETUP_PASSIVE);
}

static void
test_answer_params(void)
{
  g_autofree TmSdp *offer = g_new0(TmSdp, 1);
  g_autofree TmSdp *answer = g_new0(TmSdp, 1);
  parse_ok(minimal_offer, offer);
  g_autofree gchar *long_token = repeat('t', TM_SDP_TOKEN_LEN);
  g_autofree gchar *long_ice = repeat('i', TM_SDP_ICE_LEN);
  g_autofree gchar *long_cand =
    g_strconcat("candidate:", long_token, long_token, long_token, long_token, NULL);
  const char *injected[] = { "candidate:1 1 udp 1 127.0.0.1 9 typ host\r\na=ice-lite" };
  const char *no_prefix[] = { "a=candidate:1 1 udp 1 127.0.0.1 9 typ host" };
  const char *trailing[] = { "candidate:1 1 udp 1 127.0.0.1 9 typ host " };
  const char *too_long[] = { long_cand };
  const char *many[TM_SDP_MAX_CANDIDATES + 1];
  for (gsize i = 0; i < G_N_ELEMENTS(many); i++)
    many[i] = relay_candidates[0];
  static const uint8_t big_fp[TM_SDP_FINGERPRINT_MAX + 1];
  struct {
    TmSdpAnswerParams p;
    TmSdpError expected;
  } cases[] = {
    { relay_params(TM_DIR_RECVONLY), TM_SDP_OK },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_NO_ICE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_TOO_LONG },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_NO_FINGERPRINT },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_TOO_LONG },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_TOO_LONG },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_TOO_MANY },
    { relay_params(TM_DIR_SENDONLY), TM_SDP_ERR_TOO_LONG },
    { relay_params(TM_DIR_SENDONLY), TM_SDP_ERR_BAD_VALUE },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_TOO_LONG },
    { relay_params(TM_DIR_RECVONLY), TM_SDP_ERR_BAD_VALUE },
  };
  cases[1].p.ice_ufrag = NULL;
  cases[2].p.ice_pwd = long_ice;
  cases[3].p.ice_ufrag = "with space";
  cases[4].p.fingerprint = NULL;
  cases[5].p.fingerprint = big_fp;
  cases[5].p.fingerprint_len = sizeof big_fp;
  cases[6].p.setup = TM_SETUP_ACTPASS;
  cases[7].p.candidates = injected;
  cases[7].p.n_candidates = 1;
  cases[8].p.candidates = no_prefix;
  cases[8].p.n_candidates = 1;
  cases[9].p.candidates = trailing;
  cases[9].p.n_candidates = 1;
  cases[10].p.candidates = too_long;
  cases[10].p.n_candidates = 1;
  cases[11].p.candidates = many;
  cases[11].p.n_candidates = G_N_ELEMENTS(many);
  cases[12].p.stream_id = long_token;
  cases[13].p.cname = "two words";
  cases[14].p.fingerprint_alg = "sha-256-and-more";
  cases[15].p.direction = (TmDirection) 7;
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("params case %" G_GSIZE_FORMAT, i);
    g_assert_cmpint(tm_sdp_answer(offer, &cases[i].p, answer), ==, cases[i].expected);
  }
}

/* ---- caps: the largest value fits, one more is refused ---- */

static TmSdpError
parse_with_lines(const char *session_lines, const char *media_lines)
{
  g_autofree gchar *a = with_text(minimal_offer, "a=setup:actpass\r\n", session_lines);
  g_autofree gchar *b = with_text(a, "a=ssrc:1 cname:c\r\n", media_lines);
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  TmSdpError err = parse_str(b, sdp);
  if (err == TM_SDP_OK)
    assert_round_trip(sdp);
  return err;
}

static gchar *
lines_of(const char *format, guint n)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < n; i++)
    g_string_append_printf(s, format, i, i);
  return g_string_free(s, FALSE);
}

static void
test_caps_counts(void)
{
  g_autofree gchar *media7 = lines_of("m=audio 9 RTP/AVP 0\r\na=mid:x%u\r\n", TM_SDP_MAX_MEDIA - 2);
  g_autofree gchar *media8 = lines_of("m=audio 9 RTP/AVP 0\r\na=mid:x%u\r\n", TM_SDP_MAX_MEDIA - 1);
  g_assert_cmpint(parse_with_lines("", media7), ==, TM_SDP_OK);
  g_assert_cmpint(parse_with_lines("", media8), ==, TM_SDP_ERR_TOO_MANY);

  GString *pts = g_string_new("m=video 9 RTP/AVP");
  for (guint i = 0; i < TM_SDP_MAX_CODECS; i++)
    g_string_append_printf(pts, " %u", i);
  g_autofree gchar *max_pts = g_strconcat(pts->str, "\r\n", NULL);
  g_string_append(pts, " 127\r\n");
  g_autofree gchar *over_pts = g_string_free(pts, FALSE);
  g_assert_cmpint(parse_with_lines("", max_pts), ==, TM_SDP_OK);
  g_assert_cmpint(parse_with_lines("", over_pts), ==, TM_SDP_ERR_TOO_MANY);

  g_autofree gchar *ssrcs4 = lines_of("a=ssrc:%u cname:c%u\r\n", TM_SDP_MAX_SSRCS);
  g_autofree gchar *ssrcs5 = lines_of("a=ssrc:%u cname:c%u\r\n", TM_SDP_MAX_SSRCS + 1);
  g_assert_cmpint(parse_with_lines("", ssrcs4), ==, TM_SDP_OK);
  g_assert_cmpint(parse_with_lines("", ssrcs5), ==, TM_SDP_ERR_TOO_MANY);

  const char *cand = "a=candidate:%u 1 udp 2122260223 127.0.0.1 4%04u typ host\r\n";
  g_autofree gchar *cands32 = lines_of(cand, TM_SDP_MAX_CANDIDATES);
  g_autofree gchar *cands33 = lines_of(cand, TM_SDP_MAX_CANDIDATES + 1);
  g_assert_cmpint(parse_with_lines("", cands32), ==, TM_SDP_OK);
  g_assert_cmpint(parse_with_lines("", cands33), ==, TM_SDP_ERR_TOO_MANY);

  g_assert_cmpint(parse_variant("BUNDLE 0 1", "BUNDLE 0 1 2 3 4 5 6 7"), ==, TM_SDP_OK);
  g_assert_cmpint(parse_variant("BUNDLE 0 1", "BUNDLE 0 1 2 3 4 5 6 7 8"), ==, TM_SDP_ERR_TOO_MANY);
}

/* Replaces VALUE in the minimal offer by N copies of C, then by N + 1 copies. */
static void
assert_string_cap(const char *prefix, const char *suffix, const char *old_line, gsize max)
{
  for (gsize n = max; n <= max + 1; n++) {
    g_autofree gchar *value = repeat('x', n);
    g_autofree gchar *line = g_strconcat(prefix, value, suffix, NULL);
    g_test_message("%s... (%" G_GSIZE_FORMAT " characters)", prefix, n);
    g_assert_cmpint(parse_variant(old_line, line), ==, n == max ? TM_SDP_OK : TM_SDP_ERR_TOO_LONG);
  }
}

static void
test_caps_strings(void)
{
  assert_string_cap("a=mid:", "\r\n", "a=mid:1\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=group:BUNDLE 0 ", "\r\n", "a=group:BUNDLE 0 1\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=rtpmap:97 ", "/90000\r\n", "a=rtpmap:97 rtx/90000\r\n",
                    TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=ssrc:1 cname:", "\r\n", "a=ssrc:1 cname:c\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=msid:", " track\r\n", "a=ssrc:1 cname:c\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=msid:stream ", "\r\n", "a=ssrc:1 cname:c\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=ssrc:1 msid:s ", "\r\n", "a=ssrc:1 cname:c\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=msid-semantic: ", "\r\n", "a=setup:actpass\r\n", TM_SDP_TOKEN_LEN - 1);
  assert_string_cap("a=ice-ufrag:", "\r\n", "a=ice-ufrag:abcd\r\n", TM_SDP_ICE_LEN - 1);
  assert_string_cap("a=ice-pwd:", "\r\n", "a=ice-pwd:0123456789abcdef012345\r\n",
                    TM_SDP_ICE_LEN - 1);
  assert_string_cap("a=fmtp:97 ", "\r\n", "a=fmtp:97 apt=96\r\n", TM_SDP_FMTP_LEN - 1);
  assert_string_cap("a=candidate:", "\r\n", "a=ssrc:1 cname:c\r\n",
                    TM_SDP_CANDIDATE_LEN - 1 - strlen("candidate:"));
  assert_string_cap("m=", " 9 RTP/AVP 0\r\n", "a=ssrc:1 cname:c\r\n", 15);
  assert_string_cap("m=audio 9 ", " 0\r\n", "a=ssrc:1 cname:c\r\n", 31);
  assert_string_cap("a=fingerprint:", " 00\r\n", "a=setup:actpass\r\n", 15); /* 2nd one */
}

static void
test_caps_size(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  gsize pad = TM_SDP_MAX_SIZE - strlen(minimal_offer) - strlen("a=x-pad:\r\n");
  g_autofree gchar *filler = repeat('p', pad);
  g_autofree gchar *text = g_strconcat(minimal_offer, "a=x-pad:", filler, "\r\n", NULL);
  g_assert_cmpuint(strlen(text), ==, TM_SDP_MAX_SIZE);
  g_assert_cmpint(parse_str(text, sdp), ==, TM_SDP_OK);
  g_autofree gchar *over = g_strconcat(text, "\n", NULL);
  g_assert_cmpint(parse_str(over, sdp), ==, TM_SDP_ERR_TOO_LARGE);
}

/* ---- numbers, syntax, fingerprints ---- */

static void
test_numbers(void)
{
  static const struct {
    const char *from, *to;
    TmSdpError expected;
  } cases[] = {
    { "m=audio 9 ", "m=audio 65535 ", TM_SDP_OK },
    { "m=audio 9 ", "m=audio 65536 ", TM_SDP_ERR_BAD_VALUE },
    { "m=audio 9 ", "m=audio -1 ", TM_SDP_ERR_BAD_VALUE },
    { "m=audio 9 ", "m=audio +9 ", TM_SDP_ERR_BAD_VALUE },
    { "m=audio 9 ", "m=audio 9/2 ", TM_SDP_ERR_BAD_VALUE },
    { "m=audio 9 ", "m=audio 99999999999999999999999 ", TM_SDP_ERR_BAD_VALUE },
    { "SAVPF 96 97", "SAVPF 96 127", TM_SDP_OK },
    { "SAVPF 96 97", "SAVPF 96 128", TM_SDP_ERR_BAD_VALUE },
    { "SAVPF 96 97", "SAVPF 96 9a", TM_SDP_ERR_BAD_VALUE },
    { "SAVPF 96 97", "SAVPF 96 96", TM_SDP_ERR_BAD_VALUE },
    { "a=rtpmap:97 rtx", "a=rtpmap:300 rtx", TM_SDP_ERR_BAD_VALUE },
    { "a=rtpmap:97 rtx", "a=rtpmap:-1 rtx", TM_SDP_ERR_BAD_VALUE },
    { "a=rtpmap:97 rtx", "a=rtpmap:100 rtx", TM_SDP_OK }, /* unlisted PT: checked, ignored */
    { "rtx/90000", "rtx/4294967295", TM_SDP_OK },
    { "rtx/90000", "rtx/4294967296", TM_SDP_ERR_BAD_VALUE },
    { "rtx/90000", "rtx/0", TM_SDP_ERR_BAD_VALUE },
    { "rtx/90000", "rtx", TM_SDP_ERR_BAD_VALUE },
    { "rtx/90000", "/90000", TM_SDP_ERR_BAD_VALUE },
    { "rtx/90000", "rtx/90000 extra", TM_SDP_ERR_BAD_VALUE },
    { "opus/48000/2", "opus/48000/255", TM_SDP_OK },
    { "opus/48000/2", "opus/48000/256", TM_SDP_ERR_BAD_VALUE },
    { "opus/48000/2", "opus/48000/0", TM_SDP_ERR_BAD_VALUE },
    { "opus/48000/2", "opus/48000/2/1", TM_SDP_ERR_BAD_VALUE },
    { "a=fmtp:97 apt", "a=fmtp:128 apt", TM_SDP_ERR_BAD_VALUE },
    { "a=rtcp-fb:96 nack pli", "a=rtcp-fb:x nack pli", TM_SDP_ERR_BAD_VALUE },
    { "a=ssrc:1 ", "a=ssrc:4294967295 ", TM_SDP_OK },
    { "a=ssrc:1 ", "a=ssrc:4294967296 ", TM_SDP_ERR_BAD_VALUE },
    { "a=ssrc:1 ", "a=ssrc:x ", TM_SDP_ERR_BAD_VALUE },
    { "o=- 1 2", "o=- 18446744073709551615 18446744073709551615", TM_SDP_OK },
    { "o=- 1 2", "o=- 18446744073709551616 2", TM_SDP_ERR_BAD_VALUE },
    { "o=- 1 2", "o=- 1 -2", TM_SDP_ERR_BAD_VALUE },
    { "v=0", "v=1", TM_SDP_ERR_BAD_VALUE },
    { "a=setup:actpass", "a=setup:holdconn", TM_SDP_ERR_BAD_VALUE },
    { "a=setup:actpass", "a=setup:", TM_SDP_ERR_BAD_VALUE },
    { "a=mid:1", "a=mid:0", TM_SDP_ERR_BAD_VALUE }, /* duplicate */
    { "a=mid:1", "a=mid:", TM_SDP_ERR_BAD_VALUE },
    { "a=mid:1", "a=mid:a b", TM_SDP_ERR_BAD_VALUE },
    { "a=ice-ufrag:abcd", "a=ice-ufrag:ab cd", TM_SDP_ERR_BAD_VALUE },
    { "a=ssrc:1 cname:c", "a=candidate:", TM_SDP_ERR_BAD_VALUE },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("%s -> %s", cases[i].from, cases[i].to);
    g_assert_cmpint(parse_variant(cases[i].from, cases[i].to), ==, cases[i].expected);
  }
}

static void
test_syntax(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  g_assert_cmpint(tm_sdp_parse("", 0, sdp), ==, TM_SDP_ERR_SYNTAX);
  g_assert_cmpint(tm_sdp_parse(NULL, 0, sdp), ==, TM_SDP_ERR_SYNTAX);
  g_assert_cmpint(parse_str("\r\n\r\n", sdp), ==, TM_SDP_ERR_SYNTAX);
  g_assert_cmpint(parse_str(minimal_offer + strlen("v=0\r\n"), sdp), ==, TM_SDP_ERR_SYNTAX);
  static const struct {
    const char *from, *to;
  } cases[] = {
    { "v=0\r\n", "s=-\r\nv=0\r\n" }, /* v= not first */
    { "s=-\r\n", "s=-\r\nv=0\r\n" }, /* v= twice */
    { "s=-\r\n", "garbage\r\n" },    /* not x=value */
    { "s=-\r\n", "S=-\r\n" },        /* type must be a lower-case letter */
    { "s=-\r\n", "=-\r\n" },
    { "s=-\r\n", "s\r\n" },
    { "s=-\r\n", "s=a\rb\r\n" },  /* bare CR */
    { "s=-\r\n", "s=a\x01\r\n" }, /* control character */
    { "s=-\r\n", "s=\x7f\r\n" },
    { "m=audio 9 UDP/TLS/RTP/SAVPF 111", "m=audio 9 UDP/TLS/RTP/SAVPF" }, /* no format */
    { "o=- 1 2 IN IP4 127.0.0.1", "o=- 1 2" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("%s", cases[i].to);
    g_assert_cmpint(parse_variant(cases[i].from, cases[i].to), ==, TM_SDP_ERR_SYNTAX);
  }
  /* NUL bytes inside the length */
  g_autofree gchar *copy = g_strdup(minimal_offer);
  copy[strstr(copy, "a=mid:0") - copy + 6] = '\0';
  g_assert_cmpint(tm_sdp_parse(copy, strlen(minimal_offer), sdp), ==, TM_SDP_ERR_SYNTAX);
  /* not NUL-terminated: only LEN bytes are read */
  gsize len = strlen(minimal_offer);
  g_autofree gchar *exact = g_memdup2(minimal_offer, len);
  g_assert_cmpint(tm_sdp_parse(exact, len, sdp), ==, TM_SDP_OK);
  /* tabs are ordinary characters; unknown line types and attributes are ignored */
  g_assert_cmpint(parse_variant("s=-\r\n", "s=\ttab\r\nz=0\r\nk=x\r\na=\r\na=x-y\r\n"), ==,
                  TM_SDP_OK);
}

/* Tabs separate tokens as spaces do. A token that was only a tab, or ended in one, came out at
 * the end of a serialized line, where parsing drops blanks: the round trip changed it (found by
 * fuzz-sdp; tests/fuzz/corpus/sdp/crash-tab-token). */
static void
test_tabs(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  g_autofree gchar *text = with_text(minimal_offer, "a=group:BUNDLE 0 1\r\n",
                                     "a=group:BUNDLE\t0\t 1\t x\r\n"
                                     "a=msid-semantic:\t W\t s\r\n");
  g_autofree gchar *media = with_text(text, "a=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n",
                                      "a=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
                                      "a=msid:\ts\tt\t u\r\n"
                                      "a=ssrc:7\tcname:\tc d\r\n");
  parse_ok(media, sdp);
  g_assert_cmpuint(sdp->n_bundle, ==, 3);
  g_assert_cmpstr(sdp->bundle[0], ==, "0");
  g_assert_cmpstr(sdp->bundle[1], ==, "1");
  g_assert_cmpstr(sdp->msid_semantic, ==, "W");
  g_assert_cmpstr(sdp->media[1].msid_stream, ==, "s");
  g_assert_cmpstr(sdp->media[1].msid_track, ==, "t");
  g_assert_cmpuint(sdp->media[1].ssrcs[0], ==, 7);
  g_assert_cmpstr(sdp->media[1].cname, ==, "\tc d"); /* the rest of the line */
  assert_round_trip(sdp);

  /* the input that found it: a tab-only msid-semantic token */
  g_autofree gchar *tab_only =
    with_text(minimal_offer, "a=setup:actpass\r\n", "a=setup:actpass\r\na=msid-semantic:\t W\r\n");
  parse_ok(tab_only, sdp);
  g_assert_cmpstr(sdp->msid_semantic, ==, "W");
  assert_round_trip(sdp);

  /* a value that must be one token still may not hold a blank */
  g_assert_cmpint(parse_variant("a=mid:0\r\n", "a=mid:0\t1\r\n"), ==, TM_SDP_ERR_BAD_VALUE);
  g_assert_cmpint(parse_variant("a=ice-ufrag:abcd", "a=ice-ufrag:ab\tcd"), ==,
                  TM_SDP_ERR_BAD_VALUE);
  g_assert_cmpint(parse_variant("a=mid:0\r\n", "a=mid:\t0\r\n"), ==, TM_SDP_OK);
}

static void
test_fingerprint(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  const char *fp = "84:F8:67:50:BC:DF:17:D2:79:42:9E:B3:A7:7F:32:49:70:E7:BB:80:88:B7:7F:76:22:"
                   "8C:45:7D:4E:9A:2C:6C";
  g_autofree gchar *lower = g_ascii_strdown(fp, -1);
  g_autofree gchar *with_lower = with_text(minimal_offer, fp, lower);
  parse_ok(with_lower, sdp);
  g_assert_cmphex(sdp->fingerprint[1], ==, 0xF8);
  g_autofree gchar *upper_alg = with_text(minimal_offer, "sha-256", "SHA-256");
  parse_ok(upper_alg, sdp);
  g_assert_cmpstr(sdp->fingerprint_alg, ==, "sha-256");

  static const struct {
    const char *value;
    TmSdpError expected;
  } cases[] = {
    { "sha-256 84:G8", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 8:F8", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 84F8", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 84:", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 :84", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 84::F8", TM_SDP_ERR_BAD_VALUE },
    { "sha-256", TM_SDP_ERR_BAD_VALUE },
    { "sha-256 84:F8", TM_SDP_ERR_BAD_VALUE }, /* 2 bytes for sha-256 */
    { "sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13", TM_SDP_OK },
    { "sha-1 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12", TM_SDP_ERR_BAD_VALUE },
    { "x-future-hash AB", TM_SDP_OK }, /* unknown: any length */
    { "a-very-long-name AB", TM_SDP_ERR_TOO_LONG },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *line = g_strdup_printf("a=fingerprint:%s\r\n", cases[i].value);
    g_autofree gchar *text = with_text(minimal_offer, "a=setup:actpass\r\n", line);
    g_autofree gchar *only = with_text(text, "a=fingerprint:sha-256", "a=x-fingerprint:sha-256");
    g_test_message("%s", line);
    g_assert_cmpint(parse_str(only, sdp), ==, cases[i].expected);
    if (cases[i].expected == TM_SDP_OK)
      assert_round_trip(sdp);
  }
  /* 64 bytes fit, 65 are too long */
  GString *hex = g_string_new("a=fingerprint:x-hash 00");
  for (guint i = 1; i < TM_SDP_FINGERPRINT_MAX; i++)
    g_string_append(hex, ":AB");
  g_string_append(hex, "\r\n");
  g_autofree gchar *max_line = g_strdup(hex->str);
  g_string_insert(hex, strlen("a=fingerprint:x-hash "), "CD:");
  g_autofree gchar *over_line = g_string_free(hex, FALSE);
  g_assert_cmpint(parse_variant("a=setup:actpass\r\n", max_line), ==, TM_SDP_OK);
  g_assert_cmpint(parse_variant("a=setup:actpass\r\n", over_line), ==, TM_SDP_ERR_TOO_LONG);
}

static void
test_strerror(void)
{
  for (int i = 0; i < TM_SDP_ERR_COUNT; i++) {
    const char *msg = tm_sdp_strerror((TmSdpError) i);
    g_assert_nonnull(msg);
    g_assert_cmpuint(strlen(msg), >, 20);
    for (int j = 0; j < i; j++)
      g_assert_cmpstr(msg, !=, tm_sdp_strerror((TmSdpError) j));
  }
  g_assert_nonnull(strstr(tm_sdp_strerror(TM_SDP_ERR_COUNT), "unknown"));
  g_assert_nonnull(strstr(tm_sdp_strerror((TmSdpError) -1), "unknown"));
  g_assert_nonnull(strstr(tm_sdp_strerror(TM_SDP_ERR_NO_RTCP_MUX), "rtcp-mux"));
}

static void
test_find_codec(void)
{
  g_autofree TmSdp *sdp = g_new0(TmSdp, 1);
  parse_ok(minimal_offer, sdp);
  g_assert_true(tm_sdp_media_find_codec(&sdp->media[1], "RTX") == &sdp->media[1].codecs[1]);
  g_assert_null(tm_sdp_media_find_codec(&sdp->media[1], "opus"));
  g_assert_null(tm_sdp_media_find_codec(&sdp->media[1], ""));
  g_assert_null(tm_sdp_media_find_codec(&sdp->media[1], "VP"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdp/parse/chromium-publish", test_parse_chromium_publish);
  g_test_add_func("/sdp/parse/chromium-subscribe", test_parse_chromium_subscribe);
  g_test_add_func("/sdp/parse/firefox", test_parse_firefox);
  g_test_add_func("/sdp/parse/webrtcbin", test_parse_webrtcbin);
  g_test_add_func("/sdp/parse/line-endings", test_parse_line_endings);
  g_test_add_func("/sdp/parse/session-defaults", test_parse_session_defaults);
  g_test_add_func("/sdp/parse/first-wins", test_parse_first_wins);
  g_test_add_func("/sdp/serialize/round-trip", test_round_trip);
  g_test_add_func("/sdp/serialize/canonical", test_serialize_canonical);
  g_test_add_func("/sdp/serialize/edges", test_serialize_edges);
  g_test_add_func("/sdp/answer/publish", test_answer_publish);
  g_test_add_func("/sdp/extmap", test_extmap);
  g_test_add_func("/sdp/answer/abs-send-time", test_answer_abs_send_time);
  g_test_add_func("/sdp/answer/webrtcbin-publish", test_answer_webrtcbin_publish);
  g_test_add_func("/sdp/answer/subscribe", test_answer_subscribe);
  g_test_add_func("/sdp/answer/red", test_answer_red);
  g_test_add_func("/sdp/answer/rtx", test_answer_rtx);
  g_test_add_func("/sdp/parse/ssrc-group", test_parse_ssrc_group);
  g_test_add_func("/sdp/codec-apt", test_codec_apt);
  g_test_add_func("/sdp/answer/codec-choice", test_answer_codec_choice);
  g_test_add_func("/sdp/answer/directions", test_answer_directions);
  g_test_add_func("/sdp/answer/bundle", test_answer_bundle);
  g_test_add_func("/sdp/answer/errors", test_answer_errors);
  g_test_add_func("/sdp/answer/params", test_answer_params);
  g_test_add_func("/sdp/caps/counts", test_caps_counts);
  g_test_add_func("/sdp/caps/strings", test_caps_strings);
  g_test_add_func("/sdp/caps/size", test_caps_size);
  g_test_add_func("/sdp/numbers", test_numbers);
  g_test_add_func("/sdp/syntax", test_syntax);
  g_test_add_func("/sdp/tabs", test_tabs);
  g_test_add_func("/sdp/fingerprint", test_fingerprint);
  g_test_add_func("/sdp/strerror", test_strerror);
  g_test_add_func("/sdp/find-codec", test_find_codec);
  return g_test_run();
}
