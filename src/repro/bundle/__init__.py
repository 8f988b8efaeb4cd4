"""The reproducibility bundle: profiles, results files and their figures, the claims ledger, the report, the
notebook runner and the drift checks of the committed results."""
