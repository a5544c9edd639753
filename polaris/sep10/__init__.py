"""SEP-10 Stellar Web Authentication: the challenge/token endpoint and the auth layer other SEPs use."""
