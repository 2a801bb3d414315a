"""The optimizer: rewrite passes over the IR (see issue 3). Knows ``lazyir.ir`` only."""
