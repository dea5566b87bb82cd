"""The referral directory (issue 17): who can help, where. Service providers per operation,
the service-mapping sheet in and out, and the rules that match providers to the places and
tasks that need them (coverage gaps, "providers exist — check awareness and access",
details not verified for too long)."""
