"""Output: tables, JSON, JSON lines, CSV and progress; styling only on a terminal."""
