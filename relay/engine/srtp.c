/* srtp.c — placeholder until the module lands. */
