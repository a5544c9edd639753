"""A Stellar anchor as a Django app: the anchor SEPs plus a payment engine that moves money exactly once."""
