"""The papers' own numbers, as data (``paper_numbers.csv``), in one place."""
