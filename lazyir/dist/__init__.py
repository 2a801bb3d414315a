"""The runtime that partitions loops across threads and Dask workers (see issue 5)."""
