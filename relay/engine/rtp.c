/* rtp.c — placeholder until the module lands. */
