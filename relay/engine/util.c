/* util.c — placeholder until the module lands. */
