"""The reproducibility bundle: profiles, results files and their figures, the claims ledger, the report and the
notebook runner."""
