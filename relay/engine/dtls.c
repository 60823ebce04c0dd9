/* dtls.c — placeholder until the module lands. */
