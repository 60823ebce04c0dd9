/* role.c — placeholder until the module lands. */
