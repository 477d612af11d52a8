"""Authentication: passwords, tokens, sessions, single sign-on."""
