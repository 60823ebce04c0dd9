/* message.c — placeholder until the module lands. */
