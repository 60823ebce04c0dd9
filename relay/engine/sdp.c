/* sdp.c — placeholder until the module lands. */
