"""The integrity officer's pages (the register, cases) and the public decision list."""
