"""Serve: the marts to their readers: the HTML report, Parquet/CSV export, usage questions."""
