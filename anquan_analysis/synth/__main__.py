"""``python -m anquan_analysis.synth --output DIR``: write the demo district's files."""

from .files import main

if __name__ == "__main__":
    raise SystemExit(main())
