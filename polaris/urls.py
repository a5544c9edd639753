"""Mounts each SEP's URLs when it is in ACTIVE_SEPS."""

urlpatterns: list = []
