/* hearing.c — placeholder until the module lands. */
