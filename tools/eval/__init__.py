"""`make eval`: run the golden set against a baseline and a candidate endpoint and check the acceptance thresholds
(see __main__.py); `make eval-local` does it against two fake backends on loopback (local.py)."""
