"""The partner REST API, version 1 (/api/v1/): partner systems' clients make
referrals, follow them and work the cases shared with their agency."""
