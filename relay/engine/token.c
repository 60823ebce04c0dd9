/* token.c — placeholder until the module lands. */
