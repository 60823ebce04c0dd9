/* rtcp.c — placeholder until the module lands. */
