"""The organisation: regions (division codes, paths), USCC validation, the demo county."""
