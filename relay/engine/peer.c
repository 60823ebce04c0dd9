/* peer.c — placeholder until the module lands. */
