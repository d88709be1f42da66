"""Spend less per turn without answering worse: chapter 11's compressor, caches, router,
ledger and the arithmetic behind the hybrid and ROI decisions."""
