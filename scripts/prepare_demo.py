"""Build the embedded demo corpus: clean State of the Union paragraphs plus tagged synthetic noise.

The pool mixes clean paragraphs with noise documents; the eval set holds clean paragraphs from
speeches that never enter the pool. With --reference, a trusted reference sample (for the model-
feedback methods) holds clean paragraphs from a third set of speeches, in neither pool nor eval.
Every record is {"text": ..., "meta": {"origin", "source"}}. The same seed and arguments give
byte-identical files.
"""

from __future__ import annotations

import sys

from sandbox.demo.corpus import main

if __name__ == "__main__":
    sys.exit(main())
